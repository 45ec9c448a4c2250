"""Back-office forms of the platform admin."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminEmailInputWidget, UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from apps.core.errors import ApplicationError
from apps.tenants.models import Client


class TenantProvisionForm(forms.Form):
    """Only shapes the input: the provisioning service owns every rule (slug format, reserved names,
    uniqueness) and its refusals are put back on the form by ``application_error_add``."""

    slug = forms.CharField(
        label=_("Slug"),
        max_length=40,
        help_text=_("2 to 40 lowercase letters or digits, starting with a letter. It names the schema and the "
                    "workspace address (<slug>.<platform domain>) and cannot be changed later."),
        widget=UnfoldAdminTextInputWidget(attrs={"autocomplete": "off", "autocapitalize": "none",
                                                 "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("Name"), max_length=200, widget=UnfoldAdminTextInputWidget)
    admin_email = forms.EmailField(
        label=_("Owner's email"),
        help_text=_("The tenant's first user, with the owner role. A password is generated and shown once."),
        widget=UnfoldAdminEmailInputWidget,
    )
    plan = forms.ChoiceField(label=_("Plan"), choices=Client.Plan.choices, initial=Client.Plan.FREE,
                             widget=UnfoldAdminSelectWidget)

    def application_error_add(self, error: ApplicationError) -> None:
        """Show a service refusal: its message on top, its per-field messages next to the fields."""
        self.add_error(None, error.message)
        for field, messages in error.fields.items():
            if field == "domain":
                # The domain derives from the slug; the service puts the host name, not a message, here.
                self.add_error("slug", error.message)
                continue
            target = field if field in self.fields else None
            for message in messages if isinstance(messages, list | tuple) else [messages]:
                self.add_error(target, str(message))
