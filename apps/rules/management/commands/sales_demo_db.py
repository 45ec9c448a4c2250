"""Create a demo source sales database (never one of the platform's own schemas).

    manage.py sales_demo_db --target postgres --dsn postgresql://postgres@127.0.0.1:5432/sales_demo \
        --lines 1000000 --shape en --seed 1 --create-database
    manage.py sales_demo_db --target sqlite --dsn /tmp/sales.db --lines 5000 --shape es-denorm
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import ApplicationError
from apps.rules.demo_data import SHAPES, postgres_database_create, sales_database_load, sales_generate
from apps.rules.source_db import source_parse_url


class Command(BaseCommand):
    help = "Generate a realistic source sales database (en / pt / es-denorm shapes) for demos, tests and benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--target", choices=("postgres", "sqlite", "mysql"), default="postgres")
        parser.add_argument("--dsn", required=True,
                            help="postgresql://user@host:port/db, mysql://root@host:3306/db, or a SQLite file path")
        parser.add_argument("--lines", type=int, default=10_000, help="number of order lines")
        parser.add_argument("--shape", choices=SHAPES, default="en")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--create-database", action="store_true",
                            help="create the PostgreSQL database first if it does not exist")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        dsn = options["dsn"]
        if options["target"] == "sqlite" and "://" not in dsn:
            dsn = f"sqlite:///{dsn}"
        try:
            source = source_parse_url(url=dsn)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if source.engine != options["target"]:
            raise CommandError(f"--dsn is a {source.engine} URL but --target is {options['target']}")
        if options["lines"] < 1:
            raise CommandError("--lines must be positive")
        started = time.perf_counter()
        if options["create_database"] and source.engine == "postgres":
            postgres_database_create(source=source)
        data = sales_generate(lines=options["lines"], shape=options["shape"], seed=options["seed"])
        generated = time.perf_counter()
        counts = sales_database_load(source=source, shape=options["shape"], data=data,
                                     log=lambda message: self.stdout.write(f"  {message}"))
        done = time.perf_counter()
        summary = ", ".join(f"{table}={count}" for table, count in counts.items())
        self.stdout.write(self.style.SUCCESS(
            f"{options['shape']} sales database ready in {source!r}: {summary} "
            f"(generated in {generated - started:.1f}s, loaded in {done - generated:.1f}s)"))
