"""The member dashboard in headless Chromium against a real server: sign in through the login page, redeem a
reward through the confirmation dialog, switch languages, copy the referral link, fit a phone's width.

With SCREENSHOTS=1 in the environment, screenshots of the page (desktop and phone) are written to
docs/screenshots/; otherwise to a temporary folder, so a test run never changes tracked files."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.loyalty import services
from apps.loyalty.models import (
    LedgerEntry,
    Member,
    Program,
)
from apps.referrals.services import referral_signup
from tests.factories.loyalty import ProgramFactory, RewardFactory, TierFactory, member_make
from tests.factories.referrals import ReferralCampaignFactory
from tests.support import loyalty_program_purge

pytestmark = pytest.mark.browser

PASSWORD = "Member-pass-12345"


@pytest.fixture
def member_data(committed) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Committed in alpha: a participant user and the member with the same email, 1,250 points, two tiers,
    two rewards, a referral campaign on every channel and one friend referred. Removed afterwards."""
    email = f"ana-{uuid.uuid4().hex[:8]}@example.test"
    user = committed.user("alpha", role="participant", email=email, password=PASSWORD, first_name="Ana")
    with schema_context("alpha"):
        program = ProgramFactory(name="Café Rewards", tier_basis=Program.TierBasis.POINTS)
        # runs before the user is deleted (the ledger names its actor)
        committed.on_cleanup(lambda: loyalty_program_purge(program.pk))
        TierFactory(program=program, name="Silver", rank=1, threshold=Decimal("0"))
        TierFactory(program=program, name="Gold", rank=2, threshold=Decimal("2000"))
        reward = RewardFactory(program=program, name="Free coffee", points_cost=300, value=Decimal("3.50"))
        RewardFactory(program=program, name="Dinner for two", points_cost=5000, value=Decimal("60.00"))
        member = member_make(program, email=email, name="Ana Souza")
        services.points_award(member=member, points=1250, source="purchase", idempotency_key=f"bt-{member.pk}")
        services.member_tier_recalculate(member_id=member.pk)
        ReferralCampaignFactory(program=program, channels=["email", "whatsapp", "x", "facebook", "copy_link"])
        referral_signup(code=member.referral_code, referred_email=f"friend-{uuid.uuid4().hex[:6]}@example.test")
    return {"user": user, "member": member, "reward": reward, "email": email}


def test_member_signs_in_redeems_through_the_dialog_switches_language_and_copies_the_link(
        browser, site, member_data, screen, screenshot, sign_in):
    context = browser.new_context(**screen.desktop, locale="en-US")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.alpha)
    page = context.new_page()
    try:
        sign_in(page, "/me/", member_data["email"], PASSWORD)
        available = page.get_by_test_id("balance-available")
        assert available.inner_text() == "1250"
        assert page.get_by_test_id("tier-name").inner_text() == "Silver"

        # Redeem: the dialog opens; cancelling leaves the balance alone, confirming spends 300 points.
        coffee = page.locator("li.reward", has_text="Free coffee")
        coffee.get_by_role("button", name="Redeem").click()
        dialog = page.locator("#redeem-dialog")
        expect(dialog).to_be_visible()
        assert "Redeem Free coffee for 300 points?" in dialog.inner_text()
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        # By keyboard too: Enter on the focused button opens it, Escape closes it without redeeming.
        coffee.get_by_role("button", name="Redeem").focus()
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert available.inner_text() == "1250"
        coffee.get_by_role("button", name="Redeem").click()
        with page.expect_navigation():  # the POST, then the redirect back to the dashboard
            dialog.get_by_role("button", name="Yes, redeem").click()
        assert page.get_by_test_id("balance-available").inner_text() == "950"
        assert "You redeemed Free coffee for 300 points." in page.locator(".messages").inner_text()
        screenshot(page, "member-dashboard-desktop")

        # The referral link: copied with the Clipboard API, and said so.
        link = page.locator("#referral-link").input_value()
        assert link == f"{site.alpha}/r/{member_data['member'].referral_code}"
        page.get_by_role("button", name="Copy link").click()
        expect(page.get_by_test_id("copy-status")).to_have_text("Link copied to the clipboard.")
        assert page.evaluate("navigator.clipboard.readText()") == link
        assert "You have referred 1 friend" in page.get_by_test_id("referral-count").inner_text()

        # The language switcher: Spanish, then English again.
        page.select_option("#language-select", "es")
        with page.expect_navigation():
            page.locator(".lang-switcher button").click()
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.locator("#referral-title").inner_text() == "Referidos"
        assert page.locator("#balance-title").inner_text() == "Puntos"
        page.select_option("#language-select", "en")
        with page.expect_navigation():
            page.locator(".lang-switcher button").click()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#referral-title").inner_text() == "Referrals"
    finally:
        context.close()

    with schema_context("alpha"):
        member = Member.objects.get(pk=member_data["member"].pk)
        assert member.available == 950
        assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REDEEM).count() == 1


def test_member_dashboard_fits_a_phone_screen(browser, site, member_data, screen, screenshot, sign_in):
    context = browser.new_context(**screen.phone)
    page = context.new_page()
    try:
        sign_in(page, "/me/", member_data["email"], PASSWORD)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 375px"
        assert page.get_by_role("button", name="Redeem").first.is_visible()
        screenshot(page, "member-dashboard-phone")
    finally:
        context.close()


def test_without_javascript_the_page_still_confirms_and_redeems(browser, site, member_data, screen, sign_in):
    context = browser.new_context(**screen.desktop, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "/me/", member_data["email"], PASSWORD)
        expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
        page.locator("li.reward", has_text="Free coffee").get_by_role("button", name="Redeem").click()
        expect(page.locator("h1")).to_have_text("Confirm redemption")
        page.get_by_role("button", name="Yes, redeem").click()
        expect(page.get_by_test_id("balance-available")).to_have_text("950")
    finally:
        context.close()
