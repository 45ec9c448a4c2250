from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.tenants.services import platform_bootstrap


class Command(BaseCommand):
    help = "Create the public tenant (localhost) and the migrated tenant template. Safe to repeat."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--public-domain", default="localhost")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        platform_bootstrap(public_domain=opts["public_domain"])
        self.stdout.write(self.style.SUCCESS("Platform ready."))
