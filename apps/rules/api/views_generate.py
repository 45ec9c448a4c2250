"""POST /api/rules/generate, POST /api/rules/generate-code and GET /api/rules/schema (thin: services decide)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.campaigns.selectors import campaign_get
from apps.core.api.permissions import ScopedRolePermission
from apps.core.api.serializers import ErrorResponse
from apps.core.errors import ConflictError
from apps.rules.api.serializers_generate import GenerateCodeInput, GenerateCodeOutput, GenerateInput, GenerateOutput
from apps.rules.document import rule_document_schema
from apps.rules.models import SourceSchema
from apps.rules.nl_parse import language_normalize
from apps.rules.selectors import schema_mapping_dict, source_schema_get
from apps.rules.services import campaign_schema_require, rule_code_generate, rule_document_from_text

TAG = "Rules Engine"


class RulesView(APIView):
    permission_classes = [ScopedRolePermission]
    required_scopes = {"read": "campaigns:read", "write": "campaigns:write"}


def _source_schema(body: dict[str, Any]) -> tuple[SourceSchema | None, Any]:
    """The schema (and campaign) the request names; 404 when it names one this tenant does not have."""
    if body.get("campaign_id"):
        campaign = campaign_get(campaign_id=body["campaign_id"])
        if campaign is None:
            raise NotFound()
        return campaign.source_schema, campaign
    if body.get("source_schema_id"):
        source_schema = source_schema_get(source_schema_id=body["source_schema_id"])
        if source_schema is None:
            raise NotFound()
        return source_schema, None
    return None, None


class RuleDocumentSchemaView(RulesView):
    @extend_schema(summary=_("The rule document's JSON Schema (draft 2020-12)"), request=None,
                   responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=_("The JSON Schema."))},
                   tags=[TAG])
    def get(self, request):  # type: ignore[no-untyped-def]
        return Response(rule_document_schema())


class GenerateView(RulesView):
    @extend_schema(
        summary=_("Turn campaign text (en, pt, es) into a rule document, with warnings and questions"),
        request=GenerateInput, responses={200: GenerateOutput}, tags=[TAG],
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = GenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        source_schema, campaign = _source_schema(body)
        defaults = None
        if campaign is not None:
            defaults = {"name": campaign.name, "currency": campaign.currency,
                        "period": {"start": campaign.start_date.isoformat(), "end": campaign.end_date.isoformat()}}
        mapping = schema_mapping_dict(source_schema=source_schema) if source_schema is not None else None
        result = rule_document_from_text(text=body["text"], language=body.get("language"), schema_mapping=mapping,
                                         use_ai=body.get("use_ai"), defaults=defaults, user=request.user)
        return Response(GenerateOutput({
            "document": result.document, "valid": result.valid, "errors": [e.as_dict() for e in result.errors],
            "warnings": result.warnings, "questions": result.questions, "language": result.language,
            "method": result.method, "fallback_reason": result.fallback_reason, "cached": result.cached,
            "model": result.model,
        }).data)


class GenerateCodeView(RulesView):
    @extend_schema(
        summary=_("Compile a rule document into read-only SQL, explain it and plan its TLP offers"),
        request=GenerateCodeInput,
        responses={
            200: GenerateCodeOutput,
            409: OpenApiResponse(ErrorResponse, description=_("The campaign has no analysed schema yet.")),
            422: OpenApiResponse(ErrorResponse, description=_(
                "The rule document is invalid (error.fields by JSON path) or needs what the schema lacks.")),
        },
        tags=[TAG],
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = GenerateCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        source_schema, campaign = _source_schema(body)
        if campaign is not None:
            source_schema = campaign_schema_require(campaign=campaign)
        mapping = schema_mapping_dict(source_schema=source_schema)
        if mapping is None:
            raise ConflictError(_("Compiling rules needs an analysed schema."), code="schema_missing")
        language = body.get("language") or language_normalize(get_language()) or "en"
        code = rule_code_generate(document=body["document"], schema_mapping=mapping,
                                  dialect=body.get("dialect") or source_schema.dialect, language=language,
                                  definition=source_schema.definition)
        return Response(GenerateCodeOutput({"sql": code.compiled.as_dict(), "explanation": code.explanation,
                                            "action_plan": code.action_plan}).data)
