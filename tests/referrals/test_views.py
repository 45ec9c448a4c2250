from __future__ import annotations

import pytest

from apps.referrals.models import ReferralClick
from apps.referrals.services import referral_campaign_update
from apps.referrals.views import REFERRAL_COOKIE


def test_landing_records_the_click_sets_the_cookie_and_invites_to_sign_up(web_client, campaign, make_member):
    referral_campaign_update(campaign=campaign, data={"signup_url": "https://shop.example.com/join?lang=en"})
    referrer = make_member(name="Beatriz Lima")

    response = web_client().get(f"/r/{referrer.referral_code}?ch=whatsapp", REMOTE_ADDR="203.0.113.77",
                                HTTP_USER_AGENT="Mozilla/5.0 Landing")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Beatriz invited you to join Rewards" in page and "Lima" not in page
    assert "250 points" in page
    assert f"https://shop.example.com/join?lang=en&amp;ref={referrer.referral_code}" in page
    assert response.cookies[REFERRAL_COOKIE].value == referrer.referral_code
    assert response.cookies[REFERRAL_COOKIE]["httponly"]
    click = ReferralClick.objects.get(referrer=referrer)
    assert click.channel == "whatsapp" and click.campaign == campaign
    assert "203.0.113.77" not in click.ip_hash


def test_landing_speaks_the_visitors_language(web_client, campaign, make_member):
    referrer = make_member()

    response = web_client().get(f"/r/{referrer.referral_code}", HTTP_ACCEPT_LANGUAGE="pt-br",
                                REMOTE_ADDR="203.0.113.78")

    assert response.status_code == 200
    assert '<html lang="pt-br"' in response.content.decode()
    assert ReferralClick.objects.get(referrer=referrer).channel == "copy_link"


@pytest.mark.parametrize("code", ["NOSUCH23", "bad!code"])
def test_an_unknown_code_gets_a_friendly_404_page_and_no_click(web_client, campaign, code):
    response = web_client().get(f"/r/{code}")

    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()
    assert REFERRAL_COOKIE not in response.cookies
    assert not ReferralClick.objects.exists()


def test_a_paused_campaign_makes_the_link_404(web_client, campaign, make_member):
    referrer = make_member()
    referral_campaign_update(campaign=campaign, data={"status": "paused"})

    assert web_client().get(f"/r/{referrer.referral_code}").status_code == 404
    assert not ReferralClick.objects.exists()


def test_the_landing_only_answers_safe_methods(web_client, campaign, make_member):
    referrer = make_member()

    assert web_client().post(f"/r/{referrer.referral_code}").status_code in (403, 405)
    assert not ReferralClick.objects.exists()
