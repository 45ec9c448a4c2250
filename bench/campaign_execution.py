"""A campaign execution over 1,000,000 order lines and 10,000 participants (PostgreSQL source database).

Usage: .venv/bin/python bench/campaign_execution.py [--lines 1000000] [--participants 10000] [--dsn ...] [--keep]

Generates the English demo sales database in its own PostgreSQL database on the server DATABASE_URL points
at (default name: <our database>_bench_campaigns), adds salespeople up to ``--participants`` and spreads the
orders over them (so the regional goal pays thousands of participants), provisions a scratch tenant
(``benchcampaigns``) connected to TLP (the product's TLP sandbox, served from a thread of this process, as a
tenant's real TLP would be; ``--no-tlp`` leaves TLP unconfigured), then runs the seed's Premium Line campaign
through the real services: schema analysis, rule document, approval (compiled, guarded SQL; the campaign
provisioned in TLP), and ``--executions`` executions: the first (10,000 participants join: loyalty members
enrolled and their TLP members queued in the outbox, ~11,000 ledger awards and their TLP mirrors, allocations,
snapshots) and the steady state (the same sales again: nothing to allocate, nothing to write). The outbox is
only queued: its delivery to TLP is a worker's job after the commit, not part of an execution. The bare compiled
query runs before each execution too (the machine is shared: interleaving cancels drift). Prints, per execution,
the evaluation time (the compiled query on the customer database), the allocation time (everything after it,
commit included), the whole, and its ratio to the median bare query (target: at most 3); then the steady state's
median and the load average. The tenant is deleted and the source database dropped unless --keep is given. Not
part of the test suite.
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
from django.db import connection, transaction  # noqa: E402
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
from apps.tlp.models import TLPOutbox  # noqa: E402
from apps.tlp.sandbox import SandboxServer  # noqa: E402
from apps.tlp.services import tlp_configure  # noqa: E402

SLUG = "benchcampaigns"
CAMPAIGN = """Campaign Premium Line Q1 2026, from January 1 to March 31, 2026.
Individual goal: 50,000 Brazilian Reals in Premium Line sales, reaching it earns 1,000 points.
Regional goal: 500,000 Brazilian Reals in Premium Line sales, reaching it earns 500 points.
Salespeople must be actively employed until the last day of the campaign.
Cancelled or returned sales are not eligible."""


def _connect(source):  # type: ignore[no-untyped-def]
    """An autocommit connection to the bench's sales database (the bench's own setup and probes)."""
    return psycopg.connect(host=source.host, port=source.port or 5432, dbname=source.database,
                           user=source.user or None, password=source.password or None, autocommit=True)


def _spread(source, participants: int) -> None:  # type: ignore[no-untyped-def]
    """More salespeople (active, in every region) and the orders spread over all of them."""
    with _connect(source) as conn:
        conn.execute("""INSERT INTO salespeople (id, name, email, region_id, hire_date, termination_date)
                        SELECT g, 'Seller ' || g, 'seller' || g || '@example.test', 1 + g %% 5, DATE '2020-01-01',
                               NULL FROM generate_series((SELECT MAX(id) + 1 FROM salespeople), %s) g""",
                     (participants,))
        conn.execute("UPDATE orders SET salesperson_id = 1 + id %% %s", (participants,))
        conn.execute("ANALYZE")


def _churn(source, salespeople: int) -> None:  # type: ignore[no-untyped-def]
    """Some sales change between two runs: every Q1 order of the first ``salespeople`` is returned."""
    with _connect(source) as conn:
        conn.execute("UPDATE orders SET status = 'returned' WHERE salesperson_id <= %s", (salespeople,))


def _plan(source, sql: str, params: list) -> str:  # type: ignore[no-untyped-def]
    """Whether PostgreSQL runs the query with parallel workers: it chooses from the statistics ANALYZE sampled,
    so two runs of the bench can get plans ~2x apart in speed (the ratio's denominator moves with it)."""
    with _connect(source) as conn:
        lines = [row[0] for row in conn.execute("EXPLAIN " + sql, params)]  # type: ignore[arg-type]
    return "parallel (Gather)" if any("Gather" in line for line in lines) else "serial (no parallel workers)"


# What a first execution writes, parents first: the tables the floor measurement copies.
WRITTEN = ("loyalty_member", "campaigns_campaignparticipant", "loyalty_ledgerentry", "campaigns_pointallocation",
           "campaigns_progresssnapshot", "tlp_tlpoutbox")


def _write_floor() -> tuple[float, dict[str, tuple[int, float]]]:
    """The rows the first execution wrote, written again by the database alone: one ``INSERT … SELECT`` per
    table into a copy with the same columns, indexes and enforced foreign keys (to the real parents), in one
    committed transaction; no Python, no parsing, no network. A lower bound for any engine on this data
    model; the copies are dropped after. Returns the milliseconds, and per table its rows and milliseconds (the
    commit, where the deferred foreign keys are checked, as ``commit``)."""
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS bench_floor CASCADE")
        cursor.execute("CREATE SCHEMA bench_floor")
        for table in WRITTEN:
            cursor.execute(f'CREATE TABLE bench_floor."{table}" (LIKE "{table}" INCLUDING ALL)')
            cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
                           "AND conrelid = %s::regclass", [f'"{table}"'])
            for name, definition in cursor.fetchall():
                cursor.execute(f'ALTER TABLE bench_floor."{table}" ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [f'"{table}"'])
            options = cursor.fetchone()[0]
            if options:  # fillfactor
                cursor.execute(f'ALTER TABLE bench_floor."{table}" SET ({", ".join(options)})')
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
        cursor.execute("CHECKPOINT")  # as after the bench's setup: every page written fresh
    parts: dict[str, tuple[int, float]] = {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:  # the deferred key checks run at its commit
        for table in WRITTEN:
            began = time.perf_counter()
            cursor.execute(f'INSERT INTO bench_floor."{table}" SELECT * FROM "{table}"')
            parts[table] = (counts[table], (time.perf_counter() - began) * 1000)
        committing = time.perf_counter()
    parts["commit"] = (0, (time.perf_counter() - committing) * 1000)
    elapsed = (time.perf_counter() - started) * 1000
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA bench_floor CASCADE")
    return elapsed, parts


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
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the bare query before the executions")
    parser.add_argument("--executions", type=int, default=5, help="executions: the first, then the steady state")
    parser.add_argument("--churn", type=int, default=100,
                        help="before the last execution, return the Q1 orders of this many salespeople")
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-tlp", action="store_true", help="leave the tenant without a TLP configuration")
    parser.add_argument("--profile", action="store_true", help="print the executions' top functions (cProfile)")
    args = parser.parse_args()

    settings.CAMPAIGN_QUERY_TIMEOUT_MS = 600_000
    settings.TLP_OUTBOX_KICK = False  # delivery is a worker's job after the commit (no worker runs here)
    sandbox = None if args.no_tlp else SandboxServer(api_keys=["bench-campaigns-tlp-key"]).start()
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
            if sandbox is not None:
                tlp_configure(endpoint_url=sandbox.url, api_key="bench-campaigns-tlp-key")
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

            bare: list[float] = []
            count = 0

            def bare_run() -> int:
                began = time.perf_counter()
                _columns, rows = source_fetch(source=source, sql=version.sql, params=params_decode(version.params),
                                              timeout_ms=600_000)
                bare.append(time.perf_counter() - began)
                return len(rows)

            for _ in range(args.runs):
                count = bare_run()
            plan = _plan(source, version.sql, params_decode(version.params))
            print(f"load average before     : {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            executions = []
            for number in range(args.executions):
                churned = number == args.executions - 1 and number > 1 and args.churn > 0
                if churned:
                    _churn(source, args.churn)
                bare_run()
                profiler = cProfile.Profile() if args.profile else None
                if profiler:
                    profiler.enable()
                execution = campaign_execute(campaign=campaign)
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                assert execution.status == "succeeded", execution.error
                executions.append(execution)
                if number == 0:
                    floor, written = _write_floor()
                label = ("first execution " if number == 0 else f"execution {number + 1} churn " if churned
                         else f"execution {number + 1:<6d}")
                print(f"{label}        : total {execution.duration_ms:7d} ms = evaluation {execution.query_ms:5d} ms "
                      f"+ allocation {execution.duration_ms - execution.query_ms:6d} ms; "
                      f"{execution.participants_updated:,} participants written, "
                      f"{execution.points_allocated:,} points")
            bare_ms = statistics.median(bare) * 1000
            print(f"bare compiled query     : median {bare_ms:7.1f} ms over {len(bare)} runs "
                  f"(min {min(bare) * 1000:.1f}, max {max(bare) * 1000:.1f}; {count:,} rows)")
            # Autovacuum may analyze the orders again after the churn, and the plan changes with it.
            after = _plan(source, version.sql, params_decode(version.params))
            changed = f"; after the last execution: {after}" if after != plan else ""
            print(f"query plan              : {plan}{changed}")
            first = executions[0]
            print(f"first execution ratio   : {first.duration_ms / bare_ms:.2f} (target <= 3)")
            print(f"write floor             : {floor:.0f} ms to write its {sum(n for n, _ms in written.values()):,} "
                  f"rows again by the database alone; bare query + floor = {(bare_ms + floor) / bare_ms:.2f}x "
                  "the bare query")
            for table, (rows, ms) in written.items():
                print(f"    {table:<30}: {ms:6.1f} ms" + (f" for {rows:,} rows" if table != "commit" else
                                                          " (the deferred foreign-key checks, the WAL flush)"))
            quiet = executions[1:-1] if len(executions) > 2 and args.churn > 0 else executions[1:]
            if quiet:
                steady = statistics.median(e.duration_ms for e in quiet)
                allocation = statistics.median(e.duration_ms - e.query_ms for e in quiet)
                evaluation = statistics.median(e.query_ms for e in quiet)
                print(f"steady state (median of {len(quiet)}): total {steady:.0f} ms = evaluation "
                      f"{evaluation:.0f} ms + allocation {allocation:.0f} ms; ratio {steady / bare_ms:.2f} "
                      "(target <= 3)")
            if len(executions) > 2 and args.churn > 0:
                last = executions[-1]
                print(f"after {args.churn} sellers' orders returned: ratio {last.duration_ms / bare_ms:.2f}")
            print("TLP                     : " + ("not configured" if sandbox is None else
                  f"sandbox; campaign {campaign.tlp_status}; {TLPOutbox.objects.count():,} outbox rows queued"))
            print(f"load average after      : {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if sandbox is not None:
            sandbox.stop()
        if not args.keep:
            tenant = Client.objects.filter(schema_name=SLUG).first()
            if tenant:
                tenant_delete(tenant=tenant)
            postgres_database_drop(source=source)


if __name__ == "__main__":
    main()
