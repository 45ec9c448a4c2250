"""The catalogs the product ships: complete in every language, and Django's own pt-BR month names corrected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import dateformat, formats, translation


@pytest.mark.parametrize("language", ["pt_BR", "es"])
def test_every_catalog_is_translated(language):
    catalog = polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"))

    assert len(catalog) > 1000
    assert not catalog.untranslated_entries() and not catalog.fuzzy_entries()


def test_brazilian_dates_write_month_names_in_lower_case():
    with translation.override("pt-br"):
        assert formats.date_format(dt.date(2026, 1, 5), "DATE_FORMAT") == "5 de janeiro de 2026"
        assert dateformat.format(dt.date(2026, 9, 5), "E b N") == "setembro set set."
        # Django's other pt-BR translations are untouched.
        assert translation.gettext("Save") == "Salvar"
    with translation.override("es"):
        assert formats.date_format(dt.date(2026, 1, 5), "DATE_FORMAT") == "5 de enero de 2026"
