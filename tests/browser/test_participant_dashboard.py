"""The participant's campaign dashboard in headless Chromium against a real server: a participant signs in with a
password, their open dashboard updates live when an execution runs (run from this process against a real
source database: the demo generator's sales in SQLite), they redeem the prize that just became affordable
through the confirmation dialog, switch to Spanish, Portuguese and English, and the page fits a phone. And an
owner sets the tenant's branding (colours, logo) that every page then wears.

With SCREENSHOTS=1 the dashboard (English and Portuguese, desktop and phone) and the branding page are written
to docs/screenshots/; otherwise to a temporary folder, so a test run never changes tracked files."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.branding.models import Branding
from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import Campaign, CampaignExecution, CampaignParticipant
from apps.campaigns.services import (
    campaign_approve,
    campaign_connection_set,
    campaign_create,
    campaign_participant_link,
    campaign_submit,
)
from apps.loyalty.selectors import member_list
from apps.rules.demo_data import sales_database_load, sales_generate
from apps.rules.models import SourceSchema
from apps.rules.selectors import schema_mapping_dict
from apps.rules.services import rule_document_from_text, schema_mapping_analyse, source_schema_ingest
from apps.rules.source_db import source_parse_url
from tests.branding.images import logo_mark

pytestmark = pytest.mark.browser

PASSWORD = "Participant-pass-12345"
# The seed's Premium Line campaign (English), over the half year the generated sales cover; reaching the
# individual goal pays exactly the vacation (as in the demo, apps/campaigns/demo.py).
TEXT = """Campaign Premium Line H1 2026, from January 1 to June 30, 2026.
Individual goal: 50,000 Brazilian Reals in Premium Line sales, reaching it earns 50,000 points.
Regional goal: 500,000 Brazilian Reals in Premium Line sales, reaching it earns 10,000 points.
Salespeople must be actively employed until the last day of the campaign.
Cancelled or returned sales are not eligible.
Prizes: a vacation to Cabo for 50,000 points and concert tickets for 100,000 points."""


@pytest.fixture(scope="module")
def sales_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    data = sales_generate(lines=3000, shape="en", seed=7)
    path = tmp_path_factory.mktemp("participant-sales") / "sales-en.db"
    sales_database_load(source=source_parse_url(url=f"sqlite:///{path}"), shape="en", data=data)
    return path, data


def _purge(campaign_id: Any, schema_id: Any, campaign_purge: Callable[[Campaign], None]) -> None:
    with schema_context("alpha"):
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is not None:
            campaign_purge(campaign)
        SourceSchema.objects.filter(pk=schema_id).delete()


@pytest.fixture
def premium(committed, tmp_path, sales_template, elsewhere, campaign_purge) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Committed in alpha: the campaign approved and executed once on a private copy of the sales database; the
    participant (a password user) linked to an eligible salesperson short of the individual goal; the
    salespeople's names copied from the sales database so the leaderboard has names to mask."""
    template, data = sales_template
    path = tmp_path / "sales-en.db"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    email = f"rui-{uuid.uuid4().hex[:8]}@example.test"
    user = committed.user("alpha", role="participant", email=email, password=PASSWORD, first_name="Rui",
                          last_name="Costa")
    admin = committed.user("alpha", role="admin")
    with schema_context("alpha"):
        source_schema = source_schema_ingest(kind="connection", url=url, allow_sqlite=True, name="sales",
                                             created_by=admin)
        schema_mapping_analyse(source_schema=source_schema, language="en")
        parsed = rule_document_from_text(text=TEXT, language="en", use_ai=False,
                                         schema_mapping=schema_mapping_dict(source_schema=source_schema))
        period = parsed.document["period"]
        campaign = campaign_create(name="Premium Line H1 2026", start_date=dt.date.fromisoformat(period["start"]),
                                   end_date=dt.date.fromisoformat(period["end"]), language="en",
                                   created_by=admin, document=parsed.document, source_text=TEXT)
        committed.on_cleanup(lambda: _purge(campaign.pk, source_schema.pk, campaign_purge))  # before the users go
        campaign.source_schema = source_schema
        campaign.save(update_fields=["source_schema"])
        campaign_connection_set(campaign=campaign, url=url, allow_sqlite=True)
        campaign_submit(campaign=campaign)
        campaign_approve(campaign=campaign, user=admin)
    first = elsewhere(lambda: campaign_execute(campaign=Campaign.objects.get(pk=campaign.pk)))
    assert first.status == CampaignExecution.Status.SUCCEEDED, first.error
    with schema_context("alpha"):
        names = {str(person[0]): person[1] for person in data.salespeople}
        for key, name in names.items():
            CampaignParticipant.objects.filter(campaign=campaign, participant_key=key).update(name=name)
        short = [p for p in CampaignParticipant.objects.filter(campaign=campaign, eligible=True)
                 if 0 < float(p.progress["goals"]["individual"]["percent"]) < 100]
        chosen = sorted(short, key=lambda p: -float(p.progress["goals"]["individual"]["percent"]))[0]
        campaign_participant_link(campaign=campaign, participant_key=chosen.participant_key, user=user,
                                  name="Rui Costa")
    return {"campaign": campaign, "user": user, "key": chosen.participant_key, "path": path}


def _available(campaign_id: Any, key: str) -> int:
    with schema_context("alpha"):
        participant = CampaignParticipant.objects.get(campaign_id=campaign_id, participant_key=key)
        return member_list().get(pk=participant.member_id).available


def _sell(path: Path, salesperson: str, amount: str) -> None:
    """One more completed Premium Line order for ``salesperson`` in the customer's database."""
    with sqlite3.connect(path) as db:
        product = db.execute("SELECT p.id FROM products p JOIN product_lines l ON l.id = p.product_line_id "
                             "WHERE l.name = 'Premium Line' ORDER BY p.id LIMIT 1").fetchone()[0]
        order = db.execute("SELECT MAX(id) + 1 FROM orders").fetchone()[0]
        line = db.execute("SELECT MAX(id) + 1 FROM order_items").fetchone()[0]
        db.execute("INSERT INTO orders VALUES (?, '2026-05-20', 1, ?, 'completed', 'BRL')", (order, int(salesperson)))
        db.execute("INSERT INTO order_items VALUES (?, ?, ?, 1, ?, ?)", (line, order, product, amount, amount))


def _language(page: Any, code: str) -> None:
    page.select_option("#language-select", code)
    with page.expect_navigation():
        page.locator(".lang-switcher button").click()
    assert page.locator("html").get_attribute("lang") == code


def test_the_open_dashboard_updates_live_then_the_prize_is_redeemed_through_the_dialog_in_three_languages(
        browser, site, premium, screen, screenshot, sign_in, elsewhere):
    campaign, key = premium["campaign"], premium["key"]
    dashboard = f"/campaigns/{campaign.pk}/"
    before = _available(campaign.pk, key)
    context = browser.new_context(**screen.desktop, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, dashboard, premium["user"].email, PASSWORD)
        live = page.get_by_test_id("campaign-live")
        expect(live).to_have_attribute("data-live", "on")  # subscribed to user:<id> and campaign:<id>
        expect(page.get_by_test_id("live-status")).to_contain_text("Live")
        assert page.get_by_test_id("balance-available").inner_text() == f"{before:,}"
        expect(page.get_by_test_id("badge-individual-100")).to_have_class("badge is-locked")
        vacation = page.locator("li.offer", has_text="Cabo")
        expect(vacation).to_contain_text("more points needed")
        expect(vacation.get_by_role("button", name="Redeem")).to_have_count(0)
        meter = page.get_by_test_id("goal-meter-individual")
        assert int(meter.get_attribute("aria-valuenow")) < 100
        page.evaluate("window.__notReloaded = true")

        # The salesperson closes a big Premium Line sale; the scheduled execution runs (here, in this process).
        _sell(premium["path"], key, "60000.00")
        second = elsewhere(lambda: campaign_execute(campaign=Campaign.objects.get(pk=campaign.pk),
                                                     trigger=CampaignExecution.Trigger.SCHEDULED))
        assert second.status == CampaignExecution.Status.SUCCEEDED, second.error
        after = _available(campaign.pk, key)
        assert after >= before + 50_000

        # The page follows without a reload: balance, thermometer, badge, chart history and the prize.
        expect(page.get_by_test_id("balance-available")).to_have_text(f"{after:,}")
        expect(meter).to_have_attribute("aria-valuenow", "100")
        expect(page.get_by_test_id("badge-individual-100")).to_have_class("badge is-earned")
        expect(page.get_by_test_id("live-status")).to_have_text("Updated with the latest calculation.")
        assert page.evaluate("window.__notReloaded") is True
        assert page.evaluate("Chart.getChart('progress-chart').data.labels.length") == 2
        page.get_by_test_id("progress-table").locator("summary").click()
        expect(page.get_by_test_id("progress-table").locator("tbody tr")).to_have_count(2)
        redeem = vacation.get_by_role("button", name="Redeem")
        expect(redeem).to_be_visible()

        # The confirmation dialog: cancelled with the mouse, then opened and closed with the keyboard.
        dialog = page.locator("#redeem-dialog")
        redeem.click()
        expect(dialog).to_be_visible()
        assert "Redeem Vacation" in dialog.inner_text() or "Cabo" in dialog.inner_text()
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        redeem.focus()
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert page.get_by_test_id("balance-available").inner_text() == f"{after:,}"

        redeem.click()
        with page.expect_navigation():  # the POST, then the redirect back to the dashboard
            dialog.get_by_role("button", name="Yes, redeem").click()
        expect(page.get_by_test_id("balance-available")).to_have_text(f"{after - 50_000:,}")
        expect(page.locator(".messages")).to_contain_text("You redeemed")
        expect(page.get_by_test_id("badge-first-redemption")).to_have_class("badge is-earned")
        screenshot(page, "campaign-dashboard-en")

        # Spanish, Portuguese, English again.
        _language(page, "es")
        expect(page.locator("#balance-title")).to_have_text("Puntos")
        expect(page.locator("#history-title")).to_have_text("Historial de puntos")
        _language(page, "pt-br")
        expect(page.locator("#balance-title")).to_have_text("Pontos")
        expect(page.locator("#history-title")).to_have_text("Histórico de pontos")
        screenshot(page, "campaign-dashboard-pt-br")
        _language(page, "en")
        expect(page.locator("#balance-title")).to_have_text("Points")
        expect(page.locator("#leaderboard-title")).to_have_text("Leaderboard")
    finally:
        context.close()
    assert _available(campaign.pk, key) == after - 50_000
    with schema_context("alpha"):
        assert campaign.redemptions.count() == 1


def test_the_dashboard_fits_a_phone_screen(browser, site, premium, screen, screenshot, sign_in):
    context = browser.new_context(**screen.phone)
    page = context.new_page()
    try:
        sign_in(page, "/campaigns/", premium["user"].email, PASSWORD)
        expect(page.get_by_test_id("active-campaigns")).to_contain_text("Premium Line H1 2026")
        with page.expect_navigation():
            page.get_by_role("link", name="Premium Line H1 2026").click()
        expect(page.get_by_test_id("campaign-live")).to_have_attribute("data-live", "on")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 375px"
        assert page.get_by_test_id("goal-meter-individual").is_visible()
        assert page.locator("#progress-chart").bounding_box()["width"] <= screen.phone["viewport"]["width"]
        screenshot(page, "campaign-dashboard-phone")
    finally:
        context.close()


def test_an_owner_sets_the_branding_and_the_top_bar_wears_it(
        browser, site, committed, tmp_path, screen, screenshot, sign_in):
    owner = committed.user("alpha", role="owner", email=f"olga-{uuid.uuid4().hex[:8]}@example.test",
                           password=PASSWORD, first_name="Olga")

    def forget_branding() -> None:
        with schema_context("alpha"):
            Branding.objects.all().delete()

    committed.on_cleanup(forget_branding)
    logo = tmp_path / "logo.png"
    logo.write_bytes(logo_mark((120, 48)))
    context = browser.new_context(**screen.desktop, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, "/console/branding/", owner.email, PASSWORD)
        page.fill("#id_display_name", "Acme Sales")
        page.fill("#id_primary_color", "#ffff00")
        page.get_by_label("White", exact=True).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Save branding").click()
        # White on yellow is refused, said at the field and in the summary; nothing saved.
        expect(page.locator(".error-summary")).to_contain_text("below the 4.5:1")
        expect(page.locator("#id_primary_color")).to_have_attribute("aria-invalid", "true")

        page.fill("#id_primary_color", "#0f766e")
        page.get_by_label("Automatic (the more readable of white and black)").check()
        page.set_input_files("#id_logo", str(logo))
        with page.expect_navigation():
            page.get_by_role("button", name="Save branding").click()
        expect(page.locator(".messages")).to_contain_text("The branding was saved.")
        brand = page.locator(".topbar .brand")
        expect(brand).to_contain_text("Acme Sales")
        expect(brand.locator("img.brand-logo")).to_be_visible()
        assert page.evaluate("document.querySelector('.brand-logo').naturalWidth") == 120
        topbar = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
        assert topbar == "rgb(15, 118, 110)"
        screenshot(page, "branding-settings")
    finally:
        context.close()
