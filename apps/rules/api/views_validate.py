"""POST /api/rules/validate: the static read-only proof and the dynamic check of SQL or of a rule document."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.campaigns.selectors import campaign_get
from apps.core.api.permissions import ScopedRolePermission
from apps.core.api.serializers import ErrorResponse
from apps.rules.api.serializers_schema import ValidateInput, ValidateOutput
from apps.rules.selectors import source_schema_get
from apps.rules.services import campaign_schema_require, rules_validate

TAG = "Rules Engine"


class ValidateView(APIView):
    permission_classes = [ScopedRolePermission]
    required_scopes = {"read": "campaigns:read", "write": "campaigns:write"}

    @extend_schema(summary=_("Validate SQL or a rule document: read-only proof, EXPLAIN and a dry run"),
                   request=ValidateInput, responses={
                       200: ValidateOutput,
                       404: OpenApiResponse(ErrorResponse, description=_("No such schema or campaign.")),
                       409: OpenApiResponse(ErrorResponse, description=_("The campaign has no schema yet.")),
                       422: OpenApiResponse(ErrorResponse, description=_(
                           "The rule document is invalid or needs something the schema mapping does not have.")),
                   }, tags=[TAG])
    def post(self, request):  # type: ignore[no-untyped-def]
        data = ValidateInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        source_schema = None
        if body.get("campaign_id"):
            campaign = campaign_get(campaign_id=body["campaign_id"])
            if campaign is None:
                raise NotFound()
            source_schema = campaign_schema_require(campaign=campaign)
        elif body.get("source_schema_id"):
            source_schema = source_schema_get(source_schema_id=body["source_schema_id"])
            if source_schema is None:
                raise NotFound()
        result = rules_validate(sql=body.get("sql"), params=body.get("params"), document=body.get("document"),
                                source_schema=source_schema, dialect=body.get("dialect"), dynamic=body["dynamic"])
        queries, errors, warnings = [], [], [dict(w, query="compile") for w in result.compile_warnings]
        for name, sql, params, report in result.queries:
            errors += [issue.as_dict() | {"query": name} for issue in report.errors]
            warnings += [issue.as_dict() | {"query": name} for issue in report.warnings]
            queries.append({
                "name": name, "sql": sql, "params": params, "valid": report.ok,
                "errors": [i.as_dict() for i in report.errors], "warnings": [i.as_dict() for i in report.warnings],
                "tables": report.tables, "dynamic_checked": report.dynamic_checked, "explain": report.explain,
                "sample_columns": report.sample_columns, "sample_rows": report.sample_rows,
                "elapsed_ms": report.elapsed_ms,
            })
        return Response(ValidateOutput({"valid": result.valid, "errors": errors, "warnings": warnings,
                                        "queries": queries}).data)
