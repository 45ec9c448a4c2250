from __future__ import annotations

import pytest

from apps.campaigns.models import Campaign, CampaignExecution
from apps.campaigns.services import campaign_submit
from apps.loyalty.selectors import member_list
from tests.factories.campaigns import CampaignFactory

BODY = {"name": "Premium Line Q1", "start_date": "2026-01-01", "end_date": "2026-03-31", "currency": "BRL",
        "language": "pt-br", "execution_interval_seconds": 300}


def test_create_list_get_update_delete(api_client):
    client = api_client("admin")
    created = client.post("/api/campaigns", BODY, format="json")
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]
    assert created.json()["status"] == "draft" and created.json()["connected"] is False

    listed = client.get("/api/campaigns")
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["results"]] == [campaign_id]
    assert client.get(f"/api/campaigns/{campaign_id}").json()["name"] == "Premium Line Q1"

    updated = client.put(f"/api/campaigns/{campaign_id}", {"name": "Premium Line T1"}, format="json")
    assert updated.status_code == 200 and updated.json()["name"] == "Premium Line T1"

    assert client.delete(f"/api/campaigns/{campaign_id}").status_code == 204
    assert not Campaign.objects.exists()


def test_invalid_input_is_400_in_the_one_error_shape_and_nothing_is_written(api_client):
    response = api_client("admin").post("/api/campaigns", {**BODY, "end_date": "2025-12-31"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"]
    response = api_client("admin").post("/api/campaigns", {**BODY, "execution_interval_seconds": 10}, format="json")
    assert response.status_code == 400 and "execution_interval_seconds" in response.json()["error"]["fields"]
    response = api_client("admin").post("/api/campaigns", {**BODY, "regional_award_policy": "some"}, format="json")
    assert response.status_code == 400 and "regional_award_policy" in response.json()["error"]["fields"]
    assert not Campaign.objects.exists()


def test_the_regional_award_policy_is_set_and_changed_through_the_api(api_client):
    client = api_client("admin")
    created = client.post("/api/campaigns", BODY, format="json")
    assert created.json()["regional_award_policy"] == "all_eligible"
    created = client.post("/api/campaigns", {**BODY, "regional_award_policy": "contributors_only"}, format="json")
    assert created.status_code == 201 and created.json()["regional_award_policy"] == "contributors_only"

    updated = client.put(f"/api/campaigns/{created.json()['id']}", {"regional_award_policy": "none"}, format="json")

    assert updated.status_code == 200 and updated.json()["regional_award_policy"] == "none"
    assert Campaign.objects.get(pk=created.json()["id"]).regional_award_policy == Campaign.RegionalAwardPolicy.NONE


def test_roles(api_client):
    campaign = CampaignFactory()
    assert api_client(None).get("/api/campaigns").status_code == 401
    assert api_client("participant").get("/api/campaigns").status_code == 403
    assert api_client("analyst").get(f"/api/campaigns/{campaign.pk}").status_code == 200
    assert api_client("analyst").post("/api/campaigns", BODY, format="json").status_code == 403
    assert api_client("analyst").post(f"/api/campaigns/{campaign.pk}/approve", {}, format="json").status_code == 403
    assert api_client("analyst").post(f"/api/campaigns/{campaign.pk}/execute", {}, format="json").status_code == 403
    assert api_client("manager").post(f"/api/campaigns/{campaign.pk}/approve", {}, format="json").status_code == 403
    assert Campaign.objects.count() == 1 and not CampaignExecution.objects.exists()


def test_another_tenants_campaign_is_404(api_client, other_tenant, in_schema):
    with in_schema("beta"):
        other = CampaignFactory()
    assert api_client("admin").get(f"/api/campaigns/{other.pk}").status_code == 404
    assert api_client("admin").get("/api/campaigns/not-a-uuid").status_code == 404


def test_approve_draft_is_409(api_client):
    campaign = CampaignFactory()
    response = api_client("admin").post(f"/api/campaigns/{campaign.pk}/approve", {}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_pending_version"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_submit_approve_execute_and_participants(api_client, campaign_with_source):
    campaign = campaign_with_source("en")
    client = api_client("admin")
    assert client.post(f"/api/campaigns/{campaign.pk}/submit", {}, format="json").json()["status"] == \
        "pending_approval"

    approved = client.post(f"/api/campaigns/{campaign.pk}/approve", {"comment": "ok"}, format="json")
    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert body["status"] == "approved" and body["running_version"]["approval_comment"] == "ok"
    assert body["running_version"]["approved_by"] == client.user.email and body["tlp_status"] == "skipped"

    executed = client.post(f"/api/campaigns/{campaign.pk}/execute", {}, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert executed.status_code == 201 and executed.json()["status"] == "succeeded"
    allocated = executed.json()["points_allocated"]
    campaign.refresh_from_db()
    assert allocated > 0
    assert allocated == sum(m.available for m in member_list().filter(program_id=campaign.loyalty_program_id))
    replay = client.post(f"/api/campaigns/{campaign.pk}/execute", {}, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert replay.json()["id"] == executed.json()["id"] and CampaignExecution.objects.count() == 1

    participants = client.get(f"/api/campaigns/{campaign.pk}/participants?eligible=false").json()["results"]
    assert participants and all(p["ineligible_reason"] == "terminated_before_end" for p in participants)
    executions = client.get(f"/api/campaigns/{campaign.pk}/executions").json()["results"]
    assert [e["id"] for e in executions] == [executed.json()["id"]]
    # each region's regional goal as the run found it, as the participants of the region show it
    regions = executed.json()["regions"]
    shown = {p.region: p.progress["goals"]["regional"] for p in campaign.participants.all()}
    assert regions and regions == {region: {"regional": [goal["attained"], goal["percent"]]}
                                   for region, goal in shown.items()}


def test_editing_a_running_campaign_through_the_api_keeps_the_approved_version(api_client, campaign_with_source,
                                                                               make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    client = api_client("owner")
    client.post(f"/api/campaigns/{campaign.pk}/approve", {}, format="json")
    document = client.get(f"/api/campaigns/{campaign.pk}").json()["running_version"]["document"]
    document["goals"][0]["target"] = "40000.00"

    response = client.put(f"/api/campaigns/{campaign.pk}", {"document": document}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved" and body["running_version"]["number"] == 1
    assert body["open_version"]["number"] == 2 and body["open_version"]["status"] == "draft"
    frozen = client.put(f"/api/campaigns/{campaign.pk}", {"end_date": "2026-06-30"}, format="json")
    assert frozen.status_code == 409


@pytest.mark.parametrize("url", ["postgresql://nobody@127.0.0.1:1/nothing", "sqlite:////tmp/x.db", "ftp://x"])
def test_connection_is_refused_when_it_does_not_work(api_client, url):
    campaign = CampaignFactory()
    response = api_client("admin").put(f"/api/campaigns/{campaign.pk}/connection", {"url": url}, format="json")
    assert response.status_code == 400
    campaign.refresh_from_db()
    assert campaign.connection_encrypted == ""


def test_every_seed_endpoint_is_in_the_openapi_schema_with_its_tag(api_client):
    paths = api_client("admin").get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    expected = {
        ("post", "/api/campaigns", "Campaign Management"), ("get", "/api/campaigns", "Campaign Management"),
        ("get", "/api/campaigns/{id}", "Campaign Management"), ("put", "/api/campaigns/{id}", "Campaign Management"),
        ("delete", "/api/campaigns/{id}", "Campaign Management"),
        ("post", "/api/campaigns/{id}/approve", "Campaign Management"),
        ("post", "/api/campaigns/{id}/execute", "Campaign Execution"),
        ("get", "/api/campaigns/{id}/progress", "Campaign Execution"),
        ("post", "/api/campaigns/{id}/allocate-points", "Campaign Execution"),
        ("get", "/api/campaigns/{id}/participants", "Campaign Execution"),
        ("get", "/api/participants/campaigns", "Participant Dashboard"),
        ("get", "/api/participants/{campaign_id}/progress", "Participant Dashboard"),
        ("get", "/api/participants/{campaign_id}/points", "Participant Dashboard"),
        ("get", "/api/participants/{campaign_id}/transactions", "Participant Dashboard"),
        ("get", "/api/participants/{campaign_id}/offers", "Participant Dashboard"),
        ("post", "/api/participants/{campaign_id}/redeem", "Participant Dashboard"),
    }
    for method, path, tag in expected:
        assert paths[path][method]["tags"] == [tag], (method, path)


IMPORT_CSV = b"salesperson_id,email,name,region\n7,vera@acme.test,Vera Dias,Norte\n"


@pytest.mark.parametrize("role", ["owner", "admin", "manager"])
def test_managers_import_participants_from_a_csv(api_client, role):
    from django.core.files.uploadedfile import SimpleUploadedFile

    campaign = CampaignFactory()
    response = api_client(role).post(f"/api/campaigns/{campaign.pk}/participants/import",
                                     {"file": SimpleUploadedFile("people.csv", IMPORT_CSV, "text/csv")},
                                     format="multipart")

    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 1, "linked": 0, "unchanged": 0, "skipped": []}
    assert campaign.participants.get().user.email == "vera@acme.test"


@pytest.mark.parametrize("role", ["analyst", "participant"])
def test_others_cannot_import_participants(api_client, role):
    from django.core.files.uploadedfile import SimpleUploadedFile

    campaign = CampaignFactory()
    response = api_client(role).post(f"/api/campaigns/{campaign.pk}/participants/import",
                                     {"file": SimpleUploadedFile("people.csv", IMPORT_CSV, "text/csv")},
                                     format="multipart")
    assert response.status_code == 403 and not campaign.participants.exists()
    assert api_client(None).post(f"/api/campaigns/{campaign.pk}/participants/import", {"source": "database"},
                                 format="json").status_code == 401


def test_an_invalid_import_is_400_per_line_and_a_campaign_without_database_is_422(api_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    campaign = CampaignFactory()
    client = api_client("admin")
    bad = SimpleUploadedFile("people.csv", IMPORT_CSV + b"8,,No Mail,Sul\n", "text/csv")
    response = client.post(f"/api/campaigns/{campaign.pk}/participants/import", {"file": bad}, format="multipart")
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["line_3"]
    assert client.post(f"/api/campaigns/{campaign.pk}/participants/import", {}, format="json").status_code == 400
    response = client.post(f"/api/campaigns/{campaign.pk}/participants/import", {"source": "database"}, format="json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "salesperson_unmapped"
    assert not campaign.participants.exists()


def test_participants_are_imported_from_the_customer_database_through_the_api(api_client, campaign_with_source,
                                                                              sales_data):
    campaign = campaign_with_source("en")
    response = api_client("admin").post(f"/api/campaigns/{campaign.pk}/participants/import", {"source": "database"},
                                        format="json")
    assert response.status_code == 200 and response.json()["created"] == len(sales_data.salespeople)
    assert campaign.participants.filter(user__isnull=False).count() == len(sales_data.salespeople)


def test_leaderboard_prizes_are_set_through_create_and_update(api_client):
    client = api_client("manager")
    body = {**BODY, "leaderboard_prizes": [{"goal_id": "individual", "rank_from": 1, "rank_to": 3, "points": 500,
                                            "name": "Podium"}]}
    created = client.post("/api/campaigns", body, format="json")
    assert created.status_code == 201, created.json()
    assert [(p["scope"], p["rank_from"], p["rank_to"], p["points"]) for p in created.json()["leaderboard_prizes"]] \
        == [("campaign", 1, 3, 500)]
    url = f"/api/campaigns/{created.json()['id']}"

    overlapping = client.put(url, {"leaderboard_prizes": [{"goal_id": "individual", "points": 5},
                                                          {"goal_id": "individual", "points": 6}]}, format="json")
    assert overlapping.status_code == 400 and "leaderboard_prizes" in overlapping.json()["error"]["fields"]
    regional = client.put(url, {"leaderboard_prizes": [{"scope": "region", "goal_id": "individual", "points": 9}]},
                          format="json")
    assert regional.status_code == 200 and [p["scope"] for p in regional.json()["leaderboard_prizes"]] == ["region"]
    assert client.put(url, {"name": "Renamed"}, format="json").json()["leaderboard_prizes"]  # unchanged


@pytest.mark.parametrize(("role", "status"), [("analyst", 403), ("participant", 403), ("manager", 200),
                                              ("admin", 200)])
def test_complete_runs_the_final_execution_for_managers_and_admins(api_client, campaign_with_source, make_user,
                                                                   role, status):
    from apps.campaigns.services import campaign_approve

    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))

    response = api_client(role).post(f"/api/campaigns/{campaign.pk}/complete", {}, format="json")

    assert response.status_code == status
    campaign.refresh_from_db()
    if status == 200:
        assert response.json()["status"] == "completed" and response.json()["completed_at"]
        assert campaign.executions.get().status == "succeeded"
        again = api_client(role).post(f"/api/campaigns/{campaign.pk}/complete", {}, format="json")
        assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    else:
        assert campaign.status == Campaign.Status.APPROVED and not campaign.executions.exists()


def test_complete_without_a_final_execution_and_on_a_draft(api_client, campaign_with_source):
    draft = CampaignFactory()
    response = api_client("admin").post(f"/api/campaigns/{draft.pk}/complete", {"final_execution": False},
                                        format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_transition"


def test_complete_and_prizes_are_in_the_openapi_schema(api_client):
    schema = api_client("admin").get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/campaigns/{id}/complete"]["post"]
    assert operation["tags"] == ["Campaign Management"] and {"200", "403", "404", "409"} <= set(operation["responses"])
    assert "leaderboard_prizes" in schema["components"]["schemas"]["CampaignCreateInputRequest"]["properties"]
    assert "prizes_paid" in schema["components"]["schemas"]["CampaignProgressOutput"]["properties"]
