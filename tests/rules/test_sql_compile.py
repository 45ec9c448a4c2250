"""The compiler: an AST generated per dialect, every value a bound parameter, refusals for what the mapping
cannot support, and text that tries to inject never producing anything but a SELECT."""

from __future__ import annotations

import copy

import pytest
import sqlglot
from sqlglot import exp

from apps.core.errors import UnprocessableError
from apps.rules.demo_data import sales_ddl
from apps.rules.schema_analysis import schema_analyse
from apps.rules.schema_ingest import schema_from_ddl, schema_from_json
from apps.rules.selectors import mapped_tables
from apps.rules.sql_compile import CompileError, campaign_compile
from apps.rules.sql_guard import sql_static_check

DOCUMENT = {
    "version": 1, "language": "en", "name": "Premium Line Q1", "currency": "BRL",
    "period": {"start": "2026-01-01", "end": "2026-03-31"},
    "goals": [
        {"id": "individual", "scope": "individual", "metric": "line_amount", "target": "50000.00",
         "filters": {"product_lines": ["Premium Line"], "categories": [], "skus": [], "regions": []},
         "rewards": [{"at_percent": 100, "points": 1000}], "points_per_unit": None},
        {"id": "regional", "scope": "region", "metric": "line_amount", "target": "500000.00",
         "filters": {"product_lines": ["Premium Line"], "categories": [], "skus": [], "regions": []},
         "rewards": [{"at_percent": 100, "points": 500}], "points_per_unit": None},
    ],
    "eligibility": {"employed_through_end": True, "excluded_statuses": ["cancelled", "returned"], "regions": [],
                    "min_order_value": None, "new_customers_only": False},
    "prizes": [{"id": "tv", "name": "Smart TV", "points_cost": 1000}],
    "caps": {"max_points_per_participant": None, "budget_points": None},
    "warnings": [],
}


@pytest.fixture(scope="module")
def english() -> tuple[dict, dict]:
    definition = schema_from_ddl(ddl=sales_ddl(shape="en"), dialect="postgres")
    return definition, schema_analyse(definition=definition)


def _document(**changes) -> dict:
    document = copy.deepcopy(DOCUMENT)
    for key, value in changes.items():
        document[key] = value
    return document


def _literals(sql: str, dialect: str) -> list[exp.Literal]:
    parse_text = sql.replace("%s", "?") if dialect == "mysql" else sql
    return list(sqlglot.parse_one(parse_text, read=dialect).find_all(exp.Literal))


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "tsql", "sqlite"])
def test_every_dialect_gets_a_parseable_select_without_literal_values(dialect, english):
    definition, mapping = english
    compiled = campaign_compile(document=DOCUMENT, mapping=mapping, dialect=dialect, definition=definition)

    for query in compiled.queries:
        marker = "%s" if dialect in ("postgres", "mysql") else "?"
        assert query.sql.count(marker) == len(query.params)
        assert query.paramstyle == ("format" if marker == "%s" else "qmark")
        # The only literal left is the preview's LIMIT (an integer we chose, not a value from the rules).
        literals = [lit for lit in _literals(query.sql, dialect) if not lit.find_ancestor(exp.Limit)]
        assert [lit.sql() for lit in literals if lit.is_string] == []
        assert all(not lit.is_string for lit in literals)
        report = sql_static_check(sql=query.sql, dialect=dialect, definition=definition,
                                  mapped_tables=mapped_tables(mapping=mapping))
        assert report.ok, report.errors


def test_values_are_parameters_in_order(english):
    definition, mapping = english
    compiled = campaign_compile(document=DOCUMENT, mapping=mapping, dialect="sqlite", definition=definition)

    params = compiled.participants.params
    assert params[:2] == ["2026-01-01", "2026-04-01"]
    # Status values assumed for a DDL schema: the spellings of both statuses in the three languages.
    assert {"cancelled", "canceled", "Cancelled", "cancelado", "returned", "devolvido", "devuelto"} <= set(params)
    assert "premium line" in params
    assert 50000.0 in params and 1000 in params and "terminated_before_end" in params
    assert compiled.participants.columns == [
        "participant_id", "region", "eligible", "ineligible_reason", "individual_attained", "individual_percent",
        "individual_points", "regional_attained", "regional_percent", "regional_points", "points_total"]
    assert compiled.regions is not None and compiled.regions.columns[0] == "region"
    assert compiled.company is None


@pytest.mark.parametrize("hostile", [
    "Premium'); DROP TABLE orders; --",
    "ignore the rules and DROP TABLE orders",
    "x' OR '1'='1",
    "update orders set status = 'completed'",
])
def test_hostile_filter_values_stay_parameters(hostile, english):
    definition, mapping = english
    document = _document()
    document["goals"][0]["filters"]["product_lines"] = [hostile]
    document["goals"][1]["filters"]["product_lines"] = [hostile]
    compiled = campaign_compile(document=document, mapping=mapping, dialect="postgres", definition=definition)

    for query in compiled.queries:
        assert "DROP" not in query.sql.upper() and "UPDATE" not in query.sql.upper()
        assert hostile.lower() in query.params
        statements = sqlglot.parse(query.sql, read="postgres")
        assert len(statements) == 1 and isinstance(statements[0], exp.Select)


def test_different_goal_filters_become_conditional_aggregates(english):
    definition, mapping = english
    document = _document()
    document["goals"][1]["filters"]["product_lines"] = ["Standard Line"]
    compiled = campaign_compile(document=document, mapping=mapping, dialect="postgres", definition=definition)

    assert "CASE WHEN" in compiled.participants.sql.split(" pp AS ")[0]
    assert {"premium line", "standard line"} <= set(compiled.participants.params)


def test_company_scope_and_team_scope(english):
    definition, mapping = english
    document = _document()
    document["goals"][1]["scope"] = "company"
    compiled = campaign_compile(document=document, mapping=mapping, dialect="postgres", definition=definition)
    assert "OVER ()" in compiled.participants.sql
    assert compiled.company is not None and compiled.regions is None

    document["goals"][1]["scope"] = "team"
    with pytest.raises(CompileError) as caught:
        campaign_compile(document=document, mapping=mapping, dialect="postgres", definition=definition)
    assert caught.value.code == "concept_unmapped"


def test_unmapped_concept_is_a_422_naming_it():
    definition = schema_from_json(description={"tables": [
        {"name": "orders", "columns": {"id": "integer", "order_date": "date", "total": "numeric",
                                       "salesperson_id": "integer"}, "primary_key": "id"}]})
    mapping = schema_analyse(definition=definition)

    with pytest.raises(CompileError) as caught:
        campaign_compile(document=DOCUMENT, mapping=mapping, dialect="postgres", definition=definition)
    assert caught.value.status_code == 422
    assert caught.value.code == "concept_unmapped"


def test_missing_join_is_a_422():
    definition = schema_from_json(description={"tables": [
        {"name": "orders", "columns": {"id": "integer", "order_date": "date", "status": "text",
                                       "salesperson_id": "integer"}, "primary_key": "id"},
        {"name": "order_items", "columns": {"id": "integer", "ref": "integer", "total": "numeric"},
         "primary_key": "id"},
    ]})
    mapping = schema_analyse(definition=definition)
    document = _document(goals=[dict(DOCUMENT["goals"][0], filters={"product_lines": [], "categories": [],
                                                                     "skus": [], "regions": []})])
    document["eligibility"] = dict(DOCUMENT["eligibility"], employed_through_end=False)

    with pytest.raises(CompileError) as caught:
        campaign_compile(document=document, mapping=mapping, dialect="postgres", definition=definition)
    assert caught.value.code == "join_path_missing"


def test_invalid_document_is_refused_before_compiling(english):
    definition, mapping = english
    with pytest.raises(UnprocessableError) as caught:
        campaign_compile(document=_document(goals=[]), mapping=mapping, dialect="postgres", definition=definition)
    assert caught.value.code == "invalid_rule_document"


def test_unknown_dialect_is_refused(english):
    definition, mapping = english
    with pytest.raises(CompileError):
        campaign_compile(document=DOCUMENT, mapping=mapping, dialect="db2", definition=definition)


def test_schema_qualified_tables_keep_their_schema():
    ddl = sales_ddl(shape="en", dialect="tsql").replace("CREATE TABLE ", "CREATE TABLE dbo.")
    definition = schema_from_ddl(ddl=ddl, dialect="tsql")
    mapping = schema_analyse(definition=definition)
    compiled = campaign_compile(document=DOCUMENT, mapping=mapping, dialect="tsql", definition=definition)

    assert "[dbo].[order_items]" in compiled.participants.sql


def test_new_customers_only_and_region_eligibility_match_a_reference(pg_sources):
    from apps.rules.schema_ingest import schema_introspect
    from apps.rules.source_db import source_fetch

    source = pg_sources["en"]
    definition = schema_introspect(source=source)
    mapping = schema_analyse(definition=definition)
    document = _document()
    document["goals"] = [DOCUMENT["goals"][0]]
    document["eligibility"] = {"employed_through_end": False, "excluded_statuses": ["cancelled"],
                               "regions": ["south", "North"], "min_order_value": None, "new_customers_only": True}
    compiled = campaign_compile(document=document, mapping=mapping, dialect="postgres", definition=definition)
    columns, rows = source_fetch(source=source, sql=compiled.participants.sql, params=compiled.participants.params)
    actual = {row[0]: (row[1], row[2], row[3], round(float(row[4]), 2))
              for row in (tuple(r) for r in rows)}

    _c, reference = source_fetch(source=source, sql="""
        SELECT s.id, r.name,
               CASE WHEN r.name IN ('South', 'North') THEN 1 ELSE 0 END,
               CASE WHEN r.name IN ('South', 'North') THEN NULL ELSE 'region_not_included' END,
               COALESCE((SELECT SUM(i.total) FROM order_items i JOIN orders o ON o.id = i.order_id
                         JOIN products p ON p.id = i.product_id JOIN product_lines l ON l.id = p.product_line_id
                         WHERE o.salesperson_id = s.id AND o.order_date BETWEEN '2026-01-01' AND '2026-03-31'
                           AND o.status <> 'cancelled' AND l.name = 'Premium Line'
                           AND NOT EXISTS (SELECT 1 FROM orders e WHERE e.customer_id = o.customer_id
                                           AND e.order_date < '2026-01-01')), 0)
        FROM salespeople s LEFT JOIN regions r ON r.id = s.region_id""")
    expected = {row[0]: (row[1], row[2], row[3], round(float(row[4]), 2)) for row in reference}

    assert columns[:4] == ["participant_id", "region", "eligible", "ineligible_reason"]
    assert actual == expected
    assert {value[1] for value in actual.values()} == {0, 1}
    assert any(value[3] > 0 for value in actual.values())
