"""Compile locale/*.po to .mo in pure Python, so a fresh machine needs no GNU gettext."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # runs at setup, before there is a database to check against
    help = "Compile every .po catalog under LOCALE_PATHS into .mo (fails on untranslated or fuzzy entries)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--allow-incomplete", action="store_true")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        problems = []
        count = 0
        for root in settings.LOCALE_PATHS:
            for po_path in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
                catalog = polib.pofile(str(po_path))
                lang = po_path.parent.parent.name
                missing = [e.msgid for e in catalog.untranslated_entries()] if lang != "en" else []
                fuzzy = [e.msgid for e in catalog.fuzzy_entries()]
                if missing or fuzzy:
                    problems.append(f"{po_path}: {len(missing)} untranslated, {len(fuzzy)} fuzzy")
                catalog.save_as_mofile(str(po_path.with_suffix(".mo")))
                count += 1
        for problem in problems:
            self.stderr.write(problem)
        if problems and not opts["allow_incomplete"]:
            raise CommandError("locale/ is incomplete")
        self.stdout.write(f"compiled {count} catalogs")
