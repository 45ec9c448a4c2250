"""Schema endpoints: analyse a sales schema, and a campaign's schema with the admin's feedback."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.campaigns.models import Campaign
from apps.campaigns.selectors import campaign_get
from apps.core.api.permissions import ScopedRolePermission
from apps.core.api.serializers import ErrorResponse
from apps.rules.api.serializers_schema import SchemaAnalysisOutput, SchemaFeedbackInput, SchemaSourceInput
from apps.rules.models import SourceSchema
from apps.rules.selectors import schema_analysis_get
from apps.rules.services import (
    campaign_schema_require,
    campaign_schema_upload,
    schema_feedback_apply,
    schema_mapping_analyse,
    source_schema_ingest,
)

RULES_TAG = "Rules Engine"
SCHEMA_TAG = "Campaign Schema"
SCOPES = {"read": "campaigns:read", "write": "campaigns:write"}


def request_language(request: Any, data: dict[str, Any] | None = None) -> str:
    """The admin's language: an explicit ``language`` in the body or query, else the signed-in user's
    preferred language (also for token authentication, which the locale middleware does not see) unless a
    language was chosen for the session, else the request's."""
    if data and data.get("language"):
        return data["language"]
    user = getattr(request, "user", None)
    current = translation.get_language() or "en"
    if (user is not None and user.is_authenticated and getattr(user, "preferred_language", None)
            and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        current = user.preferred_language
    current = current.lower()
    return "pt-br" if current.startswith("pt") else "es" if current.startswith("es") else "en"


def analysis_output(source_schema: SourceSchema, analysis: dict[str, Any]) -> dict[str, Any]:
    concepts = {
        name: {key: entry.get(key) for key in ("table", "column", "expression", "confidence", "candidates",
                                                "corrected_by_admin")} | {"values": entry.get("values") or {}}
        for name, entry in analysis["concepts"].items()
    }
    joins = [{"from": j["from"], "to": j["to"], "declared": j["declared"], "confidence": j["confidence"]}
             for j in analysis["joins"]]
    return SchemaAnalysisOutput({
        "source_schema_id": source_schema.pk, "format": source_schema.format, "dialect": source_schema.dialect,
        "tables": source_schema.table_names, "shape": analysis["shape"], "score": analysis["score"],
        "feedback": analysis["feedback"], "questions": analysis["questions"], "concepts": concepts, "joins": joins,
        "language": analysis["language"],
    }).data


class _SchemaView(APIView):
    permission_classes = [ScopedRolePermission]
    required_scopes = SCOPES

    def _campaign(self, campaign_id: str) -> Campaign:
        campaign = campaign_get(campaign_id=campaign_id)
        if campaign is None:
            raise NotFound()
        return campaign


class AnalyzeSchemaView(_SchemaView):
    @extend_schema(summary=_("Analyse a sales database schema (DDL, JSON or a live connection)"),
                   request=SchemaSourceInput, responses={201: SchemaAnalysisOutput}, tags=[RULES_TAG])
    def post(self, request):  # type: ignore[no-untyped-def]
        data = SchemaSourceInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        source_schema = source_schema_ingest(kind=body["kind"], dialect=body.get("dialect"), ddl=body.get("ddl"),
                                             description=body.get("schema"), url=body.get("url"),
                                             created_by=request.user if request.user.is_authenticated else None)
        analysis = schema_mapping_analyse(source_schema=source_schema, language=request_language(request, body))
        return Response(analysis_output(source_schema, analysis), status=status.HTTP_201_CREATED)


class CampaignSchemaView(_SchemaView):
    @extend_schema(summary=_("Get the campaign's schema analysis (feedback in the request's language)"),
                   responses={200: SchemaAnalysisOutput}, tags=[SCHEMA_TAG])
    def get(self, request, campaign_id: str):  # type: ignore[no-untyped-def]
        campaign = self._campaign(campaign_id)
        if campaign.source_schema is None:
            raise NotFound(_("This campaign has no schema yet."))
        source_schema = campaign.source_schema
        analysis = schema_analysis_get(source_schema=source_schema,
                                       language=request_language(request, request.query_params))
        return Response(analysis_output(source_schema, analysis))

    @extend_schema(summary=_("Upload the campaign's sales schema and analyse it"), request=SchemaSourceInput,
                   responses={201: SchemaAnalysisOutput}, tags=[SCHEMA_TAG])
    def post(self, request, campaign_id: str):  # type: ignore[no-untyped-def]
        campaign = self._campaign(campaign_id)
        data = SchemaSourceInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        source_schema, analysis = campaign_schema_upload(
            campaign=campaign, kind=body["kind"], dialect=body.get("dialect"), ddl=body.get("ddl"),
            description=body.get("schema"), url=body.get("url"), language=request_language(request, body),
            user=request.user)
        return Response(analysis_output(source_schema, analysis), status=status.HTTP_201_CREATED)


class CampaignSchemaFeedbackView(_SchemaView):
    @extend_schema(summary=_("Correct the campaign's schema mapping; the analysis is redone and the score updated"),
                   request=SchemaFeedbackInput, responses={
                       200: SchemaAnalysisOutput,
                       409: OpenApiResponse(ErrorResponse, description=_("The campaign has no schema yet.")),
                   }, tags=[SCHEMA_TAG])
    def post(self, request, campaign_id: str):  # type: ignore[no-untyped-def]
        campaign = self._campaign(campaign_id)
        data = SchemaFeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        source_schema = campaign_schema_require(campaign=campaign)
        corrections = {c["concept"]: {k: c.get(k) for k in ("table", "column", "expression", "values")}
                       for c in body["corrections"]}
        analysis = schema_feedback_apply(source_schema=source_schema, corrections=corrections, joins=body["joins"],
                                         language=request_language(request, body), user=request.user)
        return Response(analysis_output(source_schema, analysis))
