"""Request and response bodies of the schema endpoints (analyze-schema, validate, campaign schema)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.rules.schema_analysis import CONCEPTS, LOGICAL_STATUSES
from apps.rules.schema_ingest import DDL_DIALECTS
from apps.rules.schema_services import SOURCE_KINDS

MAX_DDL_CHARS = 1_000_000
MAX_SQL_CHARS = 100_000
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class SchemaSourceInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SOURCE_KINDS, help_text=_(
        "ddl: SQL CREATE TABLE statements; json: a JSON description; connection: introspect a live "
        "PostgreSQL or MySQL/MariaDB database (read-only)."))
    dialect = serializers.ChoiceField(choices=DDL_DIALECTS, required=False, help_text=_(
        "SQL dialect of the DDL (postgres, mysql, tsql, oracle, sqlite)."))
    ddl = serializers.CharField(required=False, max_length=MAX_DDL_CHARS, trim_whitespace=False)
    schema = serializers.JSONField(required=False, help_text=_(
        '{"tables": [{"name", "columns": [{"name", "type"}], "primary_key": [...], "foreign_keys": '
        '[{"columns", "ref_table", "ref_columns"}]}]}'))
    url = serializers.CharField(required=False, max_length=2000, help_text=_(
        "postgresql://user:password@host:5432/database or mysql://user:password@host:3306/database. "
        "Stored encrypted; used only for read-only introspection and dry runs."))
    language = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False, help_text=_(
        "Language of the feedback; defaults to the request's language."))

    def validate(self, attrs: dict) -> dict:
        needed = {"ddl": "ddl", "json": "schema", "connection": "url"}[attrs["kind"]]
        if attrs.get(needed) in (None, ""):
            raise serializers.ValidationError({needed: [_("This field is required for this kind of schema.")]})
        if attrs["kind"] == "ddl" and not attrs.get("dialect"):
            raise serializers.ValidationError({"dialect": [_("Say which SQL dialect the DDL is written in.")]})
        return attrs


class ConceptOutput(serializers.Serializer):
    table = serializers.CharField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    expression = serializers.CharField(allow_null=True)
    confidence = serializers.FloatField()
    values = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), help_text=_(
        "order_status only: which raw values mean completed, cancelled and returned."))
    candidates = serializers.ListField(child=serializers.DictField(), help_text=_("Other plausible columns."))
    corrected_by_admin = serializers.BooleanField()


class JoinOutput(serializers.Serializer):
    # "from" is a Python keyword, so the fields are declared here rather than as class attributes.
    def get_fields(self) -> dict:
        return {
            "from": serializers.CharField(help_text=_("table.column holding the reference")),
            "to": serializers.CharField(help_text=_("table.column referenced")),
            "declared": serializers.BooleanField(help_text=_("A declared foreign key (else inferred).")),
            "confidence": serializers.FloatField(),
        }


class JoinInput(serializers.Serializer):
    def get_fields(self) -> dict:
        return {"from": serializers.CharField(max_length=600), "to": serializers.CharField(max_length=600)}


class SchemaAnalysisOutput(serializers.Serializer):
    source_schema_id = serializers.UUIDField()
    format = serializers.CharField()
    dialect = serializers.CharField()
    tables = serializers.ListField(child=serializers.CharField())
    shape = serializers.ChoiceField(choices=("normalised", "denormalised"))
    score = serializers.FloatField(help_text=_("Schema understanding score, 0 to 1."))
    feedback = serializers.CharField(help_text=_("What was understood, what is unsure or missing."))
    questions = serializers.ListField(child=serializers.CharField())
    concepts = serializers.DictField(child=ConceptOutput())
    joins = JoinOutput(many=True)
    language = serializers.CharField()


class CorrectionInput(serializers.Serializer):
    concept = serializers.ChoiceField(choices=CONCEPTS)
    table = serializers.CharField(max_length=255, allow_null=True, required=False)
    column = serializers.CharField(max_length=255, allow_null=True, required=False)
    expression = serializers.ChoiceField(choices=["quantity * unit_price"], allow_null=True, required=False)
    values = serializers.DictField(child=serializers.ListField(child=serializers.CharField(max_length=200),
                                                               max_length=50), required=False, help_text=_(
        "order_status: {\"cancelled\": [...], \"returned\": [...], \"completed\": [...]}"))

    def validate_values(self, value: dict) -> dict:
        unknown = set(value) - set(LOGICAL_STATUSES)
        if unknown:
            raise serializers.ValidationError(_("Unknown statuses: %(names)s.") % {"names": ", ".join(sorted(unknown))})
        return value


class SchemaFeedbackInput(serializers.Serializer):
    corrections = CorrectionInput(many=True, required=False, default=list)
    joins = JoinInput(many=True, required=False, default=list)
    language = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("corrections") and not attrs.get("joins"):
            raise serializers.ValidationError({"corrections": [_("Send at least one correction or join.")]})
        concepts = [c["concept"] for c in attrs.get("corrections", [])]
        if len(concepts) != len(set(concepts)):
            raise serializers.ValidationError({"corrections": [_("Each concept may be corrected once.")]})
        return attrs


class ValidateInput(serializers.Serializer):
    sql = serializers.CharField(required=False, max_length=MAX_SQL_CHARS, trim_whitespace=False)
    params = serializers.ListField(child=serializers.JSONField(), required=False, default=list, max_length=1000)
    document = serializers.JSONField(required=False, help_text=_("A rule document: its compiled queries are checked."))
    source_schema_id = serializers.UUIDField(required=False)
    campaign_id = serializers.UUIDField(required=False)
    dialect = serializers.ChoiceField(choices=DDL_DIALECTS, required=False, help_text=_(
        "SQL dialect of the SQL (default: the schema's). Rule documents compile for postgres, mysql, tsql, sqlite."))
    dynamic = serializers.BooleanField(default=True, help_text=_(
        "Also EXPLAIN and dry-run the SQL on the source database (when the schema was introspected from one)."))

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("sql")) == ("document" in attrs):
            raise serializers.ValidationError({"sql": [_("Send either sql or a rule document.")]})
        if "document" in attrs and not (attrs.get("source_schema_id") or attrs.get("campaign_id")):
            raise serializers.ValidationError({"source_schema_id": [_("A rule document needs a schema.")]})
        if attrs.get("source_schema_id") and attrs.get("campaign_id"):
            raise serializers.ValidationError({"campaign_id": [_("Send either source_schema_id or campaign_id.")]})
        return attrs


class IssueOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    query = serializers.CharField(required=False)


class ValidatedQueryOutput(serializers.Serializer):
    name = serializers.CharField()
    sql = serializers.CharField()
    params = serializers.ListField(child=serializers.JSONField())
    valid = serializers.BooleanField()
    errors = IssueOutput(many=True)
    warnings = IssueOutput(many=True)
    tables = serializers.ListField(child=serializers.CharField())
    dynamic_checked = serializers.BooleanField()
    explain = serializers.ListField(child=serializers.CharField())
    sample_columns = serializers.ListField(child=serializers.CharField())
    sample_rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()))
    elapsed_ms = serializers.IntegerField(allow_null=True)


class ValidateOutput(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = IssueOutput(many=True)
    warnings = IssueOutput(many=True)
    queries = ValidatedQueryOutput(many=True)
