"""The rule document's JSON Schema and validation: every error names its JSON path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apps.rules.document import (
    SCHEMA_PATH,
    RuleDocumentInvalidError,
    rule_document_errors,
    rule_document_schema,
    rule_document_validate,
)

VALID: dict[str, Any] = {
    "version": 1,
    "language": "pt-br",
    "name": "Premium Line Q1",
    "period": {"start": "2026-01-01", "end": "2026-03-31"},
    "currency": "BRL",
    "goals": [
        {"id": "individual", "scope": "individual", "metric": "line_amount", "target": "50000.00",
         "filters": {"product_lines": ["Premium Line"], "categories": [], "skus": [], "regions": []},
         "rewards": [{"at_percent": 80, "points": 500}, {"at_percent": 100, "points": 1000}],
         "points_per_unit": None},
        {"id": "regional", "scope": "region", "metric": "line_amount", "target": "500000.00",
         "filters": {"product_lines": ["Premium Line"], "categories": [], "skus": [], "regions": []},
         "rewards": [{"at_percent": 100, "points": 500}], "points_per_unit": {"points": 1, "per": "100.00"}},
    ],
    "eligibility": {"employed_through_end": True, "excluded_statuses": ["cancelled", "returned"], "regions": [],
                    "min_order_value": None, "new_customers_only": False},
    "prizes": [{"id": "tv", "name": "Smart TV 55\"", "points_cost": 1000}],
    "caps": {"max_points_per_participant": None, "budget_points": None},
    "warnings": [{"code": "unsupported_condition", "message": "…", "question": "…"}],
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """VALID with the value at a dotted path (list indexes as numbers) replaced, or deleted for ``...``."""
    document = copy.deepcopy(VALID)
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    target: Any = document
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return document


def test_the_published_schema_is_a_valid_draft_2020_12_schema_and_the_file_is_what_is_served():
    schema = rule_document_schema()

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    schema["title"] = "changed by a caller"
    assert rule_document_schema()["title"] != "changed by a caller"


def test_the_contract_example_is_valid():
    assert rule_document_errors(document=VALID) == []
    assert rule_document_validate(document=VALID) is VALID


@pytest.mark.parametrize(
    ("document", "path", "code"),
    [
        (changed("name", ...), "$.name", "required"),
        (changed("goals.0.filters.brands", []), "$.goals[0].filters.brands", "unknown_field"),
        (changed("version", 2), "$.version", "enum"),
        (changed("currency", "GBP"), "$.currency", "enum"),
        (changed("language", "fr"), "$.language", "enum"),
        (changed("goals.1.scope", "district"), "$.goals[1].scope", "enum"),
        (changed("goals.0.target", "50,000"), "$.goals[0].target", "format"),
        (changed("goals.0.target", 50000), "$.goals[0].target", "type"),
        (changed("goals.0.id", "Individual Goal"), "$.goals[0].id", "format"),
        (changed("period.start", "01/01/2026"), "$.period.start", "format"),
        (changed("period.end", "2026-02-30"), "$.period.end", "format"),
        (changed("period.end", None), "$.period.end", "required"),
        (changed("goals", []), "$.goals", "min_items"),
        (changed("goals.0.rewards", []), "$.goals[0].rewards", "min_items"),
        (changed("goals.0.rewards.1.points", -1), "$.goals[0].rewards[1].points", "min"),
        (changed("goals.1.points_per_unit", {"points": 1}), "$.goals[1].points_per_unit.per", "required"),
        (changed("goals.1.points_per_unit", {"points": 0, "per": "10.00"}), "$.goals[1].points_per_unit.points",
         "min"),
        (changed("eligibility.excluded_statuses", ["cancelled", "cancelled"]), "$.eligibility.excluded_statuses",
         "not_unique"),
        (changed("eligibility.min_order_value", 100), "$.eligibility.min_order_value", "type"),
        (changed("prizes.0.points_cost", 0), "$.prizes[0].points_cost", "min"),
        (changed("caps.budget_points", "lots"), "$.caps.budget_points", "type"),
        (changed("warnings.0.question", ""), "$.warnings[0].question", "blank"),
    ],
)
def test_schema_errors_name_the_json_path(document, path, code):
    errors = [error.as_dict() for error in rule_document_errors(document=document)]

    assert [(error["path"], error["code"]) for error in errors] == [(path, code)]
    assert errors[0]["message"]


@pytest.mark.parametrize(
    ("document", "path", "code"),
    [
        (changed("period.end", "2025-12-31"), "$.period.end", "period_order"),
        (changed("goals.0.rewards", [{"at_percent": 100, "points": 1000}, {"at_percent": 80, "points": 1500}]),
         "$.goals[0].rewards[1].at_percent", "not_ascending"),
        (changed("goals.0.rewards", [{"at_percent": 80, "points": 1000}, {"at_percent": 100, "points": 500}]),
         "$.goals[0].rewards[1].points", "not_ascending"),
        (changed("goals.0.target", "0.00"), "$.goals[0].target", "not_positive"),
        (changed("goals.0.metric", "quantity") | {}, "$.goals[0].target", "not_integer"),
        (changed("goals.1.id", "individual"), "$.goals[1].id", "duplicate_id"),
        (changed("prizes", [{"id": "tv", "name": "TV", "points_cost": 1}, {"id": "tv", "name": "TV 2",
                                                                              "points_cost": 2}]),
         "$.prizes[1].id", "duplicate_id"),
        (changed("eligibility.min_order_value", "0.00"), "$.eligibility.min_order_value", "not_positive"),
        (changed("goals.1.points_per_unit", {"points": 1, "per": "0"}), "$.goals[1].points_per_unit.per",
         "not_positive"),
        (changed("goals.0.rewards", [{"at_percent": 100, "points": 0}]), "$.goals[0].rewards", "no_reward"),
    ],
)
def test_semantic_errors_name_the_json_path(document, path, code):
    errors = rule_document_errors(document=document)

    assert [(error.path, error.code) for error in errors] == [(path, code)]


def test_a_quantity_goal_needs_whole_units_and_a_money_goal_fits_its_currency():
    quantity = changed("goals.0.metric", "quantity")
    quantity["goals"][0]["target"] = "300"
    quantity["goals"][0]["points_per_unit"] = {"points": 1, "per": "2.5"}

    assert [(error.path, error.code) for error in rule_document_errors(document=quantity)] == [
        ("$.goals[0].points_per_unit.per", "not_integer")]


def test_validate_raises_422_with_every_error_by_path():
    document = changed("period.end", "2025-12-31")
    document["goals"][1]["id"] = "individual"

    with pytest.raises(RuleDocumentInvalidError) as raised:
        rule_document_validate(document=document)

    assert raised.value.status_code == 422
    assert raised.value.code == "invalid_rule_document"
    assert set(raised.value.fields) == {"$.period.end", "$.goals[1].id"}


@pytest.mark.parametrize("document", [None, [], "a rule", 42])
def test_anything_but_an_object_is_refused(document):
    errors = rule_document_errors(document=document)

    assert [(error.path, error.code) for error in errors] == [("$", "type")]
