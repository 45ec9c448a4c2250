"""Understand a sales schema: where each campaign concept lives, how tables join, and how sure we are.

Concepts are found by token-based scoring of table and column names against synonym lists in English,
Portuguese and Spanish (``pedidos``/``orders``/``pedidos``, ``itens_pedido``/``order_items``/``detalle_pedido``),
weighted by the column's type and by the table it sits in. Joins come from declared foreign keys and are
inferred from names and types where none are declared (``pedido_id`` -> ``pedidos.id``). A single wide
sales table (one row per order line with the salesperson, product and region in it) is recognised as a
denormalised shape. Admin corrections always win over what was inferred and are kept across re-analysis.

The result is the schema mapping of the rules contract::

    {"concepts": {"order": {"table", "column", "expression", "confidence", ...}, ...},
     "joins": [{"from": "t.c", "to": "t.c", "declared": bool, "confidence": float}],
     "shape": "normalised" | "denormalised", "score": 0..1, "feedback": "...", "questions": ["..."]}
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.rules.schema_vocabulary import (
    AFFINITY,
    COLUMN_SYNONYMS,
    KEY_SYNONYMS,
    KINDS_ALLOWED,
    NAME_COLUMN_SYNONYMS,
    STATUS_SYNONYMS,
    TABLE_SYNONYMS,
)

# ------------------------------------------------------------------------------------------ vocabulary
TABLE_CONCEPTS = ("order", "order_line", "salesperson", "region", "product", "product_line", "customer", "category")
ENTITY_CONCEPTS = ("order", "order_line", "salesperson", "product", "customer")
CONCEPTS = ("order", "order_line", "line_amount", "quantity", "unit_price", "order_date", "order_status",
            "salesperson", "employment_end", "hire_date", "region", "product", "product_line", "category", "sku",
            "currency", "customer", "team")
LOGICAL_STATUSES = ("completed", "cancelled", "returned")

CONCEPT_LABELS = {
    "order": gettext_lazy("order"),
    "order_line": gettext_lazy("order line"),
    "line_amount": gettext_lazy("line amount"),
    "quantity": gettext_lazy("quantity"),
    "unit_price": gettext_lazy("unit price"),
    "order_date": gettext_lazy("order date"),
    "order_status": gettext_lazy("order status"),
    "salesperson": gettext_lazy("salesperson"),
    "employment_end": gettext_lazy("employment end (termination) date"),
    "hire_date": gettext_lazy("hire date"),
    "region": gettext_lazy("region"),
    "product": gettext_lazy("product"),
    "product_line": gettext_lazy("product line"),
    "category": gettext_lazy("product category"),
    "sku": gettext_lazy("SKU"),
    "currency": gettext_lazy("currency"),
    "customer": gettext_lazy("customer"),
    "team": gettext_lazy("team"),
}
STATUS_LABELS = {"completed": gettext_lazy("completed"), "cancelled": gettext_lazy("cancelled"),
                 "returned": gettext_lazy("returned")}

# How much each concept counts towards the understanding score (0: nice to have, never asked about).
WEIGHTS = {"order": 1.0, "line_amount": 1.0, "order_date": 1.0, "order_status": 1.0, "salesperson": 1.0,
           "order_line": 0.5, "region": 0.5, "product": 0.5, "product_line": 0.5, "employment_end": 0.5,
           "hire_date": 0.25, "currency": 0.25, "customer": 0.25, "quantity": 0.25, "unit_price": 0.25,
           "category": 0.0, "sku": 0.0, "team": 0.0}

_NOISE_TOKENS = {"tb", "tbl", "t", "dim", "fact", "fato", "fct", "dbo", "tab", "cad"}
_KEY_TOKENS = {"id", "cod", "codigo", "code", "key", "fk", "no", "nr", "num", "numero", "number"}
_ENTITY_FOR_LINK = ("order", "salesperson", "product", "customer", "region", "product_line", "category")
CONFIDENT = 0.75
AMBIGUITY_GAP = 0.1


# ------------------------------------------------------------------------------------------ tokens
def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_tokens(name: str) -> list[str]:
    """``ItensPedido`` / ``itens_pedido`` / ``Itens Pedido`` -> ["itens", "pedido"] (accents folded)."""
    text = _fold(name)
    tokens: list[str] = []
    current = ""
    for index, char in enumerate(text):
        if not char.isalnum():
            if current:
                tokens.append(current)
            current = ""
            continue
        boundary = (index > 0 and char.isupper() and current and (text[index - 1].islower() or (
            index + 1 < len(text) and text[index + 1].islower() and text[index - 1].isupper())))
        if boundary or (current and current[-1].isdigit() != char.isdigit()):
            tokens.append(current)
            current = ""
        current += char
    if current:
        tokens.append(current)
    return [token.lower() for token in tokens if token]


def _stems(token: str) -> set[str]:
    """Singular candidates of an English/Portuguese/Spanish plural (naive on purpose: names, not prose)."""
    stems = {token}
    irregular = {"people": "person", "salespeople": "salesperson", "staff": "staff"}
    if token in irregular:
        stems.add(irregular[token])
    if len(token) > 3:
        if token.endswith("ies"):
            stems.add(token[:-3] + "y")
        if token.endswith("oes"):
            stems.add(token[:-3] + "ao")
        if token.endswith("ns"):
            stems.add(token[:-2] + "m")
        if token.endswith("ais"):
            stems.add(token[:-3] + "al")
        if token.endswith("es"):
            stems.add(token[:-2])
        if token.endswith("s"):
            stems.add(token[:-1])
    return stems


def _match(a: str, b: str) -> bool:
    return bool(_stems(a) & _stems(b))


def _phrase_score(tokens: list[str], phrase: list[str]) -> float:
    if not tokens or not phrase:
        return 0.0
    if len(tokens) == len(phrase) and all(_match(t, p) for t, p in zip(tokens, phrase, strict=True)):
        return 1.0
    if all(any(_match(t, p) for t in tokens) for p in phrase):
        return 0.55 + 0.35 * len(phrase) / max(len(tokens), len(phrase))
    return 0.0


def _best_phrase(tokens: list[str], synonyms: dict[str, list[str]]) -> tuple[float, str | None]:
    best, language = 0.0, None
    for lang, phrases in synonyms.items():
        for phrase in phrases:
            score = _phrase_score(tokens, phrase.split("_"))
            if score > best:
                best, language = score, lang
    return best, language


def _table_tokens(name: str) -> list[str]:
    tokens = [t for t in name_tokens(name) if t not in _NOISE_TOKENS]
    return tokens or name_tokens(name)


# ------------------------------------------------------------------------------------------ schema helpers
class _Schema:
    def __init__(self, definition: dict[str, Any]) -> None:
        self.tables = {t["name"]: t for t in definition.get("tables", [])}
        self.lower = {name.lower(): name for name in self.tables}

    def table(self, name: str | None) -> dict[str, Any] | None:
        return self.tables.get(self.lower.get((name or "").lower(), ""))

    def column(self, table: str | None, column: str | None) -> dict[str, Any] | None:
        found = self.table(table)
        if found is None or not column:
            return None
        for candidate in found["columns"]:
            if candidate["name"].lower() == column.lower():
                return candidate
        return None

    def key_column(self, table: str) -> tuple[str | None, float]:
        found = self.table(table)
        if found is None:
            return None, 0.0
        if len(found["primary_key"]) == 1:
            return found["primary_key"][0], 1.0
        table_tokens = _table_tokens(table)
        for column in found["columns"]:
            tokens = name_tokens(column["name"])
            if tokens == ["id"] or (tokens and tokens[-1] == "id" and len(tokens) > 1 and all(
                    any(_match(t, tt) for tt in table_tokens) for t in tokens[:-1])):
                return column["name"], 0.9
        return None, 0.0


def _qualified(table: str, column: str) -> str:
    return f"{table}.{column}"


# ------------------------------------------------------------------------------------------ joins
def _compatible(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None:
        return False
    return a["kind"] == b["kind"] or {a["kind"], b["kind"]} <= {"integer", "decimal"} or "other" in (a["kind"],
                                                                                                      b["kind"])


def joins_find(schema: _Schema) -> list[dict[str, Any]]:
    """Declared foreign keys (confidence 1) plus links inferred from names and types."""
    joins: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for table in schema.tables.values():
        for fk in table["foreign_keys"]:
            target = schema.table(fk["ref_table"])
            if target is None or len(fk["columns"]) != 1 or len(fk["ref_columns"]) != 1:
                continue
            edge = (_qualified(table["name"], fk["columns"][0]), _qualified(target["name"], fk["ref_columns"][0]))
            seen.add(edge)
            joins.append({"from": edge[0], "to": edge[1], "declared": True, "confidence": 1.0})
    declared_columns = {edge[0].lower() for edge in seen}
    for table in schema.tables.values():
        for column in table["columns"]:
            source = _qualified(table["name"], column["name"])
            if source.lower() in declared_columns or column["name"] in table["primary_key"]:
                continue
            tokens = name_tokens(column["name"])
            base = [t for t in tokens if t not in _KEY_TOKENS]
            if not base or len(base) == len(tokens):
                continue
            best: tuple[float, str, str] | None = None
            for other in schema.tables.values():
                if other is table:
                    continue
                score = _phrase_score(_table_tokens(other["name"]), base)
                if score < 0.9:
                    continue
                key, key_confidence = schema.key_column(other["name"])
                same_name = schema.column(other["name"], column["name"])
                target_column = same_name["name"] if same_name and not key else key
                if target_column is None:
                    continue
                target = schema.column(other["name"], target_column)
                if not _compatible(column, target):
                    continue
                confidence = round(0.85 * score * key_confidence * (1.0 if column["kind"] == target["kind"] else 0.9),
                                   2)
                if best is None or confidence > best[0]:
                    best = (confidence, other["name"], target_column)
            if best is not None:
                joins.append({"from": source, "to": _qualified(best[1], best[2]), "declared": False,
                              "confidence": best[0]})
    return joins


def join_path(joins: Iterable[dict[str, Any]], start: str, goal: str) -> list[dict[str, Any]] | None:
    """Shortest chain of joins from table ``start`` to table ``goal`` (edges used in either direction).

    Each step is ``{"from_table", "from_column", "to_table", "to_column"}`` oriented start -> goal.
    """
    if start.lower() == goal.lower():
        return []
    graph: dict[str, list[dict[str, str]]] = {}
    for join in sorted(joins, key=lambda j: -float(j.get("confidence", 0))):
        (ft, fc), (tt, tc) = join["from"].rsplit(".", 1), join["to"].rsplit(".", 1)
        graph.setdefault(ft.lower(), []).append({"from_table": ft, "from_column": fc, "to_table": tt, "to_column": tc})
        graph.setdefault(tt.lower(), []).append({"from_table": tt, "from_column": tc, "to_table": ft, "to_column": fc})
    queue: deque[tuple[str, list[dict[str, str]]]] = deque([(start.lower(), [])])
    visited = {start.lower()}
    while queue:
        node, path = queue.popleft()
        for step in graph.get(node, []):
            nxt = step["to_table"].lower()
            if nxt in visited:
                continue
            if nxt == goal.lower():
                return [*path, step]
            visited.add(nxt)
            queue.append((nxt, [*path, step]))
    return None


# ------------------------------------------------------------------------------------------ mapping
def _empty(concept: str) -> dict[str, Any]:
    return {"table": None, "column": None, "expression": None, "confidence": 0.0, "values": {},
            "candidates": [], "corrected_by_admin": False, "language": None}


def _assign_tables(schema: _Schema) -> tuple[dict[str, tuple[str, float, str | None]], dict[str, set[str]]]:
    scored: list[tuple[float, str, str, str | None]] = []
    for table in schema.tables.values():
        tokens = _table_tokens(table["name"])
        kinds = {c["kind"] for c in table["columns"]}
        for concept in TABLE_CONCEPTS:
            score, language = _best_phrase(tokens, TABLE_SYNONYMS[concept])
            if score <= 0:
                continue
            if concept == "order" and kinds & {"date", "datetime"}:
                score += 0.05
            if concept == "order_line" and kinds & {"decimal", "integer"}:
                score += 0.05
            scored.append((min(score, 1.0), concept, table["name"], language))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    assigned: dict[str, tuple[str, float, str | None]] = {}
    used: set[str] = set()
    for score, concept, table_name, language in scored:
        if score < 0.5 or concept in assigned or table_name in used:
            continue
        assigned[concept] = (table_name, score, language)
        used.add(table_name)
    roles: dict[str, set[str]] = {}
    for concept, (table_name, _score, _lang) in assigned.items():
        roles.setdefault(table_name, set()).add(concept)
    return assigned, roles


def _column_candidates(schema: _Schema, roles: dict[str, set[str]], concept: str,
                       synonyms: dict[str, list[str]], exclude_keys: bool = True) -> list[dict[str, Any]]:
    candidates = []
    for table in schema.tables.values():
        table_roles = roles.get(table["name"], set())
        affinity = max([AFFINITY[concept].get(role, 0.0) for role in table_roles] + [AFFINITY[concept][None]])
        fk_columns = {c.lower() for fk in table["foreign_keys"] for c in fk["columns"]}
        for column in table["columns"]:
            if exclude_keys and (column["name"] in table["primary_key"] or column["name"].lower() in fk_columns):
                continue
            name_score, language = _best_phrase(name_tokens(column["name"]), synonyms)
            kind_factor = KINDS_ALLOWED.get(concept, {}).get(column["kind"], 0.0) if concept in KINDS_ALLOWED else 1.0
            if column["kind"] == "other" and concept in KINDS_ALLOWED:
                kind_factor = 0.5
            score = round(name_score * kind_factor * affinity, 3)
            if score > 0.3:
                candidates.append({"table": table["name"], "column": column["name"], "confidence": score,
                                   "language": language})
    candidates.sort(key=lambda c: (-c["confidence"], c["table"], c["column"]))
    return candidates


def _pick(concept: str, candidates: list[dict[str, Any]]) -> dict[str, Any]:
    found = _empty(concept)
    if not candidates:
        return found
    best = candidates[0]
    others = [c for c in candidates[1:] if (c["table"], c["column"]) != (best["table"], best["column"])]
    confidence = best["confidence"]
    if others and best["confidence"] - others[0]["confidence"] < AMBIGUITY_GAP:
        confidence = round(confidence * 0.7, 2)
    found.update(table=best["table"], column=best["column"], confidence=round(min(confidence, 1.0), 2),
                 language=best["language"],
                 candidates=[{k: c[k] for k in ("table", "column", "confidence")} for c in others[:3]])
    return found


def _name_column(schema: _Schema, table_name: str) -> tuple[str | None, float]:
    table = schema.table(table_name)
    if table is None:
        return None, 0.0
    best: tuple[str | None, float] = (None, 0.0)
    for column in table["columns"]:
        if column["kind"] != "text":
            continue
        tokens = name_tokens(column["name"])
        for index, synonym in enumerate(NAME_COLUMN_SYNONYMS):
            if synonym in tokens:
                score = 1.0 - 0.02 * (index % 4) - (0.1 if len(tokens) > 1 else 0.0)
                if score > best[1]:
                    best = (column["name"], score)
    return best


def _status_values(column: dict[str, Any] | None) -> tuple[dict[str, list[str]], bool]:
    """Logical status -> raw values. ``observed`` when they come from the source (ENUM, CHECK, sampled data)."""
    raw = list((column or {}).get("values") or [])
    if raw:
        values: dict[str, list[str]] = {status: [] for status in LOGICAL_STATUSES}
        for value in raw:
            folded = _fold(value).strip().lower()
            for status, synonyms in STATUS_SYNONYMS.items():
                if folded in synonyms:
                    values[status].append(value)
        return values, True
    values = {}
    for status in LOGICAL_STATUSES:
        spellings = STATUS_SYNONYMS[status][:1] + [s for s in STATUS_SYNONYMS[status] if s in (
            "canceled", "cancelado", "cancelada", "devolvido", "devolvida", "devuelto", "devuelta",
            "concluido", "completado", "entregue")]
        variants: list[str] = []
        for spelling in spellings:
            for variant in (spelling, spelling.capitalize(), spelling.upper()):
                if variant not in variants:
                    variants.append(variant)
        values[status] = variants
    return values, False


def _map_concepts(schema: _Schema, joins: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], str]:
    assigned, roles = _assign_tables(schema)
    concepts = {concept: _empty(concept) for concept in CONCEPTS}

    # A single wide sales table: the order table is also the order-line table.
    shape = "normalised"
    order_table = assigned.get("order", (None, 0.0, None))[0]
    if order_table and "order_line" not in assigned:
        table = schema.table(order_table)
        productish = any(
            _best_phrase(name_tokens(c["name"]), COLUMN_SYNONYMS["product_line"])[0] >= 0.9
            or _best_phrase(name_tokens(c["name"]), KEY_SYNONYMS["product"])[0] >= 0.9
            or _best_phrase(name_tokens(c["name"]), COLUMN_SYNONYMS["quantity"])[0] >= 0.9
            for c in table["columns"]
        )
        if productish:
            assigned["order_line"] = (order_table, assigned["order"][1], assigned["order"][2])
            roles.setdefault(order_table, set()).add("order_line")
            shape = "denormalised"

    # Entities that have a table of their own: keyed by its primary key.
    for concept, (table_name, score, language) in assigned.items():
        if concept not in ENTITY_CONCEPTS:
            continue
        key, key_confidence = schema.key_column(table_name)
        concepts[concept].update(table=table_name, column=key, language=language,
                                 confidence=round(score * (key_confidence or 0.8), 2))
    if shape == "denormalised":
        # The order is identified by an order-number column; the row itself is the order line.
        numbers = sorted(((_best_phrase(name_tokens(c["name"]), KEY_SYNONYMS["order"])[0], c["name"])
                          for c in schema.table(order_table)["columns"]), reverse=True)
        if numbers and numbers[0][0] >= 0.7:
            concepts["order"]["column"] = numbers[0][1]
    # Entities without a table: a key column in the order/line table (``vendedor_id`` in a wide table).
    fact_tables = {concepts["order"]["table"], concepts["order_line"]["table"]} - {None}
    for concept in ("salesperson", "product", "customer"):
        if concepts[concept]["table"]:
            continue
        best: tuple[float, str, str, str | None] | None = None
        for table_name in fact_tables:
            for column in schema.table(table_name)["columns"]:
                score, language = _best_phrase(name_tokens(column["name"]), KEY_SYNONYMS[concept])
                if score >= 0.7 and (best is None or score > best[0]):
                    best = (score, table_name, column["name"], language)
        if best:
            concepts[concept].update(table=best[1], column=best[2], confidence=round(best[0] * 0.9, 2),
                                     language=best[3])
            # The wide table also holds this entity's attributes (a salesperson's termination date...).
            roles.setdefault(best[1], set()).add(concept)

    # Dimension names: a region / product line / category table's name column, else a text column.
    for concept in ("region", "product_line", "category"):
        if concept in assigned:
            table_name, score, language = assigned[concept]
            column, column_score = _name_column(schema, table_name)
            if column:
                concepts[concept].update(table=table_name, column=column, language=language,
                                         confidence=round(score * column_score, 2))
                continue
        concepts[concept] = _pick(concept, _column_candidates(schema, roles, concept, COLUMN_SYNONYMS[concept]))

    for concept in ("line_amount", "quantity", "unit_price", "order_date", "order_status", "employment_end",
                    "hire_date", "sku", "currency", "team"):
        concepts[concept] = _pick(concept, _column_candidates(schema, roles, concept, COLUMN_SYNONYMS[concept]))

    # A line amount can be computed when only quantity and unit price are stored on the line.
    amount, quantity, price = concepts["line_amount"], concepts["quantity"], concepts["unit_price"]
    line_table = concepts["order_line"]["table"]
    if quantity["table"] and price["table"] and quantity["table"] == price["table"] == line_table and (
            amount["table"] != line_table or amount["confidence"] < 0.6):
        concepts["line_amount"] = {**_empty("line_amount"), "table": line_table, "column": None,
                                   "expression": "quantity * unit_price", "language": quantity["language"],
                                   "confidence": round(min(quantity["confidence"], price["confidence"]) * 0.9, 2)}
    status_column = schema.column(concepts["order_status"]["table"], concepts["order_status"]["column"])
    if status_column is not None:
        values, observed = _status_values(status_column)
        concepts["order_status"]["values"] = values
        concepts["order_status"]["values_observed"] = observed
    return concepts, shape


# ------------------------------------------------------------------------------------------ corrections
def corrections_validate(*, definition: dict[str, Any], corrections: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Field errors of admin corrections against the schema (empty when they all make sense)."""
    schema = _Schema(definition)
    errors: dict[str, list[str]] = {}
    for concept, correction in corrections.items():
        if concept not in CONCEPTS:
            errors.setdefault(concept, []).append(_("Unknown concept."))
            continue
        table, column = correction.get("table"), correction.get("column")
        if table is None and column is None:
            pass  # "this concept does not exist in our schema", or only its status values are corrected
        elif schema.table(table) is None:
            errors.setdefault(concept, []).append(_("Table %(table)s is not in the schema.") % {"table": table})
        elif column and schema.column(table, column) is None:
            errors.setdefault(concept, []).append(
                _("Column %(column)s is not in table %(table)s.") % {"column": column, "table": table})
        expression = correction.get("expression")
        if expression and expression != "quantity * unit_price":
            errors.setdefault(concept, []).append(_("Only the expression “quantity * unit_price” is supported."))
        values = correction.get("values") or {}
        if values and (not isinstance(values, dict) or not set(values) <= set(LOGICAL_STATUSES)):
            errors.setdefault(concept, []).append(
                _("Status values must map completed, cancelled or returned to lists of values."))
    return errors


def joins_validate(*, definition: dict[str, Any], joins: list[dict[str, Any]]) -> dict[str, list[str]]:
    schema = _Schema(definition)
    errors: dict[str, list[str]] = {}
    for index, join in enumerate(joins):
        for end in ("from", "to"):
            value = str(join.get(end) or "")
            table, _sep, column = value.rpartition(".")
            if not table or schema.column(table, column) is None:
                errors.setdefault(f"joins[{index}].{end}", []).append(
                    _("%(value)s is not a column of the schema.") % {"value": value})
    return errors


def _apply_corrections(schema: _Schema, concepts: dict[str, dict[str, Any]],
                       corrections: dict[str, dict[str, Any]]) -> None:
    for concept, correction in corrections.items():
        if concept not in concepts:
            continue
        table = schema.table(correction.get("table"))
        column = schema.column(correction.get("table"), correction.get("column"))
        values = correction.get("values") or {}
        entry = concepts[concept]
        if correction.get("table") is None and correction.get("column") is None and values and entry["table"]:
            entry.update(values={k: list(v) for k, v in values.items()}, values_observed=True, corrected_by_admin=True)
            continue
        if correction.get("table") and table is None:
            continue  # the correction no longer fits this schema: drop it rather than map to nothing
        entry.update(table=table["name"] if table else None, column=column["name"] if column else None,
                     expression=correction.get("expression") or None, candidates=[], corrected_by_admin=True,
                     confidence=1.0 if table else 0.0)
        if concept == "order_status" and column is not None:
            derived, observed = _status_values(column)
            entry["values"] = {k: list(v) for k, v in values.items()} if values else derived
            entry["values_observed"] = bool(values) or observed


# ------------------------------------------------------------------------------------------ score + feedback
_REQUIRED_LINKS = (("order_line", "order"), ("order", "salesperson"), ("order_line", "product"),
                   ("product", "product_line"), ("salesperson", "region"))


def _links(concepts: dict[str, dict[str, Any]], joins: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """For each pair of related concepts in different tables: can we join them?"""
    result = []
    for a, b in _REQUIRED_LINKS:
        table_a, table_b = concepts[a]["table"], concepts[b]["table"]
        if not table_a or not table_b or table_a.lower() == table_b.lower():
            continue
        result.append((a, b, join_path(joins, table_a, table_b) is not None))
    return result


def _score(concepts: dict[str, dict[str, Any]], links: list[tuple[str, str, bool]]) -> float:
    total = sum(WEIGHTS.values())
    got = sum(WEIGHTS[c] * float(concepts[c]["confidence"]) for c in CONCEPTS)
    score = got / total
    for _a, _b, ok in links:
        if not ok:
            score *= 0.85
    return round(max(0.0, min(1.0, score)), 2)


def _where(entry: dict[str, Any]) -> str:
    if entry.get("expression"):
        return f"{entry['table']}: {entry['expression']}"
    return f"{entry['table']}.{entry['column']}" if entry.get("column") else str(entry["table"])


def _questions_and_feedback(concepts: dict[str, dict[str, Any]], links: list[tuple[str, str, bool]], score: float,
                            shape: str, table_count: int) -> tuple[str, list[str]]:
    lines: list[str] = [_("Schema understanding: %(percent)s%%.") % {"percent": round(score * 100)}]
    if shape == "denormalised":
        lines.append(_("The sales data is one denormalised table (%(table)s): each row is an order line.")
                     % {"table": concepts["order"]["table"]})
    else:
        lines.append(_("The schema is normalised (%(count)s tables).") % {"count": table_count})
    questions: list[str] = []
    mapped, unsure, missing = [], [], []
    for concept in CONCEPTS:
        entry = concepts[concept]
        label = str(CONCEPT_LABELS[concept])
        if not entry["table"]:
            if WEIGHTS[concept] > 0:
                missing.append(label)
                questions.append(_("Which table and column hold the %(concept)s?") % {"concept": label})
            continue
        confidence = round(float(entry["confidence"]) * 100)
        if entry["confidence"] >= CONFIDENT or entry["corrected_by_admin"]:
            mapped.append(_("%(concept)s → %(where)s (%(confidence)s%%)")
                          % {"concept": label, "where": _where(entry), "confidence": confidence})
            continue
        unsure.append(_("%(concept)s → %(where)s (%(confidence)s%%)")
                      % {"concept": label, "where": _where(entry), "confidence": confidence})
        if WEIGHTS[concept] > 0:
            alternative = entry["candidates"][0] if entry["candidates"] else None
            if alternative:
                questions.append(_("Is the %(concept)s %(first)s or %(second)s?") % {
                    "concept": label, "first": _where(entry),
                    "second": f"{alternative['table']}.{alternative['column']}"})
            else:
                questions.append(_("Is %(where)s really the %(concept)s?") % {"where": _where(entry), "concept": label})
    if mapped:
        lines.append(_("Mapped: %(list)s.") % {"list": "; ".join(mapped)})
    if unsure:
        lines.append(_("Unsure: %(list)s.") % {"list": "; ".join(unsure)})
    if missing:
        lines.append(_("Not found: %(list)s.") % {"list": ", ".join(missing)})
    status = concepts["order_status"]
    if status["table"] and not status.get("values_observed"):
        assumed = ", ".join(
            f"{STATUS_LABELS[s]}: {'/'.join(status['values'].get(s, [])[:2])}" for s in ("cancelled", "returned"))
        questions.append(_("Which values of %(column)s mean a cancelled or a returned order? I assumed %(values)s.")
                         % {"column": _where(status), "values": assumed})
    elif status["table"]:
        for logical in ("cancelled", "returned"):
            if not status["values"].get(logical):
                questions.append(_("Which value of %(column)s means %(status)s? None of its values looks like it.")
                                 % {"column": _where(status), "status": STATUS_LABELS[logical]})
    for a, b, ok in links:
        if not ok:
            questions.append(_("How is %(a)s (%(table_a)s) linked to %(b)s (%(table_b)s)? No foreign key or "
                               "matching column was found.") % {
                "a": CONCEPT_LABELS[a], "table_a": concepts[a]["table"], "b": CONCEPT_LABELS[b],
                "table_b": concepts[b]["table"]})
    if questions:
        lines.append(_("Please answer the questions below so the campaign rules can be computed reliably."))
    return "\n".join(lines), questions


def schema_analyse(*, definition: dict[str, Any], language: str = "en",
                   corrections: dict[str, dict[str, Any]] | None = None,
                   extra_joins: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Map the campaign concepts onto ``definition``; feedback and questions are in ``language``."""
    schema = _Schema(definition)
    joins = joins_find(schema)
    known = {(j["from"].lower(), j["to"].lower()) for j in joins}
    for join in extra_joins or []:
        if (join["from"].lower(), join["to"].lower()) not in known:
            joins.append({"from": join["from"], "to": join["to"], "declared": False, "confidence": 1.0,
                          "corrected_by_admin": True})
    concepts, shape = _map_concepts(schema, joins)
    _apply_corrections(schema, concepts, corrections or {})
    links = _links(concepts, joins)
    score = _score(concepts, links)
    with translation.override(language):
        feedback, questions = _questions_and_feedback(concepts, links, score, shape, len(schema.tables))
    languages = [entry.get("language") for entry in concepts.values() if entry.get("language")]
    detected = max(set(languages), key=languages.count) if languages else None
    return {"concepts": concepts, "joins": joins, "shape": shape, "score": score, "feedback": feedback,
            "questions": questions, "language": language, "schema_language": detected}
