"""The admin campaign console in headless Chromium against a real server: an admin signs in with a password,
switches the interface to Portuguese and creates the seed's Premium Line campaign through the wizard with the
Portuguese text (live feedback as it is typed, the schema dropped as a file and corrected, TLP connected to
the sandbox, the customer's PostgreSQL sales database tested), reviews the rule document, SQL and explanation,
submits, approves, runs it with "execute now" and sees runs appear live on the monitoring page.

The customer's database is the demo generator's Portuguese-shaped sales database loaded into a scratch
PostgreSQL database (dropped afterwards). With SCREENSHOTS=1 the steps worth showing, the list and the
monitoring page are written to docs/screenshots/; otherwise to a temporary folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import (
    Campaign,
    CampaignExecution,
    CampaignRuleVersion,
)
from apps.rules.demo_data import (
    postgres_database_create,
    postgres_database_drop,
    sales_database_load,
    sales_ddl,
    sales_generate,
)
from apps.rules.models import SourceSchema
from apps.rules.source_db import source_parse_url
from apps.tlp.models import TLPConfiguration, TLPEntity, TLPOutbox
from apps.tlp.sandbox import Faults, SandboxServer
from tests.support import source_postgres_url

pytestmark = pytest.mark.browser

PASSWORD = "Admin-pass-12345"
SALES_LINES = 20_000
# The seed's campaign in Portuguese (apps/campaigns/demo.py), one part per wizard step.
GOALS = ("Meta individual: R$ 50.000 em vendas da linha Premium; ao atingir a meta, o vendedor ganha 50.000 pontos.\n"
         "Meta regional: R$ 500.000 em vendas da linha Premium; ao atingir a meta, o vendedor ganha 10.000 pontos.")
ELIGIBILITY = "Funcionários ativos até o último dia da campanha.\nVendas canceladas ou devolvidas não são elegíveis."
PRIZES = "50.000 pontos: viagem para Cabo; 100.000 pontos: ingressos de show."


@pytest.fixture(scope="module")
def sales_url() -> Iterator[str]:
    """The customer's sales database: the demo's Portuguese shape in a scratch PostgreSQL database."""
    base = (settings.DATABASES["default"].get("NAME") or "incentiva").removeprefix("test_")
    source = source_parse_url(url=source_postgres_url(f"{base}_src_console_pt"))
    postgres_database_create(source=source, drop=True)
    sales_database_load(source=source, shape="pt", data=sales_generate(lines=SALES_LINES, shape="pt", seed=7))
    yield source.url
    postgres_database_drop(source=source)


@pytest.fixture(scope="module")
def tlp_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(faults=Faults()).start()
    yield server
    server.stop()


def _purge(user: Any, since: dt.datetime, tlp_before: set[Any], campaign_purge: Callable[[Campaign], None]) -> None:
    """Everything the wizard and the runs committed in alpha: the campaign and its history, its loyalty
    program, schedule, TLP rows and offer graphics, the schema, the TLP configuration it created."""
    with schema_context("alpha"):
        for campaign in Campaign.objects.filter(created_by=user):
            entities = TLPEntity.objects.filter(local_ref__startswith=f"campaign:{campaign.pk}")
            paths = [entity.data.get("image_path") for entity in entities if entity.data.get("image_path")]
            entities.delete()
            campaign_purge(campaign)
            for path in paths:
                default_storage.delete(path)
            with contextlib.suppress(OSError, NotImplementedError):  # the campaign's folder, once empty
                for folder in {Path(default_storage.path(path)).parent for path in paths}:
                    folder.rmdir()
        TLPOutbox.objects.filter(created_at__gte=since).delete()
        TLPEntity.objects.filter(created_at__gte=since).delete()
        SourceSchema.objects.filter(created_by=user).delete()
        TLPConfiguration.objects.exclude(pk__in=tlp_before).delete()


@pytest.fixture
def admin(committed, settings, campaign_purge) -> Any:  # type: ignore[no-untyped-def]
    settings.TLP_OUTBOX_KICK = False  # this process's run must not enqueue deliveries for a worker
    email = f"bia-{uuid.uuid4().hex[:8]}@example.test"
    user = committed.user("alpha", role="admin", email=email, password=PASSWORD, first_name="Bia")
    with schema_context("alpha"):
        tlp_before = set(TLPConfiguration.objects.values_list("pk", flat=True))
    since = timezone.now()
    committed.on_cleanup(lambda: _purge(user, since, tlp_before, campaign_purge))  # runs before the user is deleted
    return user


def _next(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_test_id("next").click()


def test_admin_creates_the_premium_line_campaign_in_portuguese_approves_it_and_watches_it_run(
        browser, site, admin, sales_url, tlp_sandbox, screen, screenshot, elsewhere):
    api_key = requests.post(f"{tlp_sandbox.url}/_sandbox/accounts", json={}, timeout=5).json()["apiKey"]
    # A Brazilian browser (its date inputs read dd/mm/aaaa); the admin's own language is English until switched.
    context = browser.new_context(**screen.desktop, locale="pt-BR")
    page = context.new_page()
    try:
        # Signed out, the console sends to the login page; a password signs in and comes back.
        page.goto(f"{site.alpha}/console/campaigns/")
        assert "/accounts/login/" in page.url
        page.fill("input[name=login]", admin.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{site.alpha}/console/campaigns/")

        # The interface in Portuguese.
        assert page.locator("html").get_attribute("lang") == "en"
        page.select_option("#language-select", "pt-br")
        with page.expect_navigation():
            page.locator(".lang-switcher button").click()
        assert page.locator("html").get_attribute("lang") == "pt-br"
        expect(page.locator("h1")).to_have_text("Campanhas")

        # 1. Details.
        with page.expect_navigation():
            page.get_by_test_id("new-campaign").click()
        page.fill("#id_name", "Linha Premium 2026")
        page.fill("#id_description", "Campanha de vendas da linha Premium no primeiro semestre.")
        page.fill("#id_start_date", "2026-01-01")
        page.fill("#id_end_date", "2026-06-30")
        page.select_option("#id_language", "pt-br")
        page.select_option("#id_currency", "BRL")
        screenshot(page, "console-wizard-1-details")
        with page.expect_navigation():
            page.locator("button[name=nav][value=next]").click()
        with schema_context("alpha"):
            campaign = Campaign.objects.get(created_by=admin)
        assert page.url.endswith(f"/console/campaigns/{campaign.pk}/wizard/goals/")

        # 2. Goals, with live feedback: what it could not understand is quoted back, then fixed.
        page.fill("#id_text", GOALS + "\nBônus flamingo para quem vender mais.")
        expect(page.get_by_test_id("fb-warnings")).to_contain_text("flamingo")
        expect(page.get_by_test_id("fb-goals")).to_contain_text("Premium Line")
        screenshot(page, "console-wizard-2-goals-feedback")
        page.fill("#id_text", GOALS)
        expect(page.get_by_test_id("fb-warnings")).to_have_count(0)
        expect(page.get_by_test_id("fb-goals").locator("li")).to_have_count(2)
        _next(page)

        # 3. Eligibility and 4. prizes.
        page.fill("#id_text", ELIGIBILITY)
        expect(page.get_by_test_id("fb-conditions").locator("li")).to_have_count(2)
        _next(page)
        page.fill("#id_text", PRIZES)
        expect(page.get_by_test_id("fb-prizes")).to_contain_text("viagem para Cabo")
        expect(page.get_by_test_id("fb-prizes").locator("li")).to_have_count(2)
        _next(page)

        # 5. Schema: the DDL dropped on the drop zone, analysed, corrected.
        ddl = sales_ddl(shape="pt", dialect="postgres")
        transfer = page.evaluate_handle(
            "(text) => { const data = new DataTransfer();"
            " data.items.add(new File([text], 'vendas.sql', {type: 'application/sql'})); return data; }", ddl)
        page.get_by_test_id("dropzone").dispatch_event("drop", {"dataTransfer": transfer})
        expect(page.locator(".dropzone-file")).to_contain_text("vendas.sql")
        with page.expect_navigation():
            page.get_by_test_id("analyse").click()
        expect(page.get_by_test_id("schema-score")).to_have_text("96%")
        expect(page.get_by_test_id("schema-feedback")).to_contain_text("Compreensão do esquema: 96%")
        expect(page.get_by_test_id("schema-questions")).to_contain_text("pedidos.situacao")
        page.select_option("#id_concept_order", "pedidos.id")
        page.select_option("#id_concept_salesperson", "vendedores.id")
        page.fill("#id_status_completed", "concluido")
        page.fill("#id_status_cancelled", "cancelado")
        page.fill("#id_status_returned", "devolvido")
        with page.expect_navigation():
            page.get_by_test_id("apply-corrections").click()
        score = page.get_by_test_id("schema-score").inner_text()
        assert score != "96%" and int(score.rstrip("%")) > 96
        expect(page.get_by_test_id("schema-questions")).to_have_count(0)
        screenshot(page, "console-wizard-5-schema")
        _next(page)

        # 6. TLP, checked live before it is saved, then its connectivity.
        page.fill("#id_endpoint_url", tlp_sandbox.url)
        page.fill("#id_api_key", api_key)
        with page.expect_navigation():
            page.get_by_test_id("tlp-save").click()
        with page.expect_navigation():
            page.get_by_test_id("tlp-check").click()
        expect(page.get_by_test_id("tlp-health")).to_have_class("check-result ok")
        screenshot(page, "console-wizard-6-tlp")
        _next(page)

        # 7. The customer's database, tried before it is saved.
        page.fill("#id_url", sales_url)
        with page.expect_navigation():
            page.get_by_test_id("connection-save").click()
        expect(page.get_by_test_id("connection-status")).to_contain_text("postgres")
        _next(page)

        # 8. Review: the rule document, the SQL, its explanation in Portuguese and the TLP plan; submit.
        expect(page.get_by_test_id("explanation")).to_contain_text("A campanha “Linha Premium 2026” vai de")
        expect(page.get_by_test_id("sql")).to_contain_text("SELECT")
        expect(page.get_by_test_id("guard-ok")).to_be_visible()
        expect(page.get_by_test_id("source-text")).to_contain_text("Meta individual: R$ 50.000")
        expect(page.get_by_test_id("action-plan")).to_contain_text("viagem para Cabo")
        screenshot(page, "console-wizard-8-review")
        with page.expect_navigation():
            page.get_by_test_id("submit").click()

        # 9. Approval with a comment: provisioned in TLP, scheduled; the monitoring page opens.
        page.fill("#id_comment", "Aprovada para o primeiro semestre.")
        with page.expect_navigation():
            page.get_by_test_id("approve").click()
        assert page.url.endswith(f"/console/campaigns/{campaign.pk}/")
        with schema_context("alpha"):
            campaign.refresh_from_db()
            version = campaign.rule_versions.get(status=CampaignRuleVersion.Status.APPROVED)
        assert campaign.status == Campaign.Status.APPROVED and campaign.tlp_status == Campaign.TlpStatus.PROVISIONED
        assert version.approval_comment == "Aprovada para o primeiro semestre." and version.approved_by_id == admin.pk
        assert {p["name"] for p in version.document["prizes"]} == {"viagem para Cabo", "ingressos de show"}

        # Execute now: posted in place (no reload), the run arrives over the websocket.
        expect(page.locator("html")).to_have_attribute("data-live", "subscribed")
        expect(page.get_by_test_id("no-runs")).to_be_visible()
        page.evaluate("window.stillTheSamePage = true")
        page.get_by_test_id("execute-now").click()
        expect(page.get_by_test_id("run-row")).to_have_count(1, timeout=30_000)
        assert page.evaluate("window.stillTheSamePage") is True

        # A run started elsewhere (the scheduler's) appears too, which only the websocket can tell the page.
        scheduled = elsewhere(lambda: campaign_execute(campaign=Campaign.objects.get(pk=campaign.pk),
                                                      trigger=CampaignExecution.Trigger.SCHEDULED))
        assert scheduled.status == CampaignExecution.Status.SUCCEEDED
        expect(page.get_by_test_id("run-row")).to_have_count(2, timeout=30_000)
        expect(page.locator(f"[data-execution='{scheduled.pk}']")).to_be_visible()
        assert page.evaluate("window.stillTheSamePage") is True
        with schema_context("alpha"):
            first = campaign.executions.exclude(pk=scheduled.pk).get()
            participants = campaign.participants.count()
            ineligible = campaign.participants.filter(eligible=False).count()
        assert first.status == CampaignExecution.Status.SUCCEEDED and first.points_allocated > 0
        expect(page.get_by_test_id("stat-participants")).to_have_text(f"{participants:,}".replace(",", "."))
        page.reload()
        expect(page.get_by_test_id("ineligible-row")).to_have_count(min(ineligible, 25))
        screenshot(page, "console-monitoring")

        with page.expect_navigation():
            page.locator("nav a[href='/console/campaigns/']").first.click()
        row = page.get_by_test_id("campaign-row").filter(has_text="Linha Premium 2026")
        expect(row).to_contain_text(f"{participants:,}".replace(",", "."))
        screenshot(page, "console-campaign-list")
    finally:
        context.close()


def test_without_javascript_the_wizard_is_plain_forms_and_it_fits_a_phone(
        browser, site, admin, screen, screenshot, sign_in):
    context = browser.new_context(**screen.phone, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "/console/campaigns/", admin.email, PASSWORD)
        with page.expect_navigation():
            page.get_by_test_id("new-campaign").click()
        page.fill("#id_name", "Linha Premium 2026")
        page.fill("#id_start_date", "2026-06-30")
        page.fill("#id_end_date", "2026-01-01")
        with page.expect_navigation():
            page.locator("button[name=nav][value=next]").click()
        expect(page.locator("#id_end_date")).to_have_attribute("aria-invalid", "true")  # the error by its field
        page.fill("#id_start_date", "2026-01-01")
        page.fill("#id_end_date", "2026-06-30")
        with page.expect_navigation():
            page.locator("button[name=nav][value=next]").click()
        page.fill("#id_text", GOALS)
        _next(page)
        assert page.url.endswith("/wizard/eligibility/")
        # Back to the goals: the saved text, and what the engine understood, rendered by the server.
        with page.expect_navigation():
            page.locator("button[name=nav][value=back]").click()
        expect(page.locator("#id_text")).to_have_value(GOALS)
        expect(page.get_by_test_id("fb-goals").locator("li")).to_have_count(2)
        screenshot(page, "console-wizard-phone")
    finally:
        context.close()

    # The same pages at 375 px with scripts on: nothing scrolls sideways.
    context = browser.new_context(**screen.phone)
    page = context.new_page()
    try:
        sign_in(page, "/console/campaigns/", admin.email, PASSWORD)
        with schema_context("alpha"):
            campaign = Campaign.objects.get(created_by=admin)
        for path in ("/console/campaigns/", f"/console/campaigns/{campaign.pk}/wizard/goals/",
                     f"/console/campaigns/{campaign.pk}/"):
            page.goto(f"{site.alpha}{path}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375px"
    finally:
        context.close()
