"""The participant's campaign pages (apps/campaigns/views/participant.py): only one's own participation is
visible (404 otherwise, another tenant included), the dashboard shows the execution's results, redeeming goes
through a confirmation and moves the points once per token, the live fragment and the offer graphics."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import Campaign, CampaignRedemption
from apps.campaigns.services import (
    campaign_approve,
    campaign_participant_link,
    campaign_points_allocate,
    campaign_submit,
)
from tests.campaigns.test_execution import hand_points
from tests.factories.accounts import UserFactory


@pytest.fixture
def running(campaign_with_source, make_user, sales_data) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The seed's Premium Line campaign, approved and executed once; a participant who reached the individual
    goal (winner), one who is not eligible (loser), both with their own user."""
    campaign = campaign_with_source("en")
    expected = hand_points(sales_data)
    winner = next(key for key, row in sorted(expected.items()) if row["individual"])
    loser = next(key for key, row in sorted(expected.items()) if not row["eligible"])
    winner_user = make_user(role="participant", first_name="Winnie")
    loser_user = make_user(role="participant")
    campaign_participant_link(campaign=campaign, participant_key=winner, user=winner_user, name="Winnie Winner")
    campaign_participant_link(campaign=campaign, participant_key=loser, user=loser_user, name="Lou Loser")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    campaign_execute(campaign=campaign)
    return {"campaign": campaign, "expected": expected, "winner": winner, "loser": loser,
            "winner_user": winner_user, "loser_user": loser_user}


def _url(campaign: Campaign, suffix: str = "") -> str:
    return f"/campaigns/{campaign.pk}/{suffix}"


def test_my_campaigns_lists_only_my_visible_participations(running, web_client, make_user):
    campaign = running["campaign"]
    page = web_client(user=running["winner_user"]).get("/campaigns/")
    assert page.status_code == 200
    html = page.content.decode()
    assert campaign.name in html and _url(campaign) in html
    assert "Individual goal" in html

    stranger = web_client(user=make_user(role="participant")).get("/campaigns/").content.decode()
    assert campaign.name not in stranger and "You are not taking part in any campaign right now." in stranger


def test_a_draft_campaign_is_not_shown_to_its_participants(campaign_with_source, web_client, make_user):
    draft = campaign_with_source("en")
    user = make_user(role="participant")
    campaign_participant_link(campaign=draft, participant_key="1", user=user)
    client = web_client(user=user)
    assert draft.name not in client.get("/campaigns/").content.decode()
    assert client.get(_url(draft)).status_code == 404


def test_the_dashboard_shows_my_progress_points_badges_and_leaderboards(running, web_client):
    campaign, expected, winner = running["campaign"], running["expected"], running["winner"]
    response = web_client(user=running["winner_user"]).get(_url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-testid="balance-available">{expected[winner]["points"]:,}<' in html
    assert 'role="meter"' in html and 'aria-valuenow="100"' in html  # the individual goal is reached
    assert 'id="progress-data"' in html and 'id="live-config"' in html
    assert f'"campaign:{campaign.pk}"' in html and f'"user:{running["winner_user"].pk}"' in html
    assert "Individual goal reached" in html and "Earned on" in html
    assert 'data-testid="leaderboard-campaign"' in html and 'data-testid="leaderboard-region"' in html
    assert "Winnie W. <strong>(you)</strong>" in html
    assert "You are not earning points" not in html
    # Prizes: the seed's two, each with its graphic; neither affordable yet.
    assert "Vacation" in html or "vacation" in html
    assert html.count("/offers/") == 2 and "more points needed" in html
    # No inline script or style anywhere (the CSP forbids them).
    assert "<script>" not in html and " style=" not in html


def test_an_ineligible_participant_is_told_why(running, web_client):
    html = web_client(user=running["loser_user"]).get(_url(running["campaign"])).content.decode()
    assert 'data-testid="ineligible"' in html
    assert "your employment ends before it" in html


def test_another_participants_or_a_strangers_or_another_tenants_request_is_404(running, web_client, make_user):
    campaign = running["campaign"]
    for user in (make_user(role="participant"), make_user(role="admin")):
        client = web_client(user=user)
        for suffix in ("", "live/", "offers/prize_1.png"):
            assert client.get(_url(campaign, suffix)).status_code == 404
        assert client.post(_url(campaign, "redeem/"), {"prize": "x", "token": str(uuid.uuid4())}).status_code == 404
    assert web_client(user=make_user(role="participant")).get(f"/campaigns/{uuid.uuid4()}/").status_code == 404
    # beta's host with alpha's campaign id: beta has no such campaign (the session lives in beta's schema)
    with schema_context("beta"):
        client = web_client(host="beta.localhost", user=UserFactory(role="participant"))
        assert client.get(_url(campaign)).status_code == 404
        assert client.get("/campaigns/").content.decode().count(campaign.name) == 0


def test_anonymous_visitors_are_sent_to_sign_in(running, web_client):
    for path in ("/campaigns/", _url(running["campaign"]), _url(running["campaign"], "live/")):
        response = web_client().get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_redeeming_confirms_first_then_moves_the_points_once_per_token(running, web_client):
    campaign, winner = running["campaign"], running["winner"]
    earned = running["expected"][winner]["points"]
    campaign_points_allocate(campaign=campaign, participant_key=winner, points=50_000 - earned, reason="Contest",
                             idempotency_key="top-up")
    client = web_client(user=running["winner_user"])
    html = client.get(_url(campaign)).content.decode()
    assert 'data-prize="' in html
    prize_id = html.split('data-prize="', 1)[1].split('"', 1)[0]
    token = str(uuid.uuid4())

    confirm = client.post(_url(campaign, "redeem/"), {"prize": prize_id, "token": token})
    assert confirm.status_code == 200 and "Confirm redemption" in confirm.content.decode()
    assert not CampaignRedemption.objects.exists()

    done = client.post(_url(campaign, "redeem/"), {"prize": prize_id, "token": token, "confirmed": "1"}, follow=True)
    assert "You redeemed" in done.content.decode()
    assert 'data-testid="balance-available">0<' in done.content.decode()
    replay = client.post(_url(campaign, "redeem/"), {"prize": prize_id, "token": token, "confirmed": "1"})
    assert replay.status_code == 302 and CampaignRedemption.objects.count() == 1
    assert "First redemption" in done.content.decode()
    assert client.get(_url(campaign)).content.decode().count('data-testid="badge-first-redemption"') == 1


def test_redeeming_without_enough_points_or_an_unknown_prize_writes_nothing(running, web_client):
    client = web_client(user=running["winner_user"])
    campaign = running["campaign"]
    html = client.get(_url(campaign)).content.decode()
    prize_id = html.split('data-testid="offer-', 1)[1].split('"', 1)[0]
    poor = client.post(_url(campaign, "redeem/"), {"prize": prize_id, "token": str(uuid.uuid4()), "confirmed": "1"},
                       follow=True)
    earned = running["expected"][running["winner"]]["points"]
    assert f"Not enough points: {earned} available, 50000 needed." in poor.content.decode()
    unknown = client.post(_url(campaign, "redeem/"), {"prize": "nope", "token": str(uuid.uuid4()), "confirmed": "1"},
                          follow=True)
    assert "This prize could not be found." in unknown.content.decode()
    bad_token = client.post(_url(campaign, "redeem/"), {"prize": prize_id, "token": "x", "confirmed": "1"},
                            follow=True)
    assert "This prize could not be found." in bad_token.content.decode()
    assert not CampaignRedemption.objects.exists()
    assert client.get(_url(campaign, "redeem/")).status_code == 405


def test_the_live_fragment_is_the_changing_part_alone(running, web_client):
    response = web_client(user=running["winner_user"]).get(_url(running["campaign"], "live/"))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'data-testid="balance-available"' in html and 'id="progress-data"' in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_offer_graphics_are_pngs_with_an_etag(running, web_client):
    client = web_client(user=running["winner_user"])
    campaign = running["campaign"]
    html = client.get(_url(campaign)).content.decode()
    url = _url(campaign, "offers/" + html.split("/offers/", 1)[1].split('"', 1)[0])
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert first.content.startswith(b"\x89PNG") and first["ETag"]
    assert "private" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["ETag"] == first["ETag"]
    assert client.get(_url(campaign, "offers/unknown.png")).status_code == 404


def test_the_top_bar_and_the_home_page_link_to_my_campaigns(running, web_client):
    client = web_client(user=running["winner_user"])
    home = client.get("/").content.decode()
    assert home.count('href="/campaigns/"') == 2  # the top bar and the home page's card
    page = client.get("/campaigns/").content.decode()
    assert 'href="/campaigns/" aria-current="page"' in page
