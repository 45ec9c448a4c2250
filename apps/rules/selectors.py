"""Reads of source schemas and their mappings."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.rules.models import ConceptMapping, SchemaMapping, SourceSchema
from apps.rules.schema_analysis import join_path, schema_analyse


def source_schema_get(*, source_schema_id: Any) -> SourceSchema | None:
    """The schema, or None when it does not exist in this tenant (or the id is not a UUID)."""
    try:
        return SourceSchema.objects.select_related("mapping").filter(pk=source_schema_id).first()
    except (ValidationError, ValueError, TypeError):
        return None


def source_schema_get_by_name(*, name: str) -> SourceSchema | None:
    """The newest schema stored under ``name`` (names are labels, not unique)."""
    return SourceSchema.objects.select_related("mapping").filter(name=name).order_by("-created_at").first()


def schema_mapping_get(*, source_schema: SourceSchema) -> SchemaMapping | None:
    return SchemaMapping.objects.filter(source_schema=source_schema).prefetch_related("concepts").first()


def schema_corrections(*, source_schema: SourceSchema) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """What an admin corrected on this schema: concept corrections and joins they added."""
    mapping = schema_mapping_get(source_schema=source_schema)
    if mapping is None:
        return {}, []
    corrections = {
        row.concept: {"table": row.table or None, "column": row.column or None, "expression": row.expression or None,
                      "values": row.values or {}}
        for row in mapping.concepts.all() if row.corrected_by_admin
    }
    joins = [{"from": j["from"], "to": j["to"]} for j in mapping.joins if j.get("corrected_by_admin")]
    return corrections, joins


def schema_analysis_get(*, source_schema: SourceSchema, language: str) -> dict[str, Any]:
    """The schema's analysis with the admin's corrections, worded in ``language``. The analysis is
    deterministic, so reading it in another language recomputes it without writing anything."""
    corrections, joins = schema_corrections(source_schema=source_schema)
    return schema_analyse(definition=source_schema.definition, language=language, corrections=corrections,
                          extra_joins=joins)


def _concept_dict(row: ConceptMapping) -> dict[str, Any]:
    return {"table": row.table or None, "column": row.column or None, "expression": row.expression or None,
            "confidence": float(row.confidence), "values": row.values or {}, "candidates": row.candidates or [],
            "corrected_by_admin": row.corrected_by_admin}


def schema_mapping_dict(*, source_schema: SourceSchema) -> dict[str, Any] | None:
    """The stored mapping in the rules contract's shape (what the compiler and the generator consume)."""
    mapping = schema_mapping_get(source_schema=source_schema)
    if mapping is None:
        return None
    return {
        "concepts": {row.concept: _concept_dict(row) for row in mapping.concepts.all()},
        "joins": list(mapping.joins),
        "shape": mapping.shape,
        "score": float(mapping.score),
        "feedback": mapping.feedback,
        "questions": list(mapping.questions),
        "language": mapping.language,
    }


def mapped_tables(*, mapping: dict[str, Any]) -> set[str]:
    """Lower-case names of the tables a compiled query may read: those holding a mapped concept, and the
    tables on the join paths between them."""
    concept_tables = sorted({entry["table"] for entry in mapping.get("concepts", {}).values() if entry.get("table")})
    tables = {table.lower() for table in concept_tables}
    joins = mapping.get("joins", [])
    for index, start in enumerate(concept_tables):
        for goal in concept_tables[index + 1:]:
            for step in join_path(joins, start, goal) or []:
                tables.add(step["to_table"].lower())
    return tables
