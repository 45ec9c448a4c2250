"""Concept mapping over English, Portuguese and Spanish names, normalised and denormalised, with joins,
confidences, the understanding score, feedback/questions in the admin's language and admin corrections."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps.rules import schema_analysis
from apps.rules.demo_data import sales_ddl
from apps.rules.schema_analysis import join_path, name_tokens, schema_analyse
from apps.rules.schema_ingest import schema_from_ddl, schema_from_json, schema_introspect


def _where(analysis: dict, concept: str) -> str | None:
    entry = analysis["concepts"][concept]
    if not entry["table"]:
        return None
    return f"{entry['table']}.{entry['column']}" if entry["column"] else f"{entry['table']}: {entry['expression']}"


def _joins(analysis: dict) -> set[tuple[str, str, bool]]:
    return {(j["from"], j["to"], j["declared"]) for j in analysis["joins"]}


EXPECTED = {
    "en": {"order": "orders.id", "order_line": "order_items.id", "line_amount": "order_items.total",
           "order_date": "orders.order_date", "order_status": "orders.status", "salesperson": "salespeople.id",
           "employment_end": "salespeople.termination_date", "hire_date": "salespeople.hire_date",
           "region": "regions.name", "product": "products.id", "product_line": "product_lines.name",
           "currency": "orders.currency", "customer": "customers.id", "quantity": "order_items.quantity"},
    "pt": {"order": "pedidos.id", "order_line": "itens_pedido.id", "line_amount": "itens_pedido.valor_total",
           "order_date": "pedidos.data_pedido", "order_status": "pedidos.situacao", "salesperson": "vendedores.id",
           "employment_end": "vendedores.data_desligamento", "hire_date": "vendedores.data_admissao",
           "region": "regioes.nome", "product": "produtos.id", "product_line": "linhas_produto.nome",
           "currency": "pedidos.moeda", "customer": "clientes.id", "quantity": "itens_pedido.quantidade"},
    "es-denorm": {"order": "ventas.numero_pedido", "order_line": "ventas.id", "line_amount": "ventas.importe",
                  "order_date": "ventas.fecha_pedido", "order_status": "ventas.estado",
                  "salesperson": "ventas.vendedor_id", "employment_end": "ventas.fecha_baja",
                  "hire_date": "ventas.fecha_ingreso", "region": "ventas.region", "product": "ventas.producto_sku",
                  "product_line": "ventas.linea_producto", "currency": "ventas.moneda",
                  "customer": "ventas.cliente_id", "quantity": "ventas.cantidad"},
}


@pytest.mark.parametrize("shape", ["en", "pt", "es-denorm"])
def test_maps_every_concept_of_the_three_demo_shapes_from_their_ddl(shape):
    analysis = schema_analyse(definition=schema_from_ddl(ddl=sales_ddl(shape=shape), dialect="postgres"))

    assert {concept: _where(analysis, concept) for concept in EXPECTED[shape]} == EXPECTED[shape]
    assert analysis["shape"] == ("denormalised" if shape == "es-denorm" else "normalised")
    assert analysis["score"] >= 0.9
    assert analysis["schema_language"] == {"en": "en", "pt": "pt", "es-denorm": "es"}[shape]


def test_english_joins_come_from_declared_foreign_keys():
    analysis = schema_analyse(definition=schema_from_ddl(ddl=sales_ddl(shape="en"), dialect="postgres"))

    assert ("order_items.order_id", "orders.id", True) in _joins(analysis)
    assert ("salespeople.region_id", "regions.id", True) in _joins(analysis)
    assert all(j["confidence"] == 1.0 for j in analysis["joins"])


def test_portuguese_joins_are_inferred_from_names_and_types():
    analysis = schema_analyse(definition=schema_from_ddl(ddl=sales_ddl(shape="pt"), dialect="postgres"))

    assert _joins(analysis) == {
        ("itens_pedido.pedido_id", "pedidos.id", False), ("itens_pedido.produto_id", "produtos.id", False),
        ("pedidos.cliente_id", "clientes.id", False), ("pedidos.vendedor_id", "vendedores.id", False),
        ("produtos.linha_produto_id", "linhas_produto.id", False), ("vendedores.regiao_id", "regioes.id", False),
    }
    assert all(0.5 < j["confidence"] < 1.0 for j in analysis["joins"])
    path = join_path(analysis["joins"], "itens_pedido", "regioes")
    assert [(s["from_table"], s["to_table"]) for s in path] == [
        ("itens_pedido", "pedidos"), ("pedidos", "vendedores"), ("vendedores", "regioes")]


def test_inferred_join_needs_compatible_types():
    definition = schema_from_json(description={"tables": [
        {"name": "pedidos", "columns": {"id": "integer", "data": "date", "valor": "numeric"}},
        {"name": "itens", "columns": {"id": "integer", "pedido_id": "varchar(20)", "valor": "numeric"}},
    ]})
    analysis = schema_analyse(definition=definition)

    assert analysis["joins"] == []


def test_live_portuguese_database_status_values_come_from_the_data(pg_sources):
    analysis = schema_analyse(definition=schema_introspect(source=pg_sources["pt"]), language="pt-br")

    status = analysis["concepts"]["order_status"]
    assert status["values"] == {"completed": ["concluido"], "cancelled": ["cancelado"], "returned": ["devolvido"]}
    assert status["values_observed"] is True
    assert not any("situacao" in q for q in analysis["questions"])


def test_status_values_not_seen_in_data_are_assumed_and_asked_about():
    analysis = schema_analyse(definition=schema_from_ddl(ddl=sales_ddl(shape="en"), dialect="postgres"))

    status = analysis["concepts"]["order_status"]
    assert "cancelled" in status["values"]["cancelled"] and "canceled" in status["values"]["cancelled"]
    assert any("orders.status" in q and "cancelled" in q for q in analysis["questions"])


def test_line_amount_computed_from_quantity_and_unit_price_when_no_amount_column():
    definition = schema_from_json(description={"tables": [
        {"name": "orders", "columns": {"id": "integer", "order_date": "date", "status": "text",
                                       "salesperson_id": "integer"}, "primary_key": "id"},
        {"name": "order_lines", "columns": {"id": "integer", "order_id": "integer", "qty": "integer",
                                            "unit_price": "numeric(10,2)"}, "primary_key": "id"},
    ]})
    analysis = schema_analyse(definition=definition)

    amount = analysis["concepts"]["line_amount"]
    assert (amount["table"], amount["column"], amount["expression"]) == ("order_lines", None, "quantity * unit_price")


def test_missing_concepts_lower_the_score_and_become_questions():
    definition = schema_from_json(description={"tables": [
        {"name": "orders", "columns": {"id": "integer", "order_date": "date", "total": "numeric(12,2)"},
         "primary_key": "id"},
    ]})
    analysis = schema_analyse(definition=definition)

    assert analysis["concepts"]["salesperson"]["table"] is None
    assert analysis["concepts"]["salesperson"]["confidence"] == 0
    assert analysis["score"] < 0.5
    assert any("salesperson" in question for question in analysis["questions"])
    assert "Not found" in analysis["feedback"]


def test_ambiguous_columns_get_lower_confidence_and_a_question():
    definition = schema_from_json(description={"tables": [
        {"name": "orders", "columns": {"id": "integer", "created_at": "timestamp", "ordered_at": "timestamp",
                                       "amount": "numeric"}, "primary_key": "id"},
    ]})
    analysis = schema_analyse(definition=definition)

    order_date = analysis["concepts"]["order_date"]
    assert order_date["confidence"] < 0.75
    assert order_date["candidates"]
    assert any("created_at" in q and "ordered_at" in q for q in analysis["questions"])


def test_missing_join_is_asked_about():
    definition = schema_from_json(description={"tables": [
        {"name": "orders", "columns": {"id": "integer", "order_date": "date", "status": "text",
                                       "salesperson_id": "integer"}, "primary_key": "id"},
        {"name": "order_items", "columns": {"id": "integer", "ref": "integer", "total": "numeric"},
         "primary_key": "id"},
    ]})
    analysis = schema_analyse(definition=definition)

    assert any("order_items" in q and "orders" in q and "linked" in q for q in analysis["questions"])


def test_corrections_win_and_are_kept():
    definition = schema_from_json(description={"tables": [
        {"name": "orders", "columns": {"id": "integer", "created_at": "timestamp", "ordered_at": "timestamp",
                                       "amount": "numeric"}, "primary_key": "id"},
    ]})
    before = schema_analyse(definition=definition)
    correction = {"order_date": {"table": "orders", "column": "created_at"}}
    after = schema_analyse(definition=definition, corrections=correction)

    assert after["concepts"]["order_date"]["column"] == "created_at"
    assert after["concepts"]["order_date"]["corrected_by_admin"] is True
    assert after["concepts"]["order_date"]["confidence"] == 1.0
    assert after["score"] > before["score"]


def test_feedback_and_questions_go_through_gettext_in_the_admins_language(monkeypatch):
    seen: list[str] = []

    def tagging_gettext(message: str) -> str:
        seen.append(translation.get_language())
        return f"[{translation.get_language()}] {message}"

    monkeypatch.setattr(schema_analysis, "_", tagging_gettext)
    definition = schema_from_json(description={"tables": [{"name": "orders", "columns": {"id": "integer"}}]})
    analysis = schema_analyse(definition=definition, language="pt-br")

    assert set(seen) == {"pt-br"}
    assert analysis["feedback"].startswith("[pt-br] ")
    assert all(question.startswith("[pt-br] ") for question in analysis["questions"])
    es = schema_analyse(definition=definition, language="es")
    assert es["feedback"].startswith("[es] ")


def test_name_tokens_split_snake_camel_and_fold_accents():
    assert name_tokens("ItensPedido") == ["itens", "pedido"]
    assert name_tokens("data_desligamento") == ["data", "desligamento"]
    assert name_tokens("Região") == ["regiao"]
    assert name_tokens("OrderID") == ["order", "id"]
