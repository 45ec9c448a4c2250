"""The language side of the rules engine: campaign text → rule document, rule document → reviewable code.

Re-exported by ``apps.rules.services``. ``rule_document_from_text`` answers with Claude when a key is set (and
``use_ai`` allows it), else with the deterministic parser; ``rule_code_generate`` compiles a valid document
against the customer's schema mapping and adds the plain-language explanation and the TLP action plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.ai.services import ai_rule_document
from apps.rules.document import rule_document_validate
from apps.rules.explain import rule_document_explain, tlp_action_plan
from apps.rules.nl_parse import ParseResult, rule_document_parse
from apps.rules.sql_compile import CompiledCampaign, campaign_compile


@dataclass(frozen=True)
class RuleCode:
    """What an admin reviews before a campaign runs: the SQL, what it means, and what TLP will get."""

    compiled: CompiledCampaign
    explanation: dict[str, Any]
    action_plan: dict[str, Any]


def schema_summary(*, schema_mapping: dict[str, Any] | None) -> str:
    """A compact, secret-free description of the mapping for the model: one line per concept."""
    if not schema_mapping:
        return ""
    lines = []
    for concept, entry in sorted((schema_mapping.get("concepts") or {}).items()):
        entry = entry or {}
        if not entry.get("table"):
            lines.append(f"{concept}: unmapped")
            continue
        where = entry["table"] + (f".{entry['column']}" if entry.get("column") else "")
        if entry.get("expression"):
            where += f" ({entry['expression']})"
        values = entry.get("values") or {}
        if values:
            where += " values " + "; ".join(f"{key}={','.join(map(str, raw))}" for key, raw in sorted(values.items()))
        lines.append(f"{concept}: {where}")
    return "\n".join(lines)


def rule_document_from_text(*, text: str, language: str | None = None, schema_mapping: dict[str, Any] | None = None,
                            use_ai: bool | None = None, defaults: dict[str, Any] | None = None,
                            user: Any = None) -> ParseResult:
    """A rule document for campaign ``text`` (en, pt-br, es; detected when not given).

    ``use_ai``: None = Claude when a key is configured, False = the deterministic parser only, True = Claude
    (without a key the deterministic parser still answers, with fallback_reason "no_api_key").
    ``defaults`` (name, currency, period) fill what the text leaves out — a campaign's own values.
    Raises AIRateLimitError (429) when the tenant spent its Claude calls of the minute.
    """
    if use_ai is False:
        return rule_document_parse(text=text, language=language, schema_mapping=schema_mapping, defaults=defaults)
    return ai_rule_document(text=text, schema_summary=schema_summary(schema_mapping=schema_mapping),
                            language=language, schema_mapping=schema_mapping, defaults=defaults, user=user)


def rule_code_generate(*, document: dict[str, Any], schema_mapping: dict[str, Any], dialect: str, language: str,
                       definition: dict[str, Any] | None = None) -> RuleCode:
    """Compile ``document`` for the source database (SQL with bound parameters, in ``dialect``), explain it in
    ``language`` and plan its TLP offers. Raises RuleDocumentInvalidError or CompileError (422)."""
    rule_document_validate(document=document)
    compiled = campaign_compile(document=document, mapping=schema_mapping, dialect=dialect, definition=definition)
    return RuleCode(
        compiled=compiled,
        explanation=rule_document_explain(document=document, language=language),
        action_plan=tlp_action_plan(document=document, language=language),
    )
