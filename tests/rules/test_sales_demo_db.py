"""The demo sales database command and its generator."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.rules.demo_data import postgres_database_drop, sales_generate
from apps.rules.source_db import source_fetch, source_parse_url
from tests.rules.conftest import shape_db_name
from tests.support import source_postgres_url


def test_generation_is_deterministic_and_realistic():
    first = sales_generate(lines=2000, shape="en", seed=3)
    again = sales_generate(lines=2000, shape="en", seed=3)
    other = sales_generate(lines=2000, shape="en", seed=4)

    assert first.lines == again.lines and first.orders == again.orders
    assert first.lines != other.lines
    assert len(first.lines) == 2000
    assert {o[4] for o in first.orders} == {"completed", "cancelled", "returned"}
    assert "Premium Line" in {pl[1] for pl in first.product_lines}
    assert any(sp[5] is not None for sp in first.salespeople)  # someone was terminated
    assert any(sp[5] is None for sp in first.salespeople)
    # No order is dated after its salesperson's termination.
    ended = {sp[0]: sp[5] for sp in first.salespeople if sp[5]}
    assert all(o[1] <= ended[o[3]] for o in first.orders if o[3] in ended)


def test_command_loads_sqlite(tmp_path):
    out = io.StringIO()
    path = tmp_path / "sales.db"
    call_command("sales_demo_db", "--target", "sqlite", "--dsn", str(path), "--lines", "1500", "--shape", "pt",
                 "--seed", "2", stdout=out)

    assert "itens_pedido=1500" in out.getvalue()
    source = source_parse_url(url=f"sqlite:///{path}")
    _c, rows = source_fetch(source=source, sql="SELECT situacao, COUNT(*) FROM pedidos GROUP BY situacao "
                                               "ORDER BY situacao")
    assert [row[0] for row in rows] == ["cancelado", "concluido", "devolvido"]


def test_command_creates_and_loads_a_postgres_database_with_copy():
    source = source_parse_url(url=source_postgres_url(shape_db_name("cmd")))
    try:
        out = io.StringIO()
        call_command("sales_demo_db", "--target", "postgres", "--dsn", source.url, "--lines", "2500",
                     "--shape", "es-denorm", "--create-database", stdout=out)
        assert "ventas=2500" in out.getvalue()
        _c, rows = source_fetch(source=source, sql="SELECT COUNT(*), COUNT(DISTINCT numero_pedido), "
                                                   "SUM(CASE WHEN linea_producto = %s THEN 1 ELSE 0 END) FROM ventas",
                                params=["Premium Line"])
        count, orders, premium = rows[0]
        assert count == 2500 and 0 < orders < 2500 and premium > 0
    finally:
        postgres_database_drop(source=source)


@pytest.mark.parametrize("args", [
    ["--target", "postgres", "--dsn", "sqlite:////tmp/x.db"],
    ["--target", "sqlite", "--dsn", "/tmp/x.db", "--lines", "0"],
    ["--target", "postgres", "--dsn", "http://nope"],
])
def test_command_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("sales_demo_db", *args, stdout=io.StringIO())
