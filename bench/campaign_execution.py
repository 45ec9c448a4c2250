"""A campaign execution over 1,000,000 order lines and 10,000 participants (PostgreSQL source database).

Usage: .venv/bin/python bench/campaign_execution.py [--lines 1000000] [--participants 10000] [--dsn ...] [--keep]

Generates the English demo sales database in its own PostgreSQL database on the server DATABASE_URL points
at (default name: <our database>_bench_campaigns), adds salespeople up to ``--participants`` and spreads the
orders over them (so the regional goal pays thousands of participants), provisions a scratch tenant
(``benchcampaigns``), then runs the seed's Premium Line campaign through the real services: schema analysis,
rule document, approval (compiled, guarded SQL), and two executions. Prints the bare compiled query's time,
the execution's evaluation (query) time, its allocation time (participants, members, snapshots, ledger awards
in bulk) and the ratio of the whole execution to the bare query (target: at most 3). The tenant is deleted
and the source database dropped unless --keep is given. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incentiva.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

import psycopg  # noqa: E402
from bench_support import source_dsn  # noqa: E402  (bench/ is the script's own folder)
from django.conf import settings  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from apps.accounts.selectors import user_list  # noqa: E402
from apps.campaigns.execution import campaign_execute, params_decode  # noqa: E402
from apps.campaigns.selectors import campaign_running_version  # noqa: E402
from apps.campaigns.services import (  # noqa: E402
    campaign_approve,
    campaign_connection_set,
    campaign_create,
    campaign_submit,
)
from apps.rules.demo_data import (  # noqa: E402
    postgres_database_create,
    postgres_database_drop,
    sales_database_load,
    sales_generate,
)
from apps.rules.selectors import schema_mapping_dict  # noqa: E402
from apps.rules.services import rule_document_from_text, schema_mapping_analyse, source_schema_ingest  # noqa: E402
from apps.rules.source_db import source_fetch, source_parse_url  # noqa: E402
from apps.tenants.models import Client  # noqa: E402
from apps.tenants.services import platform_bootstrap, tenant_delete, tenant_provision  # noqa: E402

SLUG = "benchcampaigns"
CAMPAIGN = """Campaign Premium Line Q1 2026, from January 1 to March 31, 2026.
Individual goal: 50,000 Brazilian Reals in Premium Line sales, reaching it earns 1,000 points.
Regional goal: 500,000 Brazilian Reals in Premium Line sales, reaching it earns 500 points.
Salespeople must be actively employed until the last day of the campaign.
Cancelled or returned sales are not eligible."""


def _spread(source, participants: int) -> None:  # type: ignore[no-untyped-def]
    """More salespeople (active, in every region) and the orders spread over all of them."""
    with psycopg.connect(host=source.host, port=source.port or 5432, dbname=source.database,
                         user=source.user or None, password=source.password or None, autocommit=True) as conn:
        conn.execute("""INSERT INTO salespeople (id, name, email, region_id, hire_date, termination_date)
                        SELECT g, 'Seller ' || g, 'seller' || g || '@example.test', 1 + g %% 5, DATE '2020-01-01',
                               NULL FROM generate_series((SELECT MAX(id) + 1 FROM salespeople), %s) g""",
                     (participants,))
        conn.execute("UPDATE orders SET salesperson_id = 1 + id %% %s", (participants,))
        conn.execute("ANALYZE")


def _tenant() -> None:
    platform_bootstrap()
    existing = Client.objects.filter(schema_name=SLUG).first()
    if existing:
        tenant_delete(tenant=existing)
    tenant_provision(slug=SLUG, name="Campaign bench", admin_email=f"owner@{SLUG}.test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the bare query")
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print the executions' top functions (cProfile)")
    args = parser.parse_args()

    settings.CAMPAIGN_QUERY_TIMEOUT_MS = 600_000
    source = source_parse_url(url=args.dsn or source_dsn("bench_campaigns"))
    postgres_database_create(source=source, drop=True)
    started = time.perf_counter()
    sales_database_load(source=source, shape="en", data=sales_generate(lines=args.lines, shape="en", seed=1))
    _spread(source, args.participants)
    print(f"generated {args.lines:,} order lines, {args.participants:,} salespeople in "
          f"{time.perf_counter() - started:.1f}s")
    _tenant()
    try:
        with schema_context(SLUG):
            owner = user_list(role="owner").first()
            schema = source_schema_ingest(kind="connection", url=source.url, name="bench")
            schema_mapping_analyse(source_schema=schema)
            document = rule_document_from_text(text=CAMPAIGN, language="en", use_ai=False,
                                               schema_mapping=schema_mapping_dict(source_schema=schema)).document
            campaign = campaign_create(name="Premium Line Q1 2026",
                                       start_date=dt.date.fromisoformat(document["period"]["start"]),
                                       end_date=dt.date.fromisoformat(document["period"]["end"]),
                                       document=document, created_by=owner)
            campaign.source_schema = schema
            campaign.save(update_fields=["source_schema"])
            campaign_connection_set(campaign=campaign, url=source.url, timeout_ms=600_000)
            campaign_submit(campaign=campaign)
            campaign_approve(campaign=campaign, user=owner)
            campaign.refresh_from_db()
            version = campaign_running_version(campaign=campaign)

            bare = []
            for _ in range(args.runs):
                began = time.perf_counter()
                _columns, rows = source_fetch(source=source, sql=version.sql, params=params_decode(version.params),
                                              timeout_ms=600_000)
                bare.append(time.perf_counter() - began)
            bare_ms = statistics.median(bare) * 1000
            print(f"bare compiled query     : median {bare_ms:9.1f} ms over {args.runs} runs ({len(rows):,} rows)")
            for label in ("first execution ", "second execution"):
                profiler = cProfile.Profile() if args.profile else None
                if profiler:
                    profiler.enable()
                execution = campaign_execute(campaign=campaign)
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                assert execution.status == "succeeded", execution.error
                allocation_ms = execution.duration_ms - execution.query_ms
                print(f"{label}        : total {execution.duration_ms:9.1f} ms = evaluation "
                      f"{execution.query_ms:.1f} ms + allocation {allocation_ms:.1f} ms; "
                      f"{execution.participants_updated:,} participants, {execution.points_allocated:,} points; "
                      f"ratio to the bare query {execution.duration_ms / bare_ms:.2f} (target <= 3)")
    finally:
        if not args.keep:
            tenant = Client.objects.filter(schema_name=SLUG).first()
            if tenant:
                tenant_delete(tenant=tenant)
            postgres_database_drop(source=source)


if __name__ == "__main__":
    main()
