"""Platform back-office pages that are not plain model admin (served inside the platform admin site)."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from unfold.views import UnfoldModelAdminViewMixin

from apps.core.errors import ApplicationError
from apps.tenants.forms import TenantProvisionForm
from apps.tenants.services import tenant_provision

logger = logging.getLogger(__name__)


class TenantProvisionView(UnfoldModelAdminViewMixin, FormView):
    """Provision a tenant (schema, domain, owner) and show the owner's generated password once.

    The password is rendered in the POST response itself, never stored in the session or in a message,
    and the page is marked no-store so the browser does not keep it either.
    """

    title = _("Provision a tenant")
    permission_required = ("tenants.add_client",)
    template_name = "tenants/admin/provision.html"
    form_class = TenantProvisionForm

    def form_valid(self, form: TenantProvisionForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            provisioned = tenant_provision(
                slug=data["slug"], name=data["name"], admin_email=data["admin_email"], plan=data["plan"]
            )
        except ApplicationError as error:
            form.application_error_add(error)
            return self.form_invalid(form)
        self.model_admin.log_addition(self.request, provisioned.tenant,
                                      gettext("Provisioned with owner %(email)s.") % {"email": provisioned.admin_email})
        logger.info("tenant provisioned", extra={"slug": provisioned.tenant.schema_name,
                                                 "by_user_id": str(self.request.user.pk)})
        response = self.render_to_response(self.get_context_data(form=self.form_class(), provisioned=provisioned))
        add_never_cache_headers(response)
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["opts"] = self.model_admin.model._meta
        return context
