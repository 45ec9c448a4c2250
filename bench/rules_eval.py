"""The compiled campaign query vs. a hand-written optimal GROUP BY, over 1,000,000 order lines (PostgreSQL).

Usage: .venv/bin/python bench/rules_eval.py [--lines 1000000] [--runs 7] [--dsn postgresql://...] [--keep]

Generates the English demo sales database (COPY) in its own PostgreSQL database on the server DATABASE_URL
points at (default name: <our database>_bench_rules; never one of our tenant schemas), analyses its schema,
parses the seed's campaign text (individual + regional Premium Line goals, employment, excluded statuses),
compiles it, and times both queries on one read-only connection (a warm-up each, then alternating runs).
Prints the medians and the ratio (target: at most 1.2). The database is dropped unless --keep is given;
with --keep an existing database with the right number of lines is reused.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incentiva.settings.local")

import django

django.setup()


from bench_support import source_dsn  # noqa: E402  (bench/ is the script's own folder)

from apps.rules.demo_data import (  # noqa: E402
    postgres_database_create,
    postgres_database_drop,
    sales_database_load,
    sales_generate,
)
from apps.rules.nl_parse import rule_document_parse  # noqa: E402
from apps.rules.schema_analysis import schema_analyse  # noqa: E402
from apps.rules.schema_ingest import schema_introspect  # noqa: E402
from apps.rules.source_db import SourceDatabaseError, source_connect, source_fetch, source_parse_url  # noqa: E402
from apps.rules.sql_compile import campaign_compile  # noqa: E402

CAMPAIGN = """Campaign Premium Line Q1 2026, from January 1 to March 31, 2026.
Individual goal: 50,000 Brazilian Reals in Premium Line sales, reaching it earns 1,000 points.
Regional goal: 500,000 Brazilian Reals in Premium Line sales, reaching it earns 500 points.
Salespeople must be actively employed until the last day of the campaign.
Cancelled or returned sales are not eligible."""

# What an experienced engineer would write for the same numbers: one pass, one GROUP BY.
OPTIMAL = """
SELECT o.salesperson_id, SUM(i.total)
FROM order_items i
JOIN orders o ON o.id = i.order_id
JOIN products p ON p.id = i.product_id
JOIN product_lines pl ON pl.id = p.product_line_id
WHERE o.order_date >= %s AND o.order_date < %s AND o.status NOT IN (%s, %s) AND pl.name = %s
GROUP BY o.salesperson_id
"""
OPTIMAL_PARAMS = ["2026-01-01", "2026-04-01", "cancelled", "returned", "Premium Line"]


def _lines_present(source) -> int:  # type: ignore[no-untyped-def]
    try:
        return int(source_fetch(source=source, sql="SELECT COUNT(*) FROM order_items")[1][0][0])
    except SourceDatabaseError:
        return -1


def _time(conn, sql: str, params: list) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    cursor = conn.cursor()
    started = time.perf_counter()
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    elapsed = time.perf_counter() - started
    cursor.close()
    return elapsed, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    source = source_parse_url(url=args.dsn or source_dsn("bench_rules"))
    postgres_database_create(source=source)
    if not (args.keep and _lines_present(source) == args.lines):
        started = time.perf_counter()
        data = sales_generate(lines=args.lines, shape="en", seed=args.seed)
        sales_database_load(source=source, shape="en", data=data)
        print(f"generated and loaded {args.lines:,} order lines in {time.perf_counter() - started:.1f}s")
    try:
        definition = schema_introspect(source=source)
        mapping = schema_analyse(definition=definition)
        document = rule_document_parse(text=CAMPAIGN, language="en").document
        compiled = campaign_compile(document=document, mapping=mapping, dialect="postgres", definition=definition)
        query = compiled.participants
        print(f"schema understanding score {mapping['score']}, shape {mapping['shape']}")

        compiled_times, optimal_times = [], []
        with source_connect(source=source, timeout_ms=300_000) as conn:
            _time(conn, query.sql, query.params)
            _time(conn, OPTIMAL, OPTIMAL_PARAMS)
            for _ in range(args.runs):
                elapsed, participants = _time(conn, query.sql, query.params)
                compiled_times.append(elapsed)
                elapsed, groups = _time(conn, OPTIMAL, OPTIMAL_PARAMS)
                optimal_times.append(elapsed)
        compiled_ms = statistics.median(compiled_times) * 1000
        optimal_ms = statistics.median(optimal_times) * 1000
        print(f"compiled campaign query: median {compiled_ms:8.1f} ms over {args.runs} runs "
              f"({participants} participants, attained/percent/eligibility/points, regional window)")
        print(f"hand-written GROUP BY  : median {optimal_ms:8.1f} ms over {args.runs} runs ({groups} groups)")
        print(f"ratio compiled / optimal: {compiled_ms / optimal_ms:.2f} (target <= 1.2)")
    finally:
        if not args.keep:
            postgres_database_drop(source=source)


if __name__ == "__main__":
    main()
