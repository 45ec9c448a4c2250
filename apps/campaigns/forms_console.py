"""Forms of the admin campaign console: one per wizard step, plus the approval comment. They validate input
only; the services decide (their ``ApplicationError`` fields are put next to the form's fields by
``form_error_apply``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.campaigns.models import Campaign
from apps.campaigns.selectors_console import SchemaView
from apps.core.errors import ApplicationError
from apps.rules.models import SourceSchema
from apps.rules.nl_parse import MAX_TEXT_LENGTH
from apps.rules.schema_analysis import LOGICAL_STATUSES

SECTION_MAX_LENGTH = MAX_TEXT_LENGTH // 3
NOT_IN_DATA = "__none__"


def form_error_apply(form: forms.Form, exc: ApplicationError, *, aliases: dict[str, str] | None = None) -> None:
    """Show a service's refusal on ``form``: each of its fields' messages next to the matching form field
    (``aliases`` renames service fields), the rest and the message itself above the form."""
    form.add_error(None, exc.message)
    for name, messages in (exc.fields or {}).items():
        target = (aliases or {}).get(name, name)
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            if target in form.fields:
                form.add_error(target, str(message))
            elif str(message) != exc.message:
                form.add_error(None, f"{name}: {message}")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class CampaignDetailsForm(forms.Form):
    name = forms.CharField(label=_("Campaign name"), max_length=255)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    end_date = forms.DateField(label=_("End date"), widget=DateInput())
    language = forms.ChoiceField(label=_("Campaign language"), choices=settings.LANGUAGES, help_text=_(
        "The language the goals, eligibility and prizes are written in."))
    currency = forms.ChoiceField(label=_("Currency"), choices=Campaign.Currency.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The campaign cannot end before it starts."))
        return data


SECTION_TEXT = {
    "goals": {
        "label": _("Goals"),
        "help": _("The individual and regional goals with their currency and the points each pays, e.g. "
                  "“Individual goal: R$ 50,000 in Premium Line sales; reaching it earns 50,000 points.”"),
        "required": True,
    },
    "eligibility": {
        "label": _("Eligibility"),
        "help": _("Who takes part and which sales count, e.g. “Salespeople must be actively employed until the "
                  "last day. Cancelled or returned sales are not eligible.”"),
        "required": False,
    },
    "prizes": {
        "label": _("Prizes"),
        "help": _("What participants can redeem their points for, e.g. “50,000 points: a vacation to Cabo; "
                  "100,000 points: concert tickets.”"),
        "required": False,
    },
}


class CampaignTextForm(forms.Form):
    """One of the three campaign texts, in natural language (English, Portuguese or Spanish)."""

    text = forms.CharField(max_length=SECTION_MAX_LENGTH, strip=True,
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true"}))

    def __init__(self, *args: Any, section: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = SECTION_TEXT[section]
        field = self.fields["text"]
        field.label, field.help_text, field.required = spec["label"], spec["help"], spec["required"]
        if spec["required"]:
            field.error_messages["required"] = _("Write the campaign's goals: the rules engine needs at least one.")


class SchemaUploadForm(forms.Form):
    file = forms.FileField(label=_("Schema file (SQL DDL or JSON)"), required=False)
    dialect = forms.ChoiceField(label=_("SQL dialect of the DDL"), choices=SourceSchema.Dialect.choices,
                                initial=SourceSchema.Dialect.POSTGRES)
    url = forms.CharField(label=_("Or the database's URL"), required=False, max_length=2000,
                          help_text=_("postgresql://user:password@host:5432/database or mysql://…: the schema is "
                                      "read from it, read-only."),
                          widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("file") and not data.get("url"):
            self.add_error("file", _("Choose or drop a file, or fill in the URL below."))
        return data


class SchemaCorrectionForm(forms.Form):
    """Corrections of the schema mapping: per concept, another column or “not in my data”; the values of the
    order status; one join the analysis missed."""

    join_from = forms.ChoiceField(label=_("Join from column"), required=False)
    join_to = forms.ChoiceField(label=_("to column"), required=False)

    def __init__(self, *args: Any, schema: SchemaView, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema
        columns = [(column, column) for column in schema.columns]
        for row in schema.concepts:
            self.fields[f"concept_{row['concept']}"] = forms.ChoiceField(
                label=row["label"], required=False,
                choices=[("", gettext("Keep: %(where)s") % {"where": row["where"] or gettext("not found")}),
                         (NOT_IN_DATA, gettext("Not in my data")), *columns])
        for logical in LOGICAL_STATUSES if schema.status_values else ():
            self.fields[f"status_{logical}"] = forms.CharField(
                required=False, max_length=1000, initial=schema.status_values.get(logical, ""),
                help_text=_("Values separated by commas."))
        self.fields["join_from"].choices = [("", "—"), *columns]
        self.fields["join_to"].choices = [("", "—"), *columns]

    def concept_rows(self) -> list[tuple[dict[str, Any], forms.BoundField]]:
        return [(row, self[f"concept_{row['concept']}"]) for row in self.schema.concepts]

    def status_fields(self) -> list[forms.BoundField]:
        return [self[f"status_{logical}"] for logical in LOGICAL_STATUSES if f"status_{logical}" in self.fields]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("join_from")) != bool(data.get("join_to")):
            self.add_error("join_to", _("Choose both columns of the join."))
        return data

    def corrections(self) -> dict[str, dict[str, Any]]:
        """The concepts the admin set or confirmed, in the feedback service's shape (concept -> table/column/values)."""
        result: dict[str, dict[str, Any]] = {}
        for row in self.schema.concepts:
            choice = self.cleaned_data.get(f"concept_{row['concept']}")
            if choice == NOT_IN_DATA:
                result[row["concept"]] = {"table": None, "column": None}
            elif choice:  # another column, or the same one confirmed (the analysis may have been unsure)
                table, _dot, column = choice.rpartition(".")
                result[row["concept"]] = {"table": table, "column": column}
        values = {logical: [value.strip() for value in (self.cleaned_data.get(f"status_{logical}") or "").split(",")
                            if value.strip()] for logical in LOGICAL_STATUSES if f"status_{logical}" in self.fields}
        initial = {logical: [value.strip() for value in self.schema.status_values.get(logical, "").split(",")
                             if value.strip()] for logical in values}
        unmapped = result.get("order_status") == {"table": None, "column": None}  # "not in my data": no values
        if values and values != initial and not unmapped:
            result.setdefault("order_status", {"table": None, "column": None})["values"] = values
        return result

    def joins(self) -> list[dict[str, str]]:
        if self.cleaned_data.get("join_from") and self.cleaned_data.get("join_to"):
            return [{"from": self.cleaned_data["join_from"], "to": self.cleaned_data["join_to"]}]
        return []


class TlpConfigureForm(forms.Form):
    endpoint_url = forms.CharField(label=_("TLP API endpoint URL"), max_length=500,
                                   widget=forms.URLInput(attrs={"autocomplete": "off"}))
    api_key = forms.CharField(label=_("TLP API key"), max_length=500,
                              widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
                              help_text=_("Checked against TLP before it is saved; stored encrypted."))


class ConnectionForm(forms.Form):
    url = forms.CharField(label=_("Database URL"), max_length=2000,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                          help_text=_("postgresql://user:password@host:5432/database or mysql://user:password@host/"
                                      "database. It is tried (a read-only SELECT 1) before it is saved, stored "
                                      "encrypted and never shown again."))


class ApproveForm(forms.Form):
    comment = forms.CharField(label=_("Approval comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
