"""The table of cases: (schema shape, campaign text, language) -> the compiled SQL's results on a generated
sales database equal a hand-written reference query's results.

Each case is campaign text in English, Portuguese and Spanish, parsed into a rule document by the language
side, compiled against the mapping the schema analysis produced from the live database (introspected), run
on PostgreSQL and on SQLite, and compared with reference SQL written by hand for each shape.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from apps.rules.schema_analysis import schema_analyse
from apps.rules.schema_ingest import schema_introspect
from apps.rules.selectors import mapped_tables
from apps.rules.source_db import SourceDatabase, source_fetch
from apps.rules.sql_compile import campaign_compile
from apps.rules.sql_guard import sql_validate

TEXTS: dict[str, dict[str, str]] = {
    # The seed's example: individual and regional goals on Premium Line, employment, excluded statuses.
    "premium": {
        "en": """Campaign Premium Line Q1 2026, from January 1 to March 31, 2026.
Individual goal: 50,000 Brazilian Reals in Premium Line sales, reaching it earns 1,000 points.
Regional goal: 500,000 Brazilian Reals in Premium Line sales, reaching it earns 500 points.
Salespeople must be actively employed until the last day of the campaign.
Cancelled or returned sales are not eligible.""",
        "pt-br": """Campanha Premium Line 1º trimestre 2026, de 1 de janeiro a 31 de março de 2026.
Meta individual: R$ 50 mil em vendas da Premium Line; quem atingir ganha 1.000 pontos.
Meta regional: R$ 500 mil em vendas da Premium Line; ao atingir, cada vendedor da região ganha 500 pontos.
O vendedor precisa estar ativo até o último dia da campanha.
Vendas canceladas ou devolvidas não contam.""",
        "es": """Campaña Premium Line T1 2026, del 1 de enero al 31 de marzo de 2026.
Meta individual: 50.000 pesos mexicanos en ventas de Premium Line; al alcanzarla gana 1.000 puntos.
Meta regional: 500.000 pesos mexicanos en ventas de Premium Line; al alcanzarla gana 500 puntos.
El vendedor debe estar activo hasta el último día de la campaña.
Las ventas canceladas o devueltas no cuentan.""",
    },
    # Units of one product line with 80 / 100 / 120 % accelerators; only cancelled sales excluded.
    "units": {
        "en": """Volume push, from February 1 to April 30, 2026.
Individual goal: 150 units of Standard Line products.
Reaching 80% of the goal earns 100 points, 100% earns 300 points and 120% earns 500 points.
Cancelled sales do not count.""",
        "pt-br": """Campanha de volume, de 1 de fevereiro a 30 de abril de 2026.
Meta individual: 150 unidades de produtos da Standard Line.
Atingir 80% da meta dá 100 pontos, 100% dá 300 pontos e 120% dá 500 pontos.
Vendas canceladas não contam.""",
        "es": """Campaña de volumen, del 1 de febrero al 30 de abril de 2026.
Meta individual: 150 unidades de productos de Standard Line.
Alcanzar el 80% de la meta da 100 puntos, el 100% da 300 puntos y el 120% da 500 puntos.
Las ventas canceladas no cuentan.""",
    },
    # Points per currency unit with a cap, minimum order value, returned sales excluded.
    "accrual": {
        "en": """Large orders, from January 1 to March 31, 2026.
Individual goal: R$ 100,000 in sales.
Earn 1 point for every R$ 100 sold.
At most 3,000 points per participant.
Returned sales do not count. Only orders of at least R$ 1,000 count.""",
        "pt-br": """Pedidos grandes, de 1 de janeiro a 31 de março de 2026.
Meta individual: R$ 100 mil em vendas.
Ganhe 1 ponto a cada R$ 100 vendidos.
No máximo 3.000 pontos por participante.
Vendas devolvidas não contam. Só contam pedidos de no mínimo R$ 1.000.""",
        "es": """Pedidos grandes, del 1 de enero al 31 de marzo de 2026.
Meta individual: 100.000 pesos mexicanos en ventas.
Gana 1 punto por cada 100 pesos vendidos.
Máximo 3.000 puntos por participante.
Las ventas devueltas no cuentan. Solo cuentan pedidos de al menos 1.000 pesos.""",
    },
}

# What each case means, for the reference: period, statuses excluded, product line, metric, targets, points.
MEANING: dict[str, dict[str, Any]] = {
    "premium": {"start": "2026-01-01", "end": "2026-03-31", "excluded": ("cancelled", "returned"),
                "line": "Premium Line", "metric": "amount", "employed": True, "min_order": None,
                "goals": {"individual": ("individual", Decimal(50000), [(100, 1000)]),
                          "regional": ("region", Decimal(500000), [(100, 500)])},
                "per_unit": None, "cap": None},
    "units": {"start": "2026-02-01", "end": "2026-04-30", "excluded": ("cancelled",), "line": "Standard Line",
              "metric": "quantity", "employed": False, "min_order": None,
              "goals": {"individual": ("individual", Decimal(150), [(80, 100), (100, 300), (120, 500)])},
              "per_unit": None, "cap": None},
    "accrual": {"start": "2026-01-01", "end": "2026-03-31", "excluded": ("returned",), "line": None,
                "metric": "amount", "employed": False, "min_order": 1000,
                "goals": {"individual": ("individual", Decimal(100000), [])}, "per_unit": (1, Decimal(100)),
                "cap": 3000},
}

RAW_STATUS = {
    "en": {"cancelled": "cancelled", "returned": "returned"},
    "pt": {"cancelled": "cancelado", "returned": "devolvido"},
    "es-denorm": {"cancelled": "cancelado", "returned": "devuelto"},
}
NAMES = {
    "en": {"sp": "salespeople", "term": "termination_date", "sp_region": "region_id", "regions": "regions",
           "region_name": "name", "orders": "orders", "o_date": "order_date", "o_status": "status",
           "o_sp": "salesperson_id", "items": "order_items", "i_order": "order_id", "i_product": "product_id",
           "i_qty": "quantity", "i_amount": "total", "products": "products", "p_line": "product_line_id",
           "lines": "product_lines", "line_name": "name"},
    "pt": {"sp": "vendedores", "term": "data_desligamento", "sp_region": "regiao_id", "regions": "regioes",
           "region_name": "nome", "orders": "pedidos", "o_date": "data_pedido", "o_status": "situacao",
           "o_sp": "vendedor_id", "items": "itens_pedido", "i_order": "pedido_id", "i_product": "produto_id",
           "i_qty": "quantidade", "i_amount": "valor_total", "products": "produtos", "p_line": "linha_produto_id",
           "lines": "linhas_produto", "line_name": "nome"},
}


def _parse(text: str, language: str) -> dict[str, Any]:
    """The language side's entry point (services.rule_document_from_text), or its deterministic parser."""
    from apps.rules import services

    if hasattr(services, "rule_document_from_text"):
        result = services.rule_document_from_text(text=text, language=language, use_ai=False)
    else:
        from apps.rules.nl_parse import rule_document_parse

        result = rule_document_parse(text=text, language=language)
    assert not getattr(result, "errors", []), result.errors
    return result.document


# ------------------------------------------------------------------------------------------ reference SQL
def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _reference_sql(shape: str, meaning: dict[str, Any]) -> tuple[str, str]:
    """(participants SQL, attained SQL) written by hand for the shape; literals inline (test code)."""
    statuses = ", ".join(_quote(RAW_STATUS[shape][s]) for s in meaning["excluded"])
    if shape == "es-denorm":
        participants = ("SELECT vendedor_id, MAX(region), MAX(fecha_baja) FROM ventas GROUP BY vendedor_id")
        value = "SUM(v.importe)" if meaning["metric"] == "amount" else "SUM(v.cantidad)"
        where = [f"v.fecha_pedido >= {_quote(meaning['start'])}", f"v.fecha_pedido <= {_quote(meaning['end'])}",
                 f"v.estado NOT IN ({statuses})"]
        if meaning["line"]:
            where.append(f"v.linea_producto = {_quote(meaning['line'])}")
        if meaning["min_order"]:
            where.append("v.numero_pedido IN (SELECT numero_pedido FROM ventas GROUP BY numero_pedido "
                         f"HAVING SUM(importe) >= {meaning['min_order']})")
        attained = f"SELECT v.vendedor_id, {value} FROM ventas v WHERE {' AND '.join(where)} GROUP BY v.vendedor_id"
        return participants, attained
    n = NAMES[shape]
    participants = (f"SELECT s.id, r.{n['region_name']}, s.{n['term']} FROM {n['sp']} s "
                    f"LEFT JOIN {n['regions']} r ON r.id = s.{n['sp_region']}")
    value = f"SUM(i.{n['i_amount']})" if meaning["metric"] == "amount" else f"SUM(i.{n['i_qty']})"
    joins = f"FROM {n['items']} i JOIN {n['orders']} o ON o.id = i.{n['i_order']}"
    where = [f"o.{n['o_date']} >= {_quote(meaning['start'])}", f"o.{n['o_date']} <= {_quote(meaning['end'])}",
             f"o.{n['o_status']} NOT IN ({statuses})"]
    if meaning["line"]:
        joins += (f" JOIN {n['products']} p ON p.id = i.{n['i_product']}"
                  f" JOIN {n['lines']} l ON l.id = p.{n['p_line']}")
        where.append(f"l.{n['line_name']} = {_quote(meaning['line'])}")
    if meaning["min_order"]:
        where.append(f"i.{n['i_order']} IN (SELECT {n['i_order']} FROM {n['items']} GROUP BY {n['i_order']} "
                     f"HAVING SUM({n['i_amount']}) >= {meaning['min_order']})")
    attained = f"SELECT o.{n['o_sp']}, {value} {joins} WHERE {' AND '.join(where)} GROUP BY o.{n['o_sp']}"
    return participants, attained


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _expected(source: SourceDatabase, shape: str, case: str) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    meaning = MEANING[case]
    participants_sql, attained_sql = _reference_sql(shape, meaning)
    _c, people = source_fetch(source=source, sql=participants_sql)
    _c, sums = source_fetch(source=source, sql=attained_sql)
    own = {row[0]: _money(row[1]) for row in sums}
    by_region: dict[Any, Decimal] = {}
    for pid, region, _term in people:
        by_region[region] = by_region.get(region, Decimal(0)) + own.get(pid, Decimal(0))
    rows = []
    for pid, region, termination in sorted(people, key=lambda r: r[0]):
        ended = str(termination)[:10] if termination else None
        eligible = not (meaning["employed"] and ended is not None and ended < meaning["end"])
        row = {"participant_id": pid, "region": region, "eligible": int(eligible), "points_total": 0}
        for goal_id, (scope, target, rewards) in meaning["goals"].items():
            attained = own.get(pid, Decimal(0)) if scope == "individual" else by_region[region]
            points = max([p for percent, p in rewards if attained * 100 >= target * percent] or [0])
            if meaning["per_unit"]:
                points += int(attained // meaning["per_unit"][1]) * meaning["per_unit"][0]
            points = points if eligible else 0
            row[f"{goal_id}_attained"] = attained
            row[f"{goal_id}_percent"] = (attained * 100 / target).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            row[f"{goal_id}_points"] = points
            row["points_total"] += points
        if meaning["cap"]:
            row["points_total"] = min(row["points_total"], meaning["cap"])
        rows.append(row)
    return rows, by_region


def _normalise(columns: list[str], rows: list[tuple]) -> list[dict[str, Any]]:
    result = []
    for raw in rows:
        row = dict(zip(columns, raw, strict=True))
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if key.endswith(("_attained", "_percent")):
                clean[key] = _money(value)
            elif key in ("eligible", "points_total") or key.endswith("_points"):
                clean[key] = int(value)
            elif key in ("participant_id", "region"):
                clean[key] = value
        result.append(clean)
    return result


# ------------------------------------------------------------------------------------------ the table
CASES = [(case, language, shape) for case in TEXTS for language in ("en", "pt-br", "es")
         for shape in ("en", "pt", "es-denorm")]


@pytest.fixture(scope="module")
def mappings(pg_sources, sqlite_sources) -> dict[tuple[str, str], tuple[dict, dict]]:
    """(engine, shape) -> (schema definition, mapping), produced by introspection + analysis."""
    result = {}
    for engine, sources in (("postgres", pg_sources), ("sqlite", sqlite_sources)):
        for shape, source in sources.items():
            definition = schema_introspect(source=source)
            result[(engine, shape)] = (definition, schema_analyse(definition=definition))
    return result


@pytest.mark.parametrize("engine", ["postgres", "sqlite"])
@pytest.mark.parametrize(("case", "language", "shape"), CASES)
def test_compiled_campaign_equals_hand_written_reference(case, language, shape, engine, pg_sources, sqlite_sources,
                                                         mappings):
    source = (pg_sources if engine == "postgres" else sqlite_sources)[shape]
    definition, mapping = mappings[(engine, shape)]
    document = _parse(TEXTS[case][language], language)

    compiled = campaign_compile(document=document, mapping=mapping, dialect=engine, definition=definition)
    columns, rows = source_fetch(source=source, sql=compiled.participants.sql, params=compiled.participants.params)
    expected, by_region = _expected(source, shape, case)

    actual = _normalise(columns, rows)
    assert actual == expected
    # The data must make the case meaningful: someone attains something, and not everyone the same.
    attained = [row["individual_attained"] for row in actual]
    assert max(attained) > 0 and len(set(attained)) > 1
    if case == "premium":
        assert {row["eligible"] for row in actual} == {0, 1}  # someone left before the end
        assert compiled.regions is not None
        _columns, region_rows = source_fetch(source=source, sql=compiled.regions.sql, params=compiled.regions.params)
        assert {row[0]: _money(row[1]) for row in region_rows} == by_region
    if case == "units":
        assert {row["individual_points"] for row in actual} >= {0, 500}
    if case == "accrual":
        assert any(row["points_total"] == 3000 for row in actual)  # the cap bites for someone


@pytest.mark.parametrize("shape", ["en", "pt", "es-denorm"])
def test_every_compiled_query_passes_the_guard_and_its_dry_run(shape, pg_sources, mappings):
    definition, mapping = mappings[("postgres", shape)]
    compiled = campaign_compile(document=_parse(TEXTS["premium"]["en"], "en"), mapping=mapping, dialect="postgres",
                                definition=definition)
    for query in compiled.queries:
        report = sql_validate(sql=query.sql, params=query.params, dialect="postgres", definition=definition,
                              mapped_tables=mapped_tables(mapping=mapping), source=pg_sources[shape])
        assert report.ok, report.errors
        assert report.dynamic_checked and report.explain and report.sample_rows


def test_preview_rows_are_eligible_lines_of_the_period(pg_sources, mappings):
    definition, mapping = mappings[("postgres", "en")]
    compiled = campaign_compile(document=_parse(TEXTS["premium"]["en"], "en"), mapping=mapping, dialect="postgres",
                                definition=definition)
    columns, rows = source_fetch(source=pg_sources["en"], sql=compiled.preview.sql, params=compiled.preview.params)

    assert 0 < len(rows) <= 20
    for row in (dict(zip(columns, raw, strict=True)) for raw in rows):
        assert dt.date(2026, 1, 1) <= row["order_date"] <= dt.date(2026, 3, 31)
        assert row["order_status"] not in ("cancelled", "returned")
        assert row["product_line"] == "Premium Line"
