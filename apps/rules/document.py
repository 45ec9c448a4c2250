"""The rule document (version 1): its published JSON Schema, and validation that names the JSON path.

A rule document is plain JSON (see ``schemas/rule-document-v1.json``): goals, eligibility, prizes, accrual,
caps and the warnings the parser could not resolve. ``rule_document_errors`` checks it against the JSON Schema
(draft 2020-12) and then the rules a schema cannot say: the period's end is not before its start, reward
thresholds ascend, targets are positive, ids are unique, amounts fit the currency. Every error carries the
JSON path of the offending value (``$.goals[0].rewards[1].at_percent``).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaValidationError

from apps.core.errors import UnprocessableError

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "rule-document-v1.json"
DOCUMENT_VERSION = 1
LANGUAGES = ("en", "pt-br", "es")
CURRENCIES = ("BRL", "USD", "EUR", "MXN")
# Digits after the decimal point each currency allows (ISO 4217 minor units).
CURRENCY_MINOR_UNITS = {"BRL": 2, "USD": 2, "EUR": 2, "MXN": 2}
SCOPES = ("individual", "team", "region", "company")
METRICS = ("line_amount", "quantity", "order_count")
COUNT_METRICS = frozenset({"quantity", "order_count"})
STATUSES = ("cancelled", "returned")
FILTER_KEYS = ("product_lines", "categories", "skus", "regions")


@dataclass(frozen=True)
class DocumentError:
    """One problem of a rule document: where (a JSON path), a stable code and a translated message."""

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


class RuleDocumentInvalidError(UnprocessableError):
    default_code = "invalid_rule_document"

    def __init__(self, errors: list[DocumentError]) -> None:
        fields: dict[str, list[str]] = {}
        for error in errors:
            fields.setdefault(error.path, []).append(error.message)
        super().__init__(_("The rule document is not valid."), fields=fields)
        self.errors = errors


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return schema


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(_schema(), format_checker=FormatChecker())


def rule_document_schema() -> dict[str, Any]:
    """The published JSON Schema of rule documents (a copy: callers may change it)."""
    return copy.deepcopy(_schema())


def rule_document_empty(*, language: str = "en") -> dict[str, Any]:
    """A document with every key present and nothing decided: what a parser fills in."""
    return {
        "version": DOCUMENT_VERSION,
        "language": language,
        "name": "",
        "period": {"start": None, "end": None},
        "currency": None,
        "goals": [],
        "eligibility": {
            "employed_through_end": False,
            "excluded_statuses": [],
            "regions": [],
            "min_order_value": None,
            "new_customers_only": False,
        },
        "prizes": [],
        "caps": {"max_points_per_participant": None, "budget_points": None},
        "warnings": [],
    }


def rule_document_errors(*, document: Any) -> list[DocumentError]:
    """Every problem of ``document``: JSON Schema errors first; the semantic checks run only on a
    document that satisfies the schema (they rely on its shape)."""
    errors = sorted(
        (error for raw in _validator().iter_errors(document) for error in _schema_errors(raw)),
        key=lambda error: error.path,
    )
    if errors:
        return _dedupe(errors)
    return _semantic_errors(document)


def rule_document_validate(*, document: Any) -> dict[str, Any]:
    """Return ``document`` when it is valid; raise ``RuleDocumentInvalidError`` (422) listing every error."""
    errors = rule_document_errors(document=document)
    if errors:
        raise RuleDocumentInvalidError(errors)
    return document


# ---------------------------------------------------------------------------------------------- JSON Schema


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _dedupe(errors: list[DocumentError]) -> list[DocumentError]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for error in errors:
        if (error.path, error.code) not in seen:
            seen.add((error.path, error.code))
            unique.append(error)
    return unique


def _is_null_branch(error: SchemaValidationError) -> bool:
    return error.validator == "type" and error.validator_value == "null"


def _schema_errors(error: SchemaValidationError) -> list[DocumentError]:
    """Turn one jsonschema error into ours, descending into oneOf/anyOf to the branch that matters."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branch_errors = [sub for sub in error.context if not _is_null_branch(sub)]
        # A {"type": "null"} / {"$ref": ...} pair whose $ref branch failed on type: report the expected type.
        if branch_errors:
            return [mapped for sub in branch_errors for mapped in _schema_errors(sub)]
    path = list(error.absolute_path)
    value = error.validator_value
    instance = error.instance
    match error.validator:
        case "required":
            missing = [key for key in value if not isinstance(instance, dict) or key not in instance]
            return [DocumentError(_json_path([*path, key]), "required", _("This field is required."))
                    for key in missing]
        case "additionalProperties":
            known = set(error.schema.get("properties", {}))
            extra = sorted(key for key in instance if key not in known) if isinstance(instance, dict) else []
            return [DocumentError(_json_path([*path, key]), "unknown_field", _("Unknown field."))
                    for key in extra]
        case "type" if instance is None and path:
            return [DocumentError(_json_path(path), "required", _("This field is required."))]
        case "type":
            message = _("Must be of type %(type)s.") % {"type": value if isinstance(value, str) else "/".join(value)}
            return [DocumentError(_json_path(path), "type", message)]
        case "enum":
            choices = ", ".join(str(choice) for choice in value)
            return [DocumentError(_json_path(path), "enum", _("Must be one of: %(choices)s.") % {"choices": choices})]
        case "const":
            return [DocumentError(_json_path(path), "enum", _("Must be %(value)s.") % {"value": value})]
        case "pattern" | "format":
            return [DocumentError(_json_path(path), "format", _format_message(error))]
        case "minimum" | "exclusiveMinimum":
            return [DocumentError(_json_path(path), "min", _("Must be at least %(limit)s.") % {"limit": value})]
        case "maximum" | "exclusiveMaximum":
            return [DocumentError(_json_path(path), "max", _("Must be at most %(limit)s.") % {"limit": value})]
        case "minItems":
            message = ngettext("Must have at least %(count)d item.", "Must have at least %(count)d items.", value)
            return [DocumentError(_json_path(path), "min_items", message % {"count": value})]
        case "maxItems":
            message = ngettext("Must have at most %(count)d item.", "Must have at most %(count)d items.", value)
            return [DocumentError(_json_path(path), "max_items", message % {"count": value})]
        case "minLength":
            return [DocumentError(_json_path(path), "blank", _("Must not be empty."))]
        case "maxLength":
            message = ngettext("Must have at most %(count)d character.", "Must have at most %(count)d characters.",
                               value)
            return [DocumentError(_json_path(path), "max_length", message % {"count": value})]
        case "uniqueItems":
            return [DocumentError(_json_path(path), "not_unique", _("Items must be unique."))]
    return [DocumentError(_json_path(path), "invalid", _("Invalid value."))]


def _format_message(error: SchemaValidationError) -> str:
    if error.validator == "format" or "[0-9]{4}-" in str(error.validator_value):
        return _("Must be a date written YYYY-MM-DD.")
    if "\\." in str(error.validator_value):
        return _("Must be a decimal number written as a string, e.g. \"50000.00\" (at most two decimal places).")
    return _("Must be a lowercase identifier: a letter, then letters, digits or underscores.")


# ---------------------------------------------------------------------------------------------- semantics


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):  # the schema's pattern makes this unreachable; keep it total
        return Decimal(0)


def _places(value: str) -> int:
    return len(value.partition(".")[2])


def _semantic_errors(document: dict[str, Any]) -> list[DocumentError]:
    errors: list[DocumentError] = []
    errors += _period_errors(document["period"])
    minor_units = CURRENCY_MINOR_UNITS[document["currency"]]

    def money(path: str, value: str) -> None:
        if _places(value) > minor_units:
            errors.append(DocumentError(path, "currency_precision", _(
                "%(currency)s amounts have at most %(places)d decimal places."
            ) % {"currency": document["currency"], "places": minor_units}))

    seen_goals: set[str] = set()
    for index, goal in enumerate(document["goals"]):
        base = f"$.goals[{index}]"
        if goal["id"] in seen_goals:
            errors.append(DocumentError(f"{base}.id", "duplicate_id", _("Another goal already has this id.")))
        seen_goals.add(goal["id"])
        counted = goal["metric"] in COUNT_METRICS
        target = _decimal(goal["target"])
        if target <= 0:
            errors.append(DocumentError(f"{base}.target", "not_positive", _("The target must be greater than zero.")))
        if counted and "." in goal["target"]:
            errors.append(DocumentError(f"{base}.target", "not_integer", _(
                "A quantity or order-count target must be a whole number.")))
        if not counted:
            money(f"{base}.target", goal["target"])
        errors += _reward_errors(base, goal)
        per_unit = goal["points_per_unit"]
        if per_unit is not None:
            per = _decimal(per_unit["per"])
            if per <= 0:
                errors.append(DocumentError(f"{base}.points_per_unit.per", "not_positive", _(
                    "The amount that earns points must be greater than zero.")))
            elif counted and "." in per_unit["per"]:
                errors.append(DocumentError(f"{base}.points_per_unit.per", "not_integer", _(
                    "Points per unit of a quantity or order count need a whole number of units.")))
            if not counted:
                money(f"{base}.points_per_unit.per", per_unit["per"])
        if per_unit is None and all(reward["points"] == 0 for reward in goal["rewards"]):
            errors.append(DocumentError(f"{base}.rewards", "no_reward", _(
                "Reaching this goal awards no points: give a threshold points or set points per unit.")))

    seen_prizes: set[str] = set()
    for index, prize in enumerate(document["prizes"]):
        if prize["id"] in seen_prizes:
            errors.append(DocumentError(f"$.prizes[{index}].id", "duplicate_id", _(
                "Another prize already has this id.")))
        seen_prizes.add(prize["id"])

    minimum = document["eligibility"]["min_order_value"]
    if minimum is not None:
        if _decimal(minimum) <= 0:
            errors.append(DocumentError("$.eligibility.min_order_value", "not_positive", _(
                "The minimum order value must be greater than zero.")))
        money("$.eligibility.min_order_value", minimum)
    return errors


def _period_errors(period: dict[str, str]) -> list[DocumentError]:
    try:
        start = dt.date.fromisoformat(period["start"])
        end = dt.date.fromisoformat(period["end"])
    except ValueError:  # the format checker reports it already
        return []
    if end < start:
        return [DocumentError("$.period.end", "period_order", _("The period cannot end before it starts."))]
    return []


def _reward_errors(base: str, goal: dict[str, Any]) -> list[DocumentError]:
    errors: list[DocumentError] = []
    rewards = goal["rewards"]
    for index in range(1, len(rewards)):
        previous, current = rewards[index - 1], rewards[index]
        if current["at_percent"] <= previous["at_percent"]:
            errors.append(DocumentError(f"{base}.rewards[{index}].at_percent", "not_ascending", _(
                "Reward thresholds must be in ascending order, each above the one before.")))
        if current["points"] < previous["points"]:
            errors.append(DocumentError(f"{base}.rewards[{index}].points", "not_ascending", _(
                "A higher threshold cannot pay fewer points than a lower one.")))
    return errors
