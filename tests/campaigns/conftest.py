"""Campaign test harness: a generated demo sales database (SQLite, the English shape, a fixed seed) copied
per test so a test may change its sales, the seed's Premium Line texts, and a TLP sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.campaigns.models import Campaign
from apps.campaigns.services import campaign_connection_set, campaign_create
from apps.rules.demo_data import SalesData, sales_database_load, sales_generate
from apps.rules.selectors import schema_mapping_dict
from apps.rules.services import rule_document_from_text, schema_mapping_analyse, source_schema_ingest
from apps.rules.source_db import source_parse_url
from apps.tlp.sandbox import Faults, SandboxServer
from apps.tlp.services import tlp_configure

SOURCE_LINES = 3000
SOURCE_SEED = 7

PREMIUM_TEXTS = {
    "en": """Campaign Premium Line Q1 2026, from January 1 to March 31, 2026.
Individual goal: 50,000 Brazilian Reals in Premium Line sales, reaching it earns 1,000 points.
Regional goal: 500,000 Brazilian Reals in Premium Line sales, reaching it earns 500 points.
Salespeople must be actively employed until the last day of the campaign.
Cancelled or returned sales are not eligible.
Prizes: a vacation to Cabo for 50,000 points and concert tickets for 100,000 points.""",
    "es": """Campaña Premium Line T1 2026, del 1 de enero al 31 de marzo de 2026.
Meta individual: 50.000 reales en ventas de Premium Line; al alcanzarla gana 1.000 puntos.
Meta regional: 500.000 reales en ventas de Premium Line; al alcanzarla gana 500 puntos.
El vendedor debe estar activo hasta el último día de la campaña.
Las ventas canceladas o devueltas no cuentan.
Premios: vacaciones en Cabo por 50.000 puntos y entradas para un concierto por 100.000 puntos.""",
}


@pytest.fixture(scope="session")
def sales_data() -> SalesData:
    return sales_generate(lines=SOURCE_LINES, shape="en", seed=SOURCE_SEED)


@pytest.fixture(scope="session")
def sales_db_template(tmp_path_factory: pytest.TempPathFactory, sales_data: SalesData) -> Path:
    path = tmp_path_factory.mktemp("campaign-sources") / "sales-en.db"
    sales_database_load(source=source_parse_url(url=f"sqlite:///{path}"), shape="en", data=sales_data)
    return path


@pytest.fixture
def sales_db(tmp_path: Path, sales_db_template: Path) -> Path:
    """A private copy of the demo sales database (SQLite) for one test."""
    path = tmp_path / "sales-en.db"
    shutil.copy(sales_db_template, path)
    return path


@pytest.fixture
def campaign_with_source(tenant, sales_db, make_user) -> Callable[..., Campaign]:  # type: ignore[no-untyped-def]
    """A draft campaign connected to the demo database, its schema introspected and analysed, with a draft
    rule version parsed from the seed's Premium Line text in ``language``."""

    def make(language: str = "en", **fields: Any) -> Campaign:
        admin = make_user(role="admin")
        url = f"sqlite:///{sales_db}"
        source_schema = source_schema_ingest(kind="connection", url=url, allow_sqlite=True, name="sales")
        schema_mapping_analyse(source_schema=source_schema, language=language)
        mapping = schema_mapping_dict(source_schema=source_schema)
        parsed = rule_document_from_text(text=PREMIUM_TEXTS[language], language=language, schema_mapping=mapping,
                                         use_ai=False)
        period = parsed.document["period"]
        campaign = campaign_create(name="Premium Line Q1 2026", start_date=dt.date.fromisoformat(period["start"]),
                                   end_date=dt.date.fromisoformat(period["end"]), language=language,
                                   created_by=admin, document=parsed.document, source_text=PREMIUM_TEXTS[language],
                                   **fields)
        campaign.source_schema = source_schema  # what apps.rules' schema upload does for a campaign
        campaign.save(update_fields=["source_schema"])
        campaign_connection_set(campaign=campaign, url=url, allow_sqlite=True)
        return campaign

    return make


@pytest.fixture(scope="session")
def tlp_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(faults=Faults()).start()
    yield server
    server.stop()


@pytest.fixture
def tlp_configured(tenant, tlp_sandbox, settings):  # type: ignore[no-untyped-def]
    """Alpha's TLP pointed at a fresh sandbox account (through the real service, live check included)."""
    import requests

    settings.TLP_OUTBOX_KICK = False
    response = requests.post(f"{tlp_sandbox.url}/_sandbox/accounts", json={}, timeout=5)
    response.raise_for_status()
    return tlp_configure(endpoint_url=tlp_sandbox.url, api_key=response.json()["apiKey"], connect_timeout=1.0,
                         read_timeout=1.0)
