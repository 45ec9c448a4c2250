"""`make demo`: migrate, provision the demo tenant with known users, then run web + worker + beat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from apps.accounts.selectors import user_get_by_email
from apps.accounts.services import user_create, user_password_set
from apps.rules.selectors import source_schema_get_by_name
from apps.rules.services import schema_mapping_analyse, source_schema_ingest
from apps.tenants.selectors import tenant_get_by_slug
from apps.tenants.services import platform_bootstrap, tenant_provision

DEMO_SLUG = "acme"
DEMO_USERS = {
    "admin": ("admin@acme.test", "Acme-admin-2026!", "owner"),
    "manager": ("manager@acme.test", "Acme-manager-2026!", "manager"),
    "participant": ("ana@acme.test", "Acme-ana-2026!", "participant"),
}
PLATFORM_ADMIN = ("platform@incentiva.local", "Platform-admin-2026!")
SALES_SCHEMA_NAME = "Acme sales database (demo)"


class Command(BaseCommand):
    help = "Set up the demo (tenant acme with users and data) and run the web server, a worker and beat."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--no-serve", action="store_true", help="set up the demo data only")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--members", type=int, default=2000, help="loyalty members to generate")
        parser.add_argument("--sales-db", default=str(Path(settings.BASE_DIR) / ".incentiva" / "acme-sales.sqlite"),
                            help="where acme's own (SQLite) sales database is created")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        # Links in the demo's e-mails (participant invitations) point at the port the demo serves on.
        settings.TENANT_URL_PORT = str(opts["port"])
        self.stdout.write("Migrating the public schema and every tenant…")
        call_command("migrate_schemas", interactive=False, verbosity=0)
        platform_bootstrap()
        self._platform_admin()
        self.sales_db = opts["sales_db"]
        self._tenant(members=opts["members"])
        self._print_access(opts["port"])
        if not opts["no_serve"]:
            self._serve(opts["port"])

    def _platform_admin(self) -> None:
        email, password = PLATFORM_ADMIN
        user = user_get_by_email(email=email)
        if user is None:
            user_create(email=email, password=password, role="owner", is_staff=True, email_verified=True)
        elif not user.check_password(password):
            user_password_set(user=user, password=password)

    def _tenant(self, *, members: int) -> None:
        admin_email, admin_password, _role = DEMO_USERS["admin"]
        if tenant_get_by_slug(slug=DEMO_SLUG) is None:
            tenant_provision(slug=DEMO_SLUG, name="Acme Distribuidora", admin_email=admin_email,
                             admin_password=admin_password, plan="growth")
        with schema_context(DEMO_SLUG):
            for key, (email, password, role) in DEMO_USERS.items():
                user = user_get_by_email(email=email)
                if user is None:
                    user_create(email=email, password=password, role=role, email_verified=True,
                                first_name=email.split("@")[0].title(),
                                preferred_language="pt-br" if key == "participant" else "en")
                elif not user.check_password(password):
                    # The demo prints these credentials: they must work whatever happened to the accounts.
                    user_password_set(user=user, password=password)
        self._demo_data(members=members)

    def _demo_data(self, *, members: int) -> None:
        """Each domain app contributes demo data through its own command, when it is installed."""
        from django.core.management import get_commands

        for command, args in [("loyalty_demo_data", ["--schema", DEMO_SLUG, "--members", str(members), "--if-empty"])]:
            if command in get_commands():
                call_command(command, *args)
        self._sales_database()

    def _sales_database(self) -> None:
        """Acme's own sales database (Portuguese names, no declared keys), separate from ours, and its schema
        as the rules engine understood it: what a campaign is written against."""
        path = Path(self.sales_db)
        if not path.exists():
            call_command("sales_demo_db", "--target", "sqlite", "--dsn", str(path), "--lines", "20000",
                         "--shape", "pt", "--seed", "7")
        with schema_context(DEMO_SLUG):
            stored = source_schema_get_by_name(name=SALES_SCHEMA_NAME)
            if stored is None:
                stored = source_schema_ingest(kind="connection", url=f"sqlite:///{path}", name=SALES_SCHEMA_NAME,
                                              allow_sqlite=True)
            analysis = schema_mapping_analyse(source_schema=stored, language="pt-br")
            from apps.campaigns.demo import campaign_demo_seed  # the seed's Premium Line campaign, run once

            campaign_demo_seed(sales_db_path=str(path))
        self.sales_summary = (f"  Sales database  {path} (20,000 order lines, Portuguese names); "
                              f"schema understanding score {analysis['score']:.2f}")

    def _print_access(self, port: int) -> None:
        base = f"http://{DEMO_SLUG}.{settings.TENANT_DEV_DOMAIN_SUFFIX}:{port}"
        lines = [
            "",
            "Incentiva demo",
            f"  Tenant app      {base}/            (login page: {base}/accounts/login/)",
            f"  Tenant admin    {base}/admin/",
            f"  API docs        {base}/api/docs/",
            f"  Platform admin  http://localhost:{port}/platform-admin/",
            "",
            "  Credentials",
        ]
        for key, (email, password, role) in DEMO_USERS.items():
            lines.append(f"    {key:12s} {email:24s} {password}   ({role})")
        lines.append(f"    {'platform':12s} {PLATFORM_ADMIN[0]:24s} {PLATFORM_ADMIN[1]}")
        if getattr(self, "sales_summary", ""):
            lines += ["", self.sales_summary]
        lines.append("")
        self.stdout.write("\n".join(lines))

    def _serve(self, port: int) -> None:
        python = sys.executable
        bindir = Path(python).parent
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                                      "incentiva.settings.local")}
        commands = {
            "web": [str(bindir / "uvicorn"), "incentiva.asgi:application", "--host", "127.0.0.1",
                    "--port", str(port), "--lifespan", "off"],
            "worker": [str(bindir / "celery"), "-A", "incentiva", "worker", "--loglevel", "WARNING",
                       "--concurrency", "2"],
            "beat": [str(bindir / "celery"), "-A", "incentiva", "beat", "--loglevel", "WARNING",
                     "-S", "django_celery_beat.schedulers:DatabaseScheduler"],
            # The TLP sandbox (apps/tlp): once it listens, it points acme's TLP configuration at itself.
            "tlp": [python, str(settings.BASE_DIR / "manage.py"), "tlp_sandbox", "--port", "8100", "--api-key",
                    "demo-tlp-key-acme-0001", "--configure-tenant", DEMO_SLUG, "--latency-ms", "20-120",
                    "--state-file", str(settings.BASE_DIR / ".incentiva" / "tlp-sandbox.json")],
        }
        procs = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
        self.stdout.write(f"Running {', '.join(procs)} (Ctrl-C stops them all).")

        def stop(*_args: object) -> None:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            raise SystemExit(0)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with {proc.returncode}; stopping the demo.")
                    stop()
            time.sleep(1)
