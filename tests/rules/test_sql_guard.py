"""The read-only proof rejects anything that is not one harmless SELECT; the dynamic check EXPLAINs and
dry-runs in a read-only, time-limited transaction."""

from __future__ import annotations

import pytest

from apps.rules.demo_data import sales_ddl
from apps.rules.schema_ingest import schema_from_ddl
from apps.rules.source_db import source_fetch
from apps.rules.sql_guard import sql_dynamic_check, sql_static_check, sql_validate

MAPPED = {"orders", "order_items", "products", "product_lines", "salespeople", "regions", "customers"}


@pytest.fixture(scope="module")
def definition() -> dict:
    return schema_from_ddl(ddl=sales_ddl(shape="en"), dialect="postgres")


REJECTED = [
    ("SELECT 1; DROP TABLE orders", "multiple_statements"),
    ("SELECT id FROM orders; SELECT id FROM orders", "multiple_statements"),
    ("ignore the rules and DROP TABLE orders", "parse_error"),
    ("DROP TABLE orders", "not_select"),
    ("update orders set status = 'completed'", "not_select"),
    ("UPDATE orders SET status = %s WHERE id = %s", "not_select"),
    ("DELETE FROM orders", "not_select"),
    ("INSERT INTO orders (id) VALUES (1)", "not_select"),
    ("TRUNCATE orders", "not_select"),
    ("COPY orders TO '/tmp/orders.csv'", "not_select"),
    ("COPY (SELECT * FROM orders) TO PROGRAM 'rm -rf /'", "not_select"),
    ("CREATE TABLE x AS SELECT * FROM orders", "not_select"),
    ("VACUUM", "not_select"),
    ("SET statement_timeout = 0", "not_select"),
    ("BEGIN", "not_select"),
    ("CALL refresh_everything()", "not_select"),
    ("DO $$BEGIN DELETE FROM orders; END$$", "not_select"),
    ("EXPLAIN ANALYZE DELETE FROM orders", "not_select"),
    ("WITH gone AS (DELETE FROM orders RETURNING id) SELECT id FROM gone", "forbidden_statement"),
    ("WITH x AS (UPDATE orders SET status = 'x' RETURNING id) SELECT id FROM x", "forbidden_statement"),
    ("SELECT * INTO stolen FROM orders", "forbidden_statement"),
    ("SELECT id FROM orders FOR UPDATE", "forbidden_statement"),
    ("SELECT id FROM orders FOR SHARE", "forbidden_statement"),
    ("SELECT pg_sleep(10)", "forbidden_function"),
    ("SELECT id FROM orders WHERE pg_sleep(1) IS NOT NULL", "forbidden_function"),
    ("SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)", "forbidden_function"),
    ("SELECT lo_import('/etc/passwd')", "forbidden_function"),
    ("SELECT set_config('default_transaction_read_only', 'off', false)", "forbidden_function"),
    ("SELECT pg_read_file('/etc/passwd')", "forbidden_function"),
    ("SELECT current_setting('server_version')", "forbidden_function"),
    ("SELECT version()", "forbidden_function"),
    ("SELECT * FROM generate_series(1, 1000000000)", "forbidden_function"),
    ("SELECT * FROM pg_catalog.pg_user", "system_catalog"),
    ("SELECT * FROM pg_shadow", "system_catalog"),
    ("SELECT table_name FROM information_schema.tables", "system_catalog"),
    ("SELECT id FROM orders UNION SELECT usesysid FROM pg_user", "system_catalog"),
    ("SELECT (SELECT COUNT(*) FROM pg_stat_activity) AS n", "system_catalog"),
    ("SELECT id FROM payroll", "unmapped_table"),
    ("SELECT nope FROM orders", "unknown_column"),
    ("SELECT o.secret FROM orders o", "unknown_column"),
]


@pytest.mark.parametrize(("sql", "code"), REJECTED)
def test_static_proof_rejects(sql, code, definition):
    report = sql_static_check(sql=sql, dialect="postgres", definition=definition, mapped_tables=MAPPED)

    assert not report.ok
    assert code in [error.code for error in report.errors]


@pytest.mark.parametrize(("sql", "dialect"), [
    ("SELECT * FROM mysql.user", "mysql"),
    ("SELECT SLEEP(5)", "mysql"),
    ("SELECT BENCHMARK(1000000, MD5('a'))", "mysql"),
    ("SELECT LOAD_FILE('/etc/passwd')", "mysql"),
    ("SELECT name FROM sqlite_master", "sqlite"),
    ("SELECT load_extension('evil.so')", "sqlite"),
    ("ATTACH DATABASE '/tmp/x.db' AS x", "sqlite"),
    ("SELECT name FROM sys.tables", "tsql"),
    ("EXEC xp_cmdshell 'dir'", "tsql"),
    ("SELECT id INTO #stolen FROM orders", "tsql"),
])
def test_static_proof_rejects_other_dialects_tricks(sql, dialect, definition):
    report = sql_static_check(sql=sql, dialect=dialect, definition=definition, mapped_tables=MAPPED)

    assert not report.ok, sql


def test_static_proof_accepts_a_plain_aggregate_with_placeholders(definition):
    sql = ("WITH t AS (SELECT o.salesperson_id, SUM(i.total) AS total FROM order_items i JOIN orders o "
           "ON o.id = i.order_id WHERE o.order_date >= %s AND o.status NOT IN (%s, %s) GROUP BY o.salesperson_id) "
           "SELECT salesperson_id, COALESCE(total, 0), CASE WHEN total > %s THEN 1 ELSE 0 END, "
           "CAST(total AS INT), EXTRACT(YEAR FROM CURRENT_DATE), ROW_NUMBER() OVER (ORDER BY total DESC) FROM t")
    report = sql_static_check(sql=sql, dialect="postgres", definition=definition, mapped_tables=MAPPED)

    assert report.ok, report.errors
    assert report.tables == ["order_items", "orders"]
    assert report.warnings == []


def test_literal_values_are_warned_about(definition):
    report = sql_static_check(sql="SELECT id FROM orders WHERE status = 'completed'", dialect="postgres",
                              definition=definition, mapped_tables=MAPPED)

    assert report.ok
    assert [w.code for w in report.warnings] == ["literal_value"]


def test_mysql_format_placeholders_are_understood(definition):
    report = sql_static_check(sql="SELECT id FROM orders WHERE status = %s AND id > %s", dialect="mysql",
                              definition=definition, mapped_tables=MAPPED)
    assert report.ok, report.errors


def test_without_a_schema_columns_are_not_checked_and_that_is_said():
    report = sql_static_check(sql="SELECT anything FROM orders", dialect="postgres")
    assert report.ok
    assert [w.code for w in report.warnings] == ["columns_not_checked"]


def test_dynamic_check_explains_and_dry_runs_on_postgres(pg_sources, definition):
    sql = "SELECT o.id, o.status FROM orders o WHERE o.status = %s ORDER BY o.id"
    report = sql_validate(sql=sql, params=["completed"], dialect="postgres", definition=definition,
                          mapped_tables=MAPPED, source=pg_sources["en"])

    assert report.ok, report.errors
    assert report.dynamic_checked
    assert any("Scan" in line or "Sort" in line for line in report.explain)
    assert report.sample_columns == ["id", "status"]
    assert 0 < len(report.sample_rows) <= 5
    assert all(row[1] == "completed" for row in report.sample_rows)


def test_dynamic_check_reports_a_timeout(pg_sources, definition):
    sql = "SELECT COUNT(*) FROM order_items a, order_items b, order_items c"
    report = sql_dynamic_check(sql=sql, params=[], source=pg_sources["en"], timeout_ms=300)

    assert [e.code for e in report.errors] == ["timeout"]
    assert not report.dynamic_checked


def test_dynamic_check_runs_read_only_even_if_the_proof_were_bypassed(pg_sources):
    # Defence in depth: were a write ever to slip past the static proof, the transaction still refuses it.
    report = sql_dynamic_check(sql="UPDATE orders SET status = %s RETURNING id", params=["hacked"],
                               source=pg_sources["en"])
    assert report.errors
    _columns, rows = source_fetch(source=pg_sources["en"], sql="SELECT COUNT(*) FROM orders WHERE status = %s",
                                  params=["hacked"])
    assert rows == [(0,)]


def test_dynamic_check_on_sqlite_and_mariadb(sqlite_sources, mariadb_en, definition):
    lite = sql_validate(sql="SELECT id FROM orders WHERE status = ?", params=["returned"], dialect="sqlite",
                        definition=definition, mapped_tables=MAPPED, source=sqlite_sources["en"])
    assert lite.ok and lite.dynamic_checked and lite.explain and lite.sample_rows

    maria = sql_validate(sql="SELECT id FROM orders WHERE status = %s", params=["returned"], dialect="mysql",
                         definition=definition, mapped_tables=MAPPED, source=mariadb_en)
    assert maria.ok, maria.errors
    assert maria.dynamic_checked and maria.explain and maria.sample_rows


def test_dialect_mismatch_is_an_error(sqlite_sources, definition):
    report = sql_validate(sql="SELECT id FROM orders", params=[], dialect="postgres", definition=definition,
                          mapped_tables=MAPPED, source=sqlite_sources["en"])
    assert [e.code for e in report.errors] == ["dialect_mismatch"]
