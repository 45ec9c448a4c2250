"""The participant endpoints, progress and allocate-points, with ownership: a participant sees only their
own campaign data; a participant who reached the goal redeems the vacation."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import Campaign, CampaignRedemption
from apps.campaigns.services import (
    campaign_approve,
    campaign_participant_link,
    campaign_redemption_cancel,
    campaign_redemption_complete,
    campaign_submit,
)
from apps.core.live import tenant_group
from tests.campaigns.test_execution import hand_points


@pytest.fixture
def running(campaign_with_source, make_user, sales_data) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    campaign = campaign_with_source("en")
    expected = hand_points(sales_data)
    winner = next(key for key, row in sorted(expected.items()) if row["individual"])
    loser = next(key for key, row in sorted(expected.items()) if not row["eligible"])
    winner_user, loser_user = make_user(role="participant"), make_user(role="participant")
    campaign_participant_link(campaign=campaign, participant_key=winner, user=winner_user)
    campaign_participant_link(campaign=campaign, participant_key=loser, user=loser_user)
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    return {"campaign": campaign, "expected": expected, "winner": winner, "loser": loser,
            "winner_user": winner_user, "loser_user": loser_user}


def test_execution_pushes_progress_to_the_campaign_and_to_each_linked_participant(
        running, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    campaign, user = running["campaign"], running["winner_user"]
    admin_channel = async_to_sync(layer.new_channel)()
    user_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(tenant_group(connection.schema_name, f"campaign:{campaign.pk}"), admin_channel)
    async_to_sync(layer.group_add)(tenant_group(connection.schema_name, f"user:{user.pk}"), user_channel)

    with django_capture_on_commit_callbacks(execute=True):
        campaign_execute(campaign=campaign)

    admin = async_to_sync(layer.receive)(admin_channel)
    mine = async_to_sync(layer.receive)(user_channel)
    assert admin["event"] == "campaign.progress"
    assert admin["payload"]["points_allocated"] == sum(r["points"] for r in running["expected"].values())
    assert mine["event"] == "campaign.my_progress"
    assert mine["payload"]["points_allocated"] == running["expected"][running["winner"]]["points"]


def test_participant_sees_only_their_own(running, api_client):
    campaign = running["campaign"]
    campaign_execute(campaign=campaign)
    mine = api_client(user=running["winner_user"])
    theirs = api_client(user=running["loser_user"])

    campaigns = mine.get("/api/participants/campaigns").json()["results"]
    assert [c["campaign_id"] for c in campaigns] == [str(campaign.pk)]
    progress = mine.get(f"/api/participants/{campaign.pk}/progress").json()
    assert progress["participant"]["participant_key"] == running["winner"] and len(progress["history"]) == 1
    points = mine.get(f"/api/participants/{campaign.pk}/points").json()
    assert points["available"] == running["expected"][running["winner"]]["points"]
    assert (points["held_back"], points["debt"]) == (0, 0) and points["lifetime"] == points["available"]

    loser = theirs.get(f"/api/participants/{campaign.pk}/progress").json()["participant"]
    assert loser["eligible"] is False and loser["ineligible_reason"] == "terminated_before_end"
    assert theirs.get(f"/api/participants/{campaign.pk}/points").json()["available"] == 0

    stranger = api_client("participant")
    for path in ("progress", "points", "transactions", "offers"):
        assert stranger.get(f"/api/participants/{campaign.pk}/{path}").status_code == 404
    assert stranger.get("/api/participants/campaigns").json()["results"] == []
    assert stranger.get(f"/api/campaigns/{campaign.pk}/progress").status_code == 403


def test_a_participant_who_reached_the_goal_redeems_the_vacation(running, api_client):
    campaign = running["campaign"]
    campaign_execute(campaign=campaign)
    admin = api_client("admin")
    client = api_client(user=running["winner_user"])
    offers = {o["id"]: o for o in client.get(f"/api/participants/{campaign.pk}/offers").json()}
    vacation = next(o for o in offers.values() if "cabo" in o["name"].lower())
    assert vacation["points_cost"] == 50_000 and vacation["affordable"] is False
    listed = client.get(f"/api/participants/{campaign.pk}/offers").json()
    assert [o["points_cost"] for o in listed] == sorted(o["points_cost"] for o in listed)  # the dashboard's order
    earned_so_far = client.get(f"/api/participants/{campaign.pk}/points").json()["available"]
    assert vacation["missing"] == 50_000 - earned_so_far > 0

    refused = client.post(f"/api/participants/{campaign.pk}/redeem", {"prize_id": vacation["id"]}, format="json",
                          HTTP_IDEMPOTENCY_KEY="r-1")
    assert refused.status_code == 422 and not CampaignRedemption.objects.exists()

    earned = running["expected"][running["winner"]]["points"]
    topped = admin.post(f"/api/campaigns/{campaign.pk}/allocate-points",
                        {"participant_id": running["winner"], "points": 50_000 - earned, "reason": "Sales contest"},
                        format="json", HTTP_IDEMPOTENCY_KEY="top-up")
    assert topped.status_code == 201, topped.json()
    again = admin.post(f"/api/campaigns/{campaign.pk}/allocate-points",
                       {"participant_id": running["winner"], "points": 50_000 - earned, "reason": "Sales contest"},
                       format="json", HTTP_IDEMPOTENCY_KEY="top-up")
    assert again.json()["id"] == topped.json()["id"]
    assert client.get(f"/api/participants/{campaign.pk}/points").json()["available"] == 50_000

    redeemed = client.post(f"/api/participants/{campaign.pk}/redeem", {"prize_id": vacation["id"]}, format="json",
                           HTTP_IDEMPOTENCY_KEY="r-2")
    assert redeemed.status_code == 201 and redeemed.json()["status"] == "pending"
    replay = client.post(f"/api/participants/{campaign.pk}/redeem", {"prize_id": vacation["id"]}, format="json",
                         HTTP_IDEMPOTENCY_KEY="r-2")
    assert replay.json()["id"] == redeemed.json()["id"] and CampaignRedemption.objects.count() == 1
    assert client.get(f"/api/participants/{campaign.pk}/points").json()["available"] == 0
    transactions = client.get(f"/api/participants/{campaign.pk}/transactions").json()["results"]
    assert sorted(t["amount"] for t in transactions)[0] == -50_000

    record = CampaignRedemption.objects.get()
    assert campaign_redemption_complete(redemption=record).status == CampaignRedemption.Status.COMPLETED
    assert campaign_redemption_complete(redemption=record).status == CampaignRedemption.Status.COMPLETED


def test_a_cancelled_redemption_gives_the_points_back(running, api_client):
    campaign = running["campaign"]
    campaign_execute(campaign=campaign)
    api_client("admin").post(f"/api/campaigns/{campaign.pk}/allocate-points",
                             {"participant_id": running["winner"], "points": 100_000, "reason": "Contest"},
                             format="json", HTTP_IDEMPOTENCY_KEY="k")
    client = api_client(user=running["winner_user"])
    before = client.get(f"/api/participants/{campaign.pk}/points").json()["available"]
    prize = max(client.get(f"/api/participants/{campaign.pk}/offers").json(), key=lambda o: o["points_cost"])
    client.post(f"/api/participants/{campaign.pk}/redeem", {"prize_id": prize["id"]}, format="json",
                HTTP_IDEMPOTENCY_KEY="r")
    assert client.get(f"/api/participants/{campaign.pk}/points").json()["available"] == before - 100_000

    campaign_redemption_cancel(redemption=CampaignRedemption.objects.get(), reason="sold out")

    assert client.get(f"/api/participants/{campaign.pk}/points").json()["available"] == before


def test_redeem_needs_an_idempotency_key(running, api_client):
    response = api_client(user=running["winner_user"]).post(
        f"/api/participants/{running['campaign'].pk}/redeem", {"prize_id": "x"}, format="json")
    assert response.status_code == 400 and not CampaignRedemption.objects.exists()


def test_progress_has_regions_and_leaderboards(running, api_client):
    campaign = running["campaign"]
    campaign_execute(campaign=campaign)
    expected = running["expected"]
    analyst = api_client("analyst")
    body = analyst.get(f"/api/campaigns/{campaign.pk}/progress?top=3").json()
    assert body["participants"] == len(expected) and body["points_allocated"] == sum(
        r["points"] for r in expected.values())
    leaders = body["goals"]["individual"]["leaders"]
    top = sorted(expected.items(), key=lambda item: (-item[1]["own_cents"], item[0]))[:3]
    assert [row["participant_id"] for row in leaders] == [key for key, _row in top]
    assert body["regions"] and all("regional" in goals for goals in body["regions"].values())
    assert analyst.post(f"/api/campaigns/{campaign.pk}/allocate-points",
                        {"participant_id": running["winner"], "points": 5, "reason": "x"},
                        format="json").status_code == 403
    assert api_client("manager").post(f"/api/campaigns/{campaign.pk}/allocate-points",
                                      {"participant_id": running["winner"], "points": 5, "reason": "x"},
                                      format="json").status_code == 403
    assert Campaign.objects.get().status == Campaign.Status.ACTIVE
