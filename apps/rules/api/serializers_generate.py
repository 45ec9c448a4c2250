"""Request and response bodies of /api/rules/generate, /api/rules/generate-code and /api/rules/schema."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.rules.document import LANGUAGES
from apps.rules.nl_parse import MAX_TEXT_LENGTH
from apps.rules.sql_compile import DIALECTS

DOCUMENT_HELP = _("A rule document (version 1); its JSON Schema is served at GET /api/rules/schema.")


class DocumentErrorOutput(serializers.Serializer):
    path = serializers.CharField(help_text=_("JSON path of the value, e.g. $.goals[0].target"))
    code = serializers.CharField()
    message = serializers.CharField()


class WarningOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    question = serializers.CharField(allow_null=True)


class GenerateInput(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_TEXT_LENGTH, help_text=_(
        "The campaign in natural language (English, Portuguese or Spanish)."))
    language = serializers.ChoiceField(choices=LANGUAGES, required=False, help_text=_(
        "Language of the text; detected when not given."))
    campaign_id = serializers.UUIDField(required=False, help_text=_(
        "A campaign: its schema mapping is used, and its name, currency and dates fill what the text leaves out."))
    source_schema_id = serializers.UUIDField(required=False, help_text=_(
        "A source schema whose mapping says which conditions the customer's data can support."))
    use_ai = serializers.BooleanField(required=False, allow_null=True, default=None, help_text=_(
        "null: Claude when an API key is configured; false: the deterministic parser only; true: Claude "
        "(the deterministic parser still answers without a key, saying so)."))

    def validate(self, attrs: dict) -> dict:
        if attrs.get("campaign_id") and attrs.get("source_schema_id"):
            raise serializers.ValidationError({"campaign_id": [_("Send either source_schema_id or campaign_id.")]})
        return attrs


class GenerateOutput(serializers.Serializer):
    document = serializers.JSONField(help_text=DOCUMENT_HELP)
    valid = serializers.BooleanField(help_text=_("False while the document is incomplete: see errors."))
    errors = DocumentErrorOutput(many=True)
    warnings = WarningOutput(many=True, help_text=_("What the text left open; the same as document.warnings."))
    questions = serializers.ListField(child=serializers.CharField(), help_text=_(
        "The questions that would resolve the warnings, in the text's language."))
    language = serializers.ChoiceField(choices=LANGUAGES)
    method = serializers.ChoiceField(choices=["deterministic", "claude"])
    fallback_reason = serializers.CharField(allow_null=True, help_text=_(
        "Why the deterministic parser answered: no_api_key, api_error or invalid_answer; null otherwise."))
    cached = serializers.BooleanField()
    model = serializers.CharField(allow_null=True)


class GenerateCodeInput(serializers.Serializer):
    document = serializers.JSONField(help_text=DOCUMENT_HELP)
    campaign_id = serializers.UUIDField(required=False)
    source_schema_id = serializers.UUIDField(required=False)
    dialect = serializers.ChoiceField(choices=DIALECTS, required=False, help_text=_(
        "SQL dialect to generate; defaults to the source schema's."))
    language = serializers.ChoiceField(choices=LANGUAGES, required=False, help_text=_(
        "Language of the explanation; defaults to the request's language."))

    def validate_document(self, value: object) -> object:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Must be a JSON object."))
        return value

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("campaign_id")) == bool(attrs.get("source_schema_id")):
            raise serializers.ValidationError({"source_schema_id": [
                _("Send either source_schema_id or campaign_id.")]})
        return attrs


class CompiledQueryOutput(serializers.Serializer):
    sql = serializers.CharField(help_text=_("One read-only SELECT; values are placeholders."))
    params = serializers.ListField(child=serializers.JSONField(), help_text=_("The bound values, in order."))
    dialect = serializers.CharField()
    paramstyle = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    tables = serializers.ListField(child=serializers.CharField())


class CompiledCampaignOutput(serializers.Serializer):
    participants = CompiledQueryOutput(help_text=_("One row per participant: attained, percent, points, eligibility."))
    preview = CompiledQueryOutput(help_text=_("Sample eligible order lines."))
    regions = CompiledQueryOutput(allow_null=True)
    company = CompiledQueryOutput(allow_null=True)
    warnings = serializers.ListField(child=serializers.DictField())


class ExplanationSectionsOutput(serializers.Serializer):
    goals = serializers.ListField(child=serializers.CharField())
    eligibility = serializers.ListField(child=serializers.CharField())
    prizes = serializers.ListField(child=serializers.CharField())
    caps = serializers.ListField(child=serializers.CharField())
    questions = serializers.ListField(child=serializers.CharField())


class ExplanationOutput(serializers.Serializer):
    language = serializers.CharField()
    summary = serializers.CharField()
    sections = ExplanationSectionsOutput()
    text = serializers.CharField()


class AccrualOfferOutput(serializers.Serializer):
    goal_id = serializers.CharField()
    at_percent = serializers.IntegerField()
    per_unit = serializers.DictField(required=False)
    body = serializers.DictField(help_text=_("The TLP offer body: offerType, offerSubtype, name, points, "
                                             "pointType, minimumSpend, ..."))


class RedemptionOfferOutput(serializers.Serializer):
    prize_id = serializers.CharField()
    body = serializers.DictField(help_text=_("The TLP offer body: offerType redemption, offerSubtype product, "
                                             "points, pointType, imageUrl, ..."))


class ActionPlanOutput(serializers.Serializer):
    point_type = serializers.DictField(help_text=_("The TLP point type body: name, description, rank, enabled, "
                                                   "options.showZeroPointBalance, code."))
    accrual_offers = AccrualOfferOutput(many=True)
    redemption_offers = RedemptionOfferOutput(many=True)


class GenerateCodeOutput(serializers.Serializer):
    sql = CompiledCampaignOutput()
    explanation = ExplanationOutput()
    action_plan = ActionPlanOutput()
