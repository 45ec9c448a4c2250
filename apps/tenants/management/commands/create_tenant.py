from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApplicationError
from apps.tenants.models import Client
from apps.tenants.services import platform_bootstrap, tenant_provision


class Command(BaseCommand):
    help = "Create a tenant: its schema (cloned from the template), <slug>.localhost and its first admin."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", default=None)
        parser.add_argument("--plan", default=Client.Plan.FREE, choices=Client.Plan.values)
        parser.add_argument("--domain", default=None)
        parser.add_argument("--no-clone", action="store_true", help="run every migration instead of cloning")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        platform_bootstrap()
        try:
            result = tenant_provision(
                slug=opts["slug"], name=opts["name"], admin_email=opts["admin_email"],
                admin_password=opts["admin_password"], plan=opts["plan"], domain=opts["domain"],
                clone=not opts["no_clone"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.fields or ''}".strip()) from exc
        self.stdout.write(self.style.SUCCESS(f"Tenant {result.tenant.schema_name} at http://{result.domain}:8000/"))
        self.stdout.write(f"Admin: {result.admin_email}")
        if result.admin_password:
            self.stdout.write(f"Generated password: {result.admin_password}")
