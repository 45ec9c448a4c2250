"""The campaigns back office: read-only pages load, and leaderboard prizes are saved through the services
(overlapping ranks refused, frozen once the campaign is approved)."""

from __future__ import annotations

import pytest

from apps.campaigns.models import LeaderboardPrize
from apps.campaigns.services import campaign_approve, campaign_submit


@pytest.fixture
def staff_client(web_client, make_user):  # type: ignore[no-untyped-def]
    return web_client(user=make_user(role="owner", is_staff=True, is_superuser=True))


@pytest.mark.parametrize("model", ["campaign", "campaignexecution", "campaignparticipant", "pointallocation",
                                   "campaignredemption", "leaderboardprize"])
def test_changelists_load(staff_client, campaign_with_source, model):
    campaign_with_source("en")
    assert staff_client.get(f"/admin/campaigns/{model}/").status_code == 200


def test_the_campaign_page_never_shows_the_connection(staff_client, campaign_with_source, sales_db):
    campaign = campaign_with_source("en")
    page = staff_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert page.status_code == 200 and str(sales_db) not in page.content.decode()
    assert campaign.connection_encrypted not in page.content.decode()


def _post(client, campaign, **fields):  # type: ignore[no-untyped-def]
    data = {"campaign": str(campaign.pk), "scope": "campaign", "goal_id": "individual", "rank_from": 1,
            "rank_to": 1, "points": 100, "name": "", **fields}
    return client.post("/admin/campaigns/leaderboardprize/add/", data)


def test_prizes_are_added_through_the_services_and_refused_when_they_overlap(staff_client, campaign_with_source,
                                                                            make_user):
    campaign = campaign_with_source("en")
    assert _post(staff_client, campaign, rank_to=3).status_code == 302
    refused = _post(staff_client, campaign, rank_from=2, rank_to=2)
    assert refused.status_code == 200 and "Overlaps another prize" in refused.content.decode()
    assert LeaderboardPrize.objects.filter(campaign=campaign).count() == 1

    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    frozen = _post(staff_client, campaign, rank_from=5, rank_to=5)
    assert frozen.status_code == 200 and "before the campaign is approved" in frozen.content.decode()
    assert LeaderboardPrize.objects.filter(campaign=campaign).count() == 1
