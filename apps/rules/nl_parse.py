"""Deterministic parser: campaign text in English, Portuguese or Spanish → a rule document (v1).

It is the product's behaviour when no Claude API key is set, and the fallback when the API fails. The text
is cut into clauses (lines and sentences); recognisers mark the spans of a clause they understand (periods,
goals, accrual, eligibility, prizes, caps, filters), and whatever else the clause says that is not a filler
word becomes a warning with a question in the text's language, so nothing is silently dropped. The output is
only ever a rule document: text is data here, never instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apps.rules import nl_lexicon as lex
from apps.rules.document import DocumentError, rule_document_empty, rule_document_errors
from apps.rules.nl_clause import append_unique, clauses_split
from apps.rules.nl_lexicon import text_fold
from apps.rules.nl_recognise import ParseState, clause_parse, title_recognise, warning_make  # noqa: F401 (re-exported)

METHOD_DETERMINISTIC = "deterministic"
METHOD_CLAUDE = "claude"
MAX_TEXT_LENGTH = 20_000


@dataclass
class ParseResult:
    """A rule document produced from text, with how it was produced.

    ``errors`` are the document's validation errors (empty when it is complete and valid); ``warnings`` and
    ``questions`` are what the text left open. ``method`` is deterministic or claude; ``fallback_reason`` says
    why the deterministic parser answered when Claude was asked (no_api_key, api_error, invalid_answer, ...).
    """

    document: dict[str, Any]
    language: str
    method: str = METHOD_DETERMINISTIC
    errors: list[DocumentError] = field(default_factory=list)
    fallback_reason: str | None = None
    cached: bool = False
    model: str | None = None

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return list(self.document.get("warnings") or [])

    @property
    def questions(self) -> list[str]:
        return [warning["question"] for warning in self.warnings if warning.get("question")]

    @property
    def valid(self) -> bool:
        return not self.errors


def language_normalize(language: str | None) -> str | None:
    """ "pt", "pt-BR", "pt_br" → "pt-br"; "es-MX" → "es"; "en-US" → "en"; anything else → None."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-")
    if code.startswith("pt"):
        return "pt-br"
    if code.startswith("es"):
        return "es"
    if code.startswith("en"):
        return "en"
    return None


def language_detect(text: str) -> str:
    """The language of campaign text by marker words and letters; English when nothing tells them apart."""
    fold = text_fold(text)
    words = re.findall(r"[a-z]+", fold)
    scores = {language: sum(1 for word in words if word in markers)
              for language, markers in lex.LANGUAGE_MARKERS.items()}
    lower = text.lower()
    for language, chars in lex.LANGUAGE_CHARS.items():
        scores[language] += 2 * sum(lower.count(char) for char in chars)
    best = max(scores.values())
    for language in ("en", "pt-br", "es"):
        if scores[language] == best:
            return language
    return "en"  # pragma: no cover


# ------------------------------------------------------------------------------------------------ assembly


def _apply_pending(state: ParseState) -> None:
    goals = state.document["goals"]
    for pending in state.pending:
        targets = [goal for goal in goals if goal["scope"] in pending.scopes] if pending.scopes else list(goals)
        if len(targets) != 1 and pending.context:
            targets = [goal for goal in goals if goal["scope"] in pending.context][-1:]
        if len(targets) != 1:
            if goals:
                state.warn("ambiguous_goal", text=pending.text, goals=", ".join(goal["id"] for goal in goals))
            else:
                state.warn("missing_goal")
            continue
        goal = targets[0]
        if pending.rewards:
            merged = {reward["at_percent"]: reward for reward in goal["rewards"]}
            merged.update({reward["at_percent"]: reward for reward in pending.rewards})
            goal["rewards"] = [merged[key] for key in sorted(merged)]
        if pending.per_unit:
            goal["points_per_unit"] = pending.per_unit
            if not goal["rewards"]:
                # Points per unit accrue on every eligible sale; the goal's threshold then pays nothing extra.
                goal["rewards"] = [{"at_percent": 100, "points": 0}]
            if pending.above_goal:
                state.warn("accrual_above_goal", goal=lex.GOAL_LABELS.get(goal["id"], {}).get(
                    state.language, goal["id"]))


def _assign_period(state: ParseState, defaults: dict[str, Any]) -> None:
    period = state.document["period"]
    for found in state.periods:
        if found.invalid:
            state.warn("invalid_date", text=found.invalid)
    complete = [found for found in state.periods if found.start and found.end]
    if complete:
        distinct = {(found.start, found.end) for found in complete}
        if len(distinct) > 1:
            state.warn("ambiguous_period", periods="; ".join(
                f"{found.start.isoformat()} – {found.end.isoformat()}" for found in complete))  # type: ignore[union-attr]
        chosen = complete[0]
        period["start"], period["end"] = chosen.start.isoformat(), chosen.end.isoformat()  # type: ignore[union-attr]
        return
    starts = [found.start for found in state.periods if found.start]
    ends = [found.end for found in state.periods if found.end]
    if starts and ends:
        period["start"], period["end"] = starts[0].isoformat(), ends[0].isoformat()
        return
    default_period = defaults.get("period") or {}
    if starts or ends:
        period["start"] = starts[0].isoformat() if starts else default_period.get("start")
        period["end"] = ends[0].isoformat() if ends else default_period.get("end")
        side = "end" if starts else "start"
        if not period[side]:
            date = (starts or ends)[0].isoformat()
            state.warn("incomplete_period", date=date, side=lex.SIDES[side][state.language])
        return
    if default_period.get("start") and default_period.get("end"):
        period["start"], period["end"] = default_period["start"], default_period["end"]
        return
    if not any(found.invalid for found in state.periods):
        state.warn("missing_period")


def _assign_currency(state: ParseState, defaults: dict[str, Any]) -> None:
    # "$" in English text is the US dollar; in Portuguese or Spanish text it could be either.
    explicit = [("USD" if currency == "$" and state.language == "en" else currency) for currency in state.currencies]
    explicit = [currency for currency in explicit if currency != "$"]
    distinct = list(dict.fromkeys(explicit))
    if distinct:
        state.document["currency"] = distinct[0]
        if len(distinct) > 1:
            state.warn("currency_mismatch", currencies=", ".join(distinct), currency=distinct[0])
        return
    if "$" in state.currencies:
        currency = defaults.get("currency") or ("MXN" if state.language == "es" else "USD")
        state.document["currency"] = currency
        if state.language != "en" and not defaults.get("currency"):
            state.warn("ambiguous_currency", currency=currency)
        return
    if defaults.get("currency"):
        state.document["currency"] = defaults["currency"]
        return
    if state.money_seen:
        state.warn("missing_currency")
        return
    # Nothing in the text is money (quantity or order-count goals only): the currency decides nothing.
    state.document["currency"] = {"pt-br": "BRL", "es": "MXN"}.get(state.language, "USD")


def _assign_name(state: ParseState, defaults: dict[str, Any]) -> None:
    if state.named:
        return
    if defaults.get("name"):
        state.document["name"] = defaults["name"][:200]
        return
    lines = [line for goal in state.document["goals"] for line in goal["filters"]["product_lines"]]
    base = lines[0] if len(set(lines)) == 1 else lex.DEFAULT_NAME[state.language]
    quarters = [found.quarter for found in state.periods if found.quarter]
    period = state.document["period"]
    if quarters and period["start"]:
        quarter, year = quarters[0]
        label = lex.QUARTER_LABEL[state.language].format(quarter=quarter, year=year)
        state.document["name"] = f"{base} {label}"
    elif period["start"] and period["end"]:
        state.document["name"] = f"{base} {period['start']} – {period['end']}"
    else:
        state.document["name"] = base


def _concept_mapped(mapping: dict[str, Any], concept: str) -> bool:
    entry = (mapping.get("concepts") or {}).get(concept) or {}
    return bool(entry.get("table")) and float(entry.get("confidence") or 0) > 0


def _mapping_warnings(state: ParseState, mapping: dict[str, Any]) -> None:
    """Conditions the text asks for that the customer's schema cannot support become questions."""
    document, language = state.document, state.language

    def missing(concept: str, text: str) -> None:
        state.warn("unsupported_condition", concept=lex.CONCEPT_NAMES[concept][language], text=text)

    eligibility = document["eligibility"]
    if eligibility["new_customers_only"] and not _concept_mapped(mapping, "customer"):
        missing("customer", state.conditions.get("customer", ""))
    if eligibility["employed_through_end"] and not _concept_mapped(mapping, "employment_end"):
        missing("employment_end", state.conditions.get("employment_end", ""))
    for status in eligibility["excluded_statuses"]:
        text = state.conditions.get(f"status:{status}", status)
        if not _concept_mapped(mapping, "order_status"):
            missing("order_status", text)
            break
        values = ((mapping["concepts"]["order_status"] or {}).get("values") or {}).get(status)
        if not values:
            state.warn("unmapped_status", status=lex.STATUS_NAMES[status][language])
    if eligibility["regions"] and not _concept_mapped(mapping, "region"):
        missing("region", ", ".join(eligibility["regions"]))
    for goal in document["goals"]:
        filters = goal["filters"]
        if filters["product_lines"] and not _concept_mapped(mapping, "product_line"):
            missing("product_line", ", ".join(filters["product_lines"]))
        if filters["categories"] and not _concept_mapped(mapping, "category"):
            missing("category", ", ".join(filters["categories"]))
        if filters["skus"] and not (_concept_mapped(mapping, "sku") or _concept_mapped(mapping, "product")):
            missing("sku", ", ".join(filters["skus"]))
        if (filters["regions"] or goal["scope"] == "region") and not _concept_mapped(mapping, "region"):
            missing("region", ", ".join(filters["regions"]) or goal["id"])
        if goal["scope"] == "team" and not _concept_mapped(mapping, "team"):
            missing("team", goal["id"])
        if goal["metric"] == "quantity" and not _concept_mapped(mapping, "quantity"):
            missing("quantity", goal["id"])
        if goal["metric"] == "line_amount" and not (
                _concept_mapped(mapping, "line_amount")
                or (_concept_mapped(mapping, "quantity") and _concept_mapped(mapping, "unit_price"))):
            missing("line_amount", goal["id"])
    if not _concept_mapped(mapping, "order_date"):
        missing("order_date", f"{document['period']['start']} – {document['period']['end']}")
    if not _concept_mapped(mapping, "salesperson"):
        missing("salesperson", document["name"])


def rule_document_parse(*, text: str, language: str | None = None, schema_mapping: dict[str, Any] | None = None,
                        defaults: dict[str, Any] | None = None) -> ParseResult:
    """Parse campaign text into a rule document, deterministically.

    ``language`` (en, pt-br, es) is detected when not given. ``schema_mapping`` (the schema analysis' concept
    mapping) turns conditions the customer's data cannot support into questions. ``defaults`` may give the
    campaign's ``name``, ``currency`` and ``period`` ({"start", "end"}) for what the text leaves out.
    The result's document may be incomplete; its ``errors`` then say what is missing, by JSON path.
    """
    text = (text or "")[:MAX_TEXT_LENGTH]
    lang = language_normalize(language) or language_detect(text)
    defaults = defaults or {}
    state = ParseState(language=lang, document=rule_document_empty(language=lang))
    for index, clause in enumerate(clauses_split(text)):
        if index == 0:
            title_recognise(clause, state)
        clause_parse(clause, state)
    _apply_pending(state)

    document = state.document
    for goal in document["goals"]:
        for key, values in state.global_filters.items():
            append_unique(goal["filters"][key], values)
    _assign_period(state, defaults)
    _assign_currency(state, defaults)
    if not document["goals"]:
        state.warn("missing_goal")
    for goal in document["goals"]:
        if not goal["rewards"] and goal["points_per_unit"] is None:
            state.warn("missing_reward", goal=lex.GOAL_LABELS.get(goal["id"], {}).get(lang, goal["id"]))
    _assign_name(state, defaults)
    if schema_mapping:
        _mapping_warnings(state, schema_mapping)
    document["warnings"] = state.warnings
    return ParseResult(document=document, language=lang, errors=rule_document_errors(document=document))
