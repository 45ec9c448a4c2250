"""The member dashboard ``/me/`` (apps/loyalty/views.py) through Django's test client, on alpha's host."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.loyalty import services
from apps.loyalty.models import LedgerEntry, Member, Redemption
from apps.referrals.services import referral_signup
from tests.factories.accounts import UserFactory
from tests.factories.loyalty import ProgramFactory, RewardFactory, TierFactory, member_make
from tests.factories.referrals import ReferralCampaignFactory

DASHBOARD = "/me/"
REDEEM = "/me/redeem"


@pytest.fixture
def signed_in(make_user, make_member, web_client):  # type: ignore[no-untyped-def]
    """A participant user and the member enrolled with the same email (different case: matched anyway)."""
    user = make_user(role="participant")
    member = make_member(email=user.email.upper(), name="Ana Souza")
    return web_client(user=user), user, member


def _token(html: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f-]{36})"', html)
    assert match, "the redeem form carries a token"
    return match.group(1)


def test_anonymous_visitor_is_sent_to_the_login_page(web_client):
    response = web_client().get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/"


def test_a_user_without_a_membership_sees_a_friendly_empty_state(make_user, web_client, program):
    user = make_user(role="participant")

    response = web_client(user=user).get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    assert "We could not find a loyalty membership for" in html
    assert user.email in html
    assert 'data-testid="balance-available"' not in html


def test_a_membership_of_a_draft_program_is_not_shown(make_user, web_client):
    user = make_user(role="participant")
    draft = ProgramFactory(status="active")
    member_make(draft, email=user.email)
    draft.status = "draft"
    draft.save(update_fields=["status"])

    html = web_client(user=user).get(DASHBOARD).content.decode()

    assert "We could not find a loyalty membership for" in html


def test_an_active_program_is_preferred_to_a_paused_one(make_user, web_client):
    user = make_user(role="participant")
    paused = ProgramFactory(name="Old Club")
    member_make(paused, email=user.email)
    paused.status = "paused"
    paused.save(update_fields=["status"])
    member_make(ProgramFactory(name="New Club"), email=user.email)

    html = web_client(user=user).get(DASHBOARD).content.decode()

    assert "New Club" in html
    assert "Old Club" not in html


def test_the_numbers_shown_match_the_ledger(signed_in, program, award):
    client, _user, member = signed_in
    program.expiration_enabled, program.expiry_warning_days = True, 30
    program.tier_basis = "points"
    program.save()
    TierFactory(program=program, name="Bronze", rank=1, threshold=Decimal("0"))
    TierFactory(program=program, name="Gold", rank=2, threshold=Decimal("1000"))
    soon = timezone.now() + timedelta(days=10)
    award(member, 300)
    award(member, 120, expires_at=soon)
    award(member, 80, pending_days=7)
    services.member_tier_recalculate(member_id=member.pk)
    member.refresh_from_db()

    response = client.get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert (member.available, member.pending) == (420, 80)
    assert re.search(r'data-testid="balance-available">420<', html)
    assert re.search(r'data-testid="balance-pending">80<', html)
    assert re.search(r'data-testid="balance-expiring">120\b', html)
    assert "first on" in html
    assert re.search(r'data-testid="tier-name">Bronze<', html)
    # Qualifying on points earned: 500 of Gold's 1000.
    assert 'value="50"' in html
    assert "Earn 500 more points to reach Gold." in html
    assert html.count('data-testid="history-points"') == LedgerEntry.objects.filter(member=member).count() == 3


def test_history_is_paginated_newest_first(signed_in, award):
    client, _user, member = signed_in
    for points in range(1, 13):
        award(member, points)

    first = client.get(DASHBOARD).content.decode()
    second = client.get(DASHBOARD + "?page=2").content.decode()

    assert re.findall(r'data-testid="history-points">\+(\d+)<', first) == [str(n) for n in range(12, 2, -1)]
    assert re.findall(r'data-testid="history-points">\+(\d+)<', second) == ["2", "1"]
    assert "Page 1 of 2" in first


def test_redeeming_through_the_page_moves_the_points_once_even_when_the_form_is_replayed(signed_in, program, award):
    client, _user, member = signed_in
    reward = RewardFactory(program=program, name="Coffee", points_cost=100)
    award(member, 250)
    token = _token(client.get(DASHBOARD).content.decode())
    form = {"reward": str(reward.pk), "token": token, "confirmed": "1"}

    first = client.post(REDEEM, form)
    replay = client.post(REDEEM, form)

    assert first.status_code == replay.status_code == 302
    member.refresh_from_db()
    assert member.available == 150
    assert Redemption.objects.filter(member=member).count() == 1
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REDEEM).count() == 1
    page = client.get(DASHBOARD).content.decode()
    assert re.search(r'data-testid="balance-available">150<', page)


def test_without_the_dialog_the_server_asks_for_confirmation_first(signed_in, program, award):
    client, _user, member = signed_in
    reward = RewardFactory(program=program, name="Coffee", points_cost=100)
    award(member, 250)

    response = client.post(REDEEM, {"reward": str(reward.pk), "token": str(uuid.uuid4())})

    assert response.status_code == 200
    assert "Confirm redemption" in response.content.decode()
    member.refresh_from_db()
    assert member.available == 250
    assert not Redemption.objects.filter(member=member).exists()


def test_redeeming_more_than_the_balance_is_refused_with_a_translated_message(signed_in, program, award):
    client, _user, member = signed_in
    reward = RewardFactory(program=program, name="Dinner", points_cost=500)
    award(member, 100)
    form = {"reward": str(reward.pk), "token": str(uuid.uuid4()), "confirmed": "1"}

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"  # what the language switcher sets

    response = client.post(REDEEM, form, follow=True)

    html = response.content.decode()
    assert "Not enough points" not in html
    assert "Puntos insuficientes: 100 disponibles, 500 necesarios." in html
    member.refresh_from_db()
    assert member.available == 100
    assert not Redemption.objects.filter(member=member).exists()
    assert not LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REDEEM).exists()


def test_a_reward_of_another_program_cannot_be_redeemed(signed_in, award):
    client, _user, member = signed_in
    award(member, 1000)
    elsewhere = RewardFactory(program=ProgramFactory(), points_cost=10)

    client.post(REDEEM, {"reward": str(elsewhere.pk), "token": str(uuid.uuid4()), "confirmed": "1"})

    member.refresh_from_db()
    assert member.available == 1000
    assert not Redemption.objects.exists()


def test_rewards_out_of_reach_are_shown_without_a_redeem_button(signed_in, program, award):
    client, _user, member = signed_in
    RewardFactory(program=program, name="Dinner", points_cost=500)
    award(member, 200)

    html = client.get(DASHBOARD).content.decode()

    assert "Dinner" in html
    assert "300 more points needed" in html
    assert 'class="redeem-form"' not in html


def test_the_referral_link_share_buttons_and_count(signed_in, program, make_member):
    client, _user, member = signed_in
    ReferralCampaignFactory(program=program, channels=["email", "whatsapp", "x", "facebook", "copy_link"])
    referral_signup(code=member.referral_code, referred_email="friend-one@example.test")
    referral_signup(code=member.referral_code, referred_email="friend-two@example.test")
    referral_signup(code=make_member().referral_code, referred_email="not-mine@example.test")

    html = client.get(DASHBOARD).content.decode()

    link = f"http://alpha.localhost/r/{member.referral_code}"
    assert f'value="{link}"' in html
    assert "You have referred 2 friends" in html
    assert "mailto:?subject=" in html
    assert "https://wa.me/?text=" in html and "https://x.com/intent/tweet?" in html
    assert "https://www.facebook.com/sharer/sharer.php?u=" + "http%3A%2F%2Falpha.localhost%2Fr%2F" in html
    assert 'data-copy-target="referral-link"' in html


def test_without_a_running_referral_campaign_no_dead_link_is_offered(signed_in):
    client, _user, member = signed_in

    html = client.get(DASHBOARD).content.decode()

    assert "There is no referral campaign running right now." in html
    assert f"/r/{member.referral_code}" not in html


def test_another_tenants_user_sees_nothing_of_alpha(signed_in, other_tenant, award, web_client):
    _client, user, member = signed_in
    award(member, 777)
    with schema_context("beta"):
        # The same person (same email) signed up in beta too, with a membership of beta's own program.
        stranger = UserFactory(email=user.email, role="participant")
        member_make(ProgramFactory(), email=user.email, name="Beta Person")
        client = web_client(host="beta.localhost", user=stranger)  # the session lives in beta's schema

        response = client.get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert "777" not in html
    assert member.referral_code not in html
    assert "Ana Souza" not in html
    assert "Beta Person" in html
    with schema_context("beta"):
        assert not Member.objects.filter(referral_code=member.referral_code).exists()


def test_alpha_session_is_not_valid_on_beta(signed_in, web_client):
    _client, user, _member = signed_in
    client = web_client(user=user)

    response = client.get(DASHBOARD, HTTP_HOST="beta.localhost")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
