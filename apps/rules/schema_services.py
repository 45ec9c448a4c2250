"""Writes of the schema side of the rules engine: ingest a schema, analyse it, apply admin feedback, attach
it to a campaign, validate SQL against it. Re-exported by ``apps.rules.services``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.crypto import DecryptionError, secret_decrypt, secret_encrypt
from apps.core.errors import ApplicationError, ConflictError
from apps.rules.models import ConceptMapping, SchemaMapping, SourceSchema
from apps.rules.schema_analysis import corrections_validate, joins_validate, schema_analyse
from apps.rules.schema_ingest import schema_from_ddl, schema_from_json, schema_introspect
from apps.rules.selectors import mapped_tables, schema_corrections, schema_mapping_dict
from apps.rules.source_db import SourceDatabase, source_parse_url
from apps.rules.sql_compile import campaign_compile
from apps.rules.sql_guard import GuardReport, sql_validate

SOURCE_KINDS = ("ddl", "json", "connection")
# SQLite files live on the server: a tenant may not point us at one through the API.
API_ENGINES = ("postgres", "mysql")


# ------------------------------------------------------------------------------------------ secrets
def _encrypt(value: str) -> str:
    """Connection URLs hold passwords: sealed with the platform's keys (apps.core.crypto, rotation included)."""
    return secret_encrypt(value) if value else ""


def source_database_of(*, source_schema: SourceSchema) -> SourceDatabase | None:
    """The live database a schema was introspected from (None for DDL/JSON schemas)."""
    if not source_schema.connection_encrypted:
        return None
    try:
        url = secret_decrypt(source_schema.connection_encrypted)
    except DecryptionError:
        return None  # the key changed: the admin has to connect again
    return source_parse_url(url=url)


# ------------------------------------------------------------------------------------------ ingest + analyse
def source_schema_ingest(*, kind: str, dialect: str | None = None, ddl: str | None = None,
                         description: Any = None, url: str | None = None, name: str = "", created_by: Any = None,
                         allow_sqlite: bool = False) -> SourceSchema:
    """Parse or introspect a schema and store it. Raises ApplicationError (400) for input it cannot read."""
    connection = ""
    if kind == "ddl":
        definition = schema_from_ddl(ddl=ddl or "", dialect=dialect or "postgres")
        fmt, raw = SourceSchema.Format.DDL, ddl or ""
    elif kind == "json":
        definition = schema_from_json(description=description)
        fmt, raw, dialect = SourceSchema.Format.JSON, description if isinstance(description, str) else "", \
            dialect or "postgres"
    elif kind == "connection":
        source = source_parse_url(url=url or "")
        if source.engine not in API_ENGINES and not allow_sqlite:
            raise ApplicationError(_("Only PostgreSQL and MySQL/MariaDB databases can be connected."),
                                   code="source_url_forbidden", fields={"url": [_("Not allowed.")]})
        definition = schema_introspect(source=source)
        fmt, raw, dialect, connection = SourceSchema.Format.INTROSPECTION, "", source.engine, source.url
    else:
        raise ApplicationError(_("Unknown schema source."), fields={"kind": [_("Unknown.")]})
    if fmt == SourceSchema.Format.JSON and not raw:
        raw = json.dumps(description, ensure_ascii=False)
    return SourceSchema.objects.create(name=name, format=fmt, dialect=dialect, raw_text=raw, definition=definition,
                                       connection_encrypted=_encrypt(connection), created_by=created_by)


def _store(source_schema: SourceSchema, analysis: dict[str, Any], language: str) -> SchemaMapping:
    mapping, _created = SchemaMapping.objects.update_or_create(
        source_schema=source_schema,
        defaults={"language": language, "score": analysis["score"], "feedback": analysis["feedback"],
                  "questions": analysis["questions"], "joins": analysis["joins"], "shape": analysis["shape"],
                  "analysed_at": timezone.now()},
    )
    existing = {row.concept: row for row in mapping.concepts.all()}
    for concept, entry in analysis["concepts"].items():
        row = existing.get(concept) or ConceptMapping(mapping=mapping, concept=concept)
        was_corrected = row.corrected_by_admin
        row.table = entry["table"] or ""
        row.column = entry["column"] or ""
        row.expression = entry.get("expression") or ""
        row.values = entry.get("values") or {}
        row.confidence = entry["confidence"]
        row.candidates = entry.get("candidates") or []
        row.corrected_by_admin = entry["corrected_by_admin"]
        if was_corrected and not entry["corrected_by_admin"]:
            row.corrected_by, row.corrected_at = None, None
        row.save()
    return mapping


@transaction.atomic
def schema_mapping_analyse(*, source_schema: SourceSchema, language: str = "en",
                           corrections: dict[str, dict[str, Any]] | None = None,
                           extra_joins: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """(Re-)analyse a schema, keeping every correction an admin made; returns the mapping dict."""
    kept, kept_joins = schema_corrections(source_schema=source_schema)
    kept.update(corrections or {})
    joins = kept_joins + [j for j in (extra_joins or []) if j not in kept_joins]
    analysis = schema_analyse(definition=source_schema.definition, language=language, corrections=kept,
                              extra_joins=joins)
    _store(source_schema, analysis, language)
    return analysis


@transaction.atomic
def schema_feedback_apply(*, source_schema: SourceSchema, corrections: dict[str, dict[str, Any]],
                          joins: list[dict[str, Any]] | None = None, language: str = "en",
                          user: Any = None) -> dict[str, Any]:
    """Apply an admin's corrections (concept -> table/column/expression/values) and added joins, then
    re-analyse. Invalid corrections raise ApplicationError (400) and change nothing."""
    errors = corrections_validate(definition=source_schema.definition, corrections=corrections)
    errors.update(joins_validate(definition=source_schema.definition, joins=joins or []))
    if errors:
        raise ApplicationError(_("Some corrections do not fit the schema."), code="invalid_feedback", fields=errors)
    kept, kept_joins = schema_corrections(source_schema=source_schema)
    kept.update(corrections)
    all_joins = kept_joins + [{"from": j["from"], "to": j["to"]} for j in joins or [] if
                              {"from": j["from"], "to": j["to"]} not in kept_joins]
    analysis = schema_analyse(definition=source_schema.definition, language=language, corrections=kept,
                              extra_joins=all_joins)
    mapping = _store(source_schema, analysis, language)
    if user is not None and corrections:
        mapping.concepts.filter(concept__in=list(corrections), corrected_by_admin=True).update(
            corrected_by=user, corrected_at=timezone.now())
    return analysis


# ------------------------------------------------------------------------------------------ campaigns
@transaction.atomic
def campaign_schema_upload(*, campaign: Any, kind: str, dialect: str | None = None, ddl: str | None = None,
                           description: Any = None, url: str | None = None, language: str = "en",
                           user: Any = None) -> tuple[SourceSchema, dict[str, Any]]:
    """Ingest a schema for ``campaign``, carry over the admin's corrections from its previous schema where
    they still fit, analyse, and attach it."""
    previous = campaign.source_schema
    source_schema = source_schema_ingest(kind=kind, dialect=dialect, ddl=ddl, description=description, url=url,
                                         name=campaign.name, created_by=user)
    carried: dict[str, dict[str, Any]] = {}
    carried_joins: list[dict[str, Any]] = []
    if previous is not None:
        old, old_joins = schema_corrections(source_schema=previous)
        carried = {concept: correction for concept, correction in old.items()
                   if not corrections_validate(definition=source_schema.definition, corrections={concept: correction})}
        carried_joins = [j for j in old_joins if not joins_validate(definition=source_schema.definition, joins=[j])]
    analysis = schema_analyse(definition=source_schema.definition, language=language, corrections=carried,
                              extra_joins=carried_joins)
    _store(source_schema, analysis, language)
    campaign.source_schema = source_schema
    campaign.save(update_fields=["source_schema", "updated_at"])
    return source_schema, analysis


def campaign_schema_require(*, campaign: Any) -> SourceSchema:
    if campaign.source_schema is None:
        raise ConflictError(_("This campaign has no schema yet: upload one first."), code="schema_missing")
    return campaign.source_schema


# ------------------------------------------------------------------------------------------ validation
@dataclass
class ValidationResult:
    queries: list[tuple[str, str, list[Any], GuardReport]]
    compile_warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(report.ok for _name, _sql, _params, report in self.queries)


def rules_validate(*, sql: str | None = None, params: list[Any] | None = None, document: dict[str, Any] | None = None,
                   source_schema: SourceSchema | None = None, dialect: str | None = None,
                   dynamic: bool = True) -> ValidationResult:
    """Prove SQL read-only (or compile ``document`` and prove each query), then try it on the source
    database when the schema came from one. Never writes anything."""
    definition = source_schema.definition if source_schema else None
    mapping = schema_mapping_dict(source_schema=source_schema) if source_schema else None
    dialect = dialect or (source_schema.dialect if source_schema else "postgres")
    source = source_database_of(source_schema=source_schema) if (source_schema and dynamic) else None
    allowed = mapped_tables(mapping=mapping) if mapping else None
    queries: list[tuple[str, str, list[Any]]] = []
    warnings: list[dict[str, str]] = []
    if document is not None:
        if mapping is None:
            raise ConflictError(_("Compiling rules needs an analysed schema."), code="schema_missing")
        compiled = campaign_compile(document=document, mapping=mapping, dialect=dialect, definition=definition)
        warnings = compiled.warnings
        for name in ("participants", "regions", "company", "preview"):
            query = getattr(compiled, name)
            if query is not None:
                queries.append((name, query.sql, query.params))
    else:
        queries.append(("sql", sql or "", list(params or [])))
    results = []
    for name, text, values in queries:
        report = sql_validate(sql=text, params=values, dialect=dialect, definition=definition, mapped_tables=allowed,
                              source=source if source and source.engine == dialect else None)
        results.append((name, text, values, report))
    return ValidationResult(queries=results, compile_warnings=warnings)
