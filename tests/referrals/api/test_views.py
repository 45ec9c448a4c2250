from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.referrals.models import Fingerprint, Referral, ReferralCampaign
from apps.referrals.services import fingerprints_record, referral_on_first_purchase, referral_signup
from tests.factories.referrals import ReferralCampaignFactory

BASE = "/api/loyalty-referral"


def _campaign_body(program_obj, **overrides):  # type: ignore[no-untyped-def]
    body = {
        "program": str(program_obj.pk),
        "name": "Bring a friend",
        "incentives": {"referrer": {"type": "points", "value": "500"},
                       "referred": {"type": "discount", "value": "10", "description": "10% off"}},
        "channels": ["whatsapp", "email", "x"],
        "rules": {"min_purchase_amount": "25.00", "max_referrals_per_member": 5, "allow_self_referral": False,
                  "require_email_verification": True, "referral_window_days": 45},
        "fraud": {"policy": "block", "threshold": "0.6"},
    }
    body.update(overrides)
    return body


def _assert_error(response, status_code, code=None):  # type: ignore[no-untyped-def]
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    if code:
        assert body["error"]["code"] == code


# ------------------------------------------------------------------------------------------ authorisation
@pytest.mark.parametrize(("method", "path"), [("get", "/referrals"), ("post", "/referrals"),
                                              ("get", "/referral-records"), ("get", "/fraud-review-queue"),
                                              ("post", "/referral-signups")])
def test_anonymous_callers_get_401(api_client, method, path):
    response = getattr(api_client(None), method)(f"{BASE}{path}", {}, format="json")
    _assert_error(response, 401)


def test_participants_cannot_read_and_analysts_cannot_write(api_client, program):
    assert api_client("participant").get(f"{BASE}/referrals").status_code == 403
    analyst = api_client("analyst")
    assert analyst.get(f"{BASE}/referrals").status_code == 200

    response = analyst.post(f"{BASE}/referrals", _campaign_body(program), format="json")

    _assert_error(response, 403)
    assert not ReferralCampaign.objects.exists()


# ------------------------------------------------------------------------------------------ campaigns CRUD
def test_create_then_read_a_campaign_in_the_seed_shape(api_client, program):
    client = api_client("manager")

    created = client.post(f"{BASE}/referrals", _campaign_body(program), format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["incentives"]["referred"] == {"type": "discount", "value": "10.00", "description": "10% off"}
    assert body["channels"] == ["email", "x", "whatsapp"]
    assert body["rules"]["referral_window_days"] == 45 and body["fraud"]["policy"] == "block"
    assert body["currency"] == "USD" and body["tracking"]["total_referrals"] == 0
    fetched = client.get(f"{BASE}/referrals/{body['id']}")
    assert fetched.status_code == 200 and fetched.json() == body


def test_create_refuses_invalid_input_with_the_error_shape_and_writes_nothing(api_client, program):
    client = api_client("admin")
    bad_points = _campaign_body(program, incentives={"referrer": {"type": "points", "value": "2.5"},
                                                     "referred": {"type": "points", "value": "1"}})

    _assert_error(client.post(f"{BASE}/referrals", {"name": ""}, format="json"), 400, "invalid")
    response = client.post(f"{BASE}/referrals", bad_points, format="json")
    _assert_error(response, 400, "invalid")
    assert "referrer_reward_value" in response.json()["error"]["fields"]
    _assert_error(client.post(f"{BASE}/referrals", _campaign_body(program, program=str(uuid.uuid4())),
                              format="json"), 400)
    assert not ReferralCampaign.objects.exists()


def test_list_is_paginated_filtered_and_ordered(api_client, program):
    first = ReferralCampaignFactory(program=program, name="Alpha")
    second = ReferralCampaignFactory(program=program, name="Beta", status="paused")
    client = api_client("analyst")

    page = client.get(f"{BASE}/referrals", {"page_size": 1}).json()
    paused = client.get(f"{BASE}/referrals", {"status": "paused"}).json()
    by_name = client.get(f"{BASE}/referrals", {"ordering": "name"}).json()

    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    assert page["results"][0]["id"] == str(second.pk)  # newest first
    assert [row["id"] for row in paused["results"]] == [str(second.pk)]
    assert [row["id"] for row in by_name["results"]] == [str(first.pk), str(second.pk)]


def test_put_changes_only_the_fields_sent(api_client, campaign):
    response = api_client("admin").put(f"{BASE}/referrals/{campaign.pk}",
                                       {"name": "Renamed", "rules": {"min_purchase_amount": "50"}}, format="json")

    assert response.status_code == 200, response.content
    campaign.refresh_from_db()
    assert campaign.name == "Renamed" and campaign.min_purchase_amount == Decimal("50")
    assert campaign.referrer_reward_value == Decimal("500")


def test_put_refuses_moving_a_campaign_with_referrals(api_client, campaign, referral, other_program):
    response = api_client("admin").put(f"{BASE}/referrals/{campaign.pk}", {"program": str(other_program.pk)},
                                       format="json")

    _assert_error(response, 409, "campaign_has_referrals")
    campaign.refresh_from_db()
    assert campaign.program_id != other_program.pk


def test_delete_then_the_campaign_is_gone(api_client, campaign):
    client = api_client("admin")

    assert client.delete(f"{BASE}/referrals/{campaign.pk}").status_code == 204
    _assert_error(client.get(f"{BASE}/referrals/{campaign.pk}"), 404)
    _assert_error(client.delete(f"{BASE}/referrals/{campaign.pk}"), 404)


@pytest.mark.parametrize("pk", ["not-a-uuid", str(uuid.uuid4())])
def test_unknown_campaign_ids_are_404(api_client, pk):
    _assert_error(api_client("admin").get(f"{BASE}/referrals/{pk}"), 404)


def test_another_tenants_campaign_is_404(api_client, campaign, other_tenant):
    with schema_context("beta"):
        beta_client = api_client("admin", host="beta.localhost")
    response = beta_client.get(f"{BASE}/referrals/{campaign.pk}")

    _assert_error(response, 404)


def test_stats_report_the_funnel_per_channel(api_client, campaign, make_member):
    referrer, referred = make_member(), make_member()
    web = api_client(None)
    web.get(f"/r/{referrer.referral_code}?ch=whatsapp", REMOTE_ADDR="203.0.113.5")
    referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id, channel="whatsapp",
                    email_verified=True)
    referral_on_first_purchase(member=referred, order_id="S-1", order_total=Decimal("40"), currency="USD")

    stats = api_client("analyst").get(f"{BASE}/referrals/{campaign.pk}/stats").json()

    whatsapp = next(row for row in stats["channels"] if row["channel"] == "whatsapp")
    assert whatsapp == {"channel": "whatsapp", "clicks": 1, "signups": 1, "completed": 1, "revenue": "40.00",
                        "click_to_signup_rate": "1.0000"}
    assert stats["successful_referrals"] == 1 and stats["conversion_rate"] == "1.0000"
    assert stats["sharing_members"] == 1 and stats["viral_coefficient"] == "1.0000"


# ------------------------------------------------------------------------------------------ sign-ups
def test_signup_creates_a_referral_and_never_echoes_raw_fingerprints(api_client, campaign, make_member):
    referrer = make_member()
    fingerprints_record(member=referrer, device_id="dev-shared")
    body = {"code": referrer.referral_code, "email": "friend@example.com", "channel": "email",
            "ip": "198.51.100.40", "device_id": "dev-shared", "card_fingerprint": "fp_abc"}

    response = api_client("manager").post(f"{BASE}/referral-signups", body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "flagged" and data["fraud"]["score"] == "0.600"
    assert data["fraud"]["signals"][0]["code"] == "shared_device" and data["fraud"]["signals"][0]["label"]
    for raw in ("198.51.100.40", "dev-shared", "fp_abc"):
        assert raw not in response.content.decode()
    assert Fingerprint.objects.filter(referral_id=data["id"]).count() == 3


def test_signup_replay_answers_200_and_a_different_referrer_409(api_client, campaign, make_member):
    first, second = make_member(), make_member()
    client = api_client("manager")
    body = {"code": first.referral_code, "email": "friend@example.com"}

    assert client.post(f"{BASE}/referral-signups", body, format="json").status_code == 201
    assert client.post(f"{BASE}/referral-signups", body, format="json").status_code == 200
    conflict = client.post(f"{BASE}/referral-signups", {**body, "code": second.referral_code}, format="json")

    _assert_error(conflict, 409, "already_referred")
    assert Referral.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status_code", "code"),
    [
        ({"code": "ZZZZZZZZ", "email": "f@example.com"}, 422, "referral_code_unknown"),
        ({"code": "ABCDEFGH"}, 400, "invalid"),
        ({"code": "ABCDEFGH", "email": "f@example.com", "ip": "not-an-ip"}, 400, "invalid"),
        ({"code": "ABCDEFGH", "email": "f@example.com", "campaign": str(uuid.uuid4())}, 422,
         "referral_campaign_unknown"),
    ],
)
def test_signup_refuses_bad_input(api_client, campaign, body, status_code, code):
    response = api_client("manager").post(f"{BASE}/referral-signups", body, format="json")

    _assert_error(response, status_code, code)
    assert not Referral.objects.exists()


def test_fingerprints_endpoint_records_hashes_for_a_member(api_client, program, make_member):
    member = make_member()
    client = api_client("manager")
    body = {"program": str(program.pk), "customer_id": member.customer_id, "ip": "198.51.100.7",
            "billing_address": "1 Main St"}

    response = client.post(f"{BASE}/referral-fingerprints", body, format="json")
    unknown = client.post(f"{BASE}/referral-fingerprints", {**body, "customer_id": "nobody"}, format="json")

    assert response.status_code == 201 and response.json() == {"recorded": 2}
    _assert_error(unknown, 422, "member_unknown")
    assert Fingerprint.objects.filter(member=member).count() == 2


# ------------------------------------------------------------------------------------------ records & review
def test_referral_records_filter_by_status_campaign_and_referrer(api_client, campaign, make_member):
    referrer, other = make_member(), make_member()
    mine, _created = referral_signup(code=referrer.referral_code, referred_email="a@example.com")
    theirs, _created = referral_signup(code=other.referral_code, referred_email="b@example.com")
    Referral.objects.filter(pk=theirs.pk).update(status="expired")
    client = api_client("analyst")

    by_referrer = client.get(f"{BASE}/referral-records", {"referrer": str(referrer.pk)}).json()
    by_status = client.get(f"{BASE}/referral-records", {"status": "expired", "campaign": str(campaign.pk)}).json()
    detail = client.get(f"{BASE}/referral-records/{mine.pk}").json()

    assert [row["id"] for row in by_referrer["results"]] == [str(mine.pk)]
    assert [row["id"] for row in by_status["results"]] == [str(theirs.pk)]
    assert detail["referrer_customer_id"] == referrer.customer_id and detail["review"]["decision"] == ""


def test_fraud_queue_lists_flagged_referrals_most_suspicious_first(api_client, campaign, make_member):
    referrer = make_member()
    fingerprints_record(member=referrer, device_id="dev-r", card_fingerprint="fp_r")
    device_only, _ = referral_signup(code=referrer.referral_code, referred_email="a@example.com",
                                     device_id="dev-r")
    card_and_device, _ = referral_signup(code=referrer.referral_code, referred_email="b@example.com",
                                         device_id="dev-r", card_fingerprint="fp_r")
    referral_signup(code=referrer.referral_code, referred_email="c@example.com")

    queue = api_client("analyst").get(f"{BASE}/fraud-review-queue").json()

    assert [row["id"] for row in queue["results"]] == [str(card_and_device.pk), str(device_only.pk)]


def test_review_approves_a_flagged_referral_and_replays_with_the_same_key(api_client, campaign, make_member):
    referrer = make_member()
    fingerprints_record(member=referrer, device_id="dev-r")
    flagged, _ = referral_signup(code=referrer.referral_code, referred_email="a@example.com", device_id="dev-r")
    client = api_client("manager")
    url = f"{BASE}/referral-records/{flagged.pk}/review"

    first = client.post(url, {"decision": "approve", "note": "Known family"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="review-1")
    replay = client.post(url, {"decision": "approve", "note": "Known family"}, format="json",
                         HTTP_IDEMPOTENCY_KEY="review-1")
    again = client.post(url, {"decision": "approve"}, format="json")

    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending" and first.json()["review"]["reviewed_by"] == client.user.email
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    _assert_error(again, 409, "referral_not_reviewable")


def test_review_refuses_a_bad_decision_and_analysts(api_client, referral):
    url = f"{BASE}/referral-records/{referral.pk}/review"

    _assert_error(api_client("manager").post(url, {"decision": "maybe"}, format="json"), 400)
    _assert_error(api_client("analyst").post(url, {"decision": "reject"}, format="json"), 403)
    referral.refresh_from_db()
    assert referral.status == "pending" and not referral.review_decision


def test_verify_email_marks_the_referral(api_client, referral):
    response = api_client("manager").post(f"{BASE}/referral-records/{referral.pk}/verify-email")

    assert response.status_code == 200 and response.json()["email_verified"] is True


# ------------------------------------------------------------------------------------------ OpenAPI
def test_schema_documents_the_referral_endpoints_under_their_tag(api_client):
    response = api_client("admin").get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, method in [("/api/loyalty-referral/referrals", "post"), ("/api/loyalty-referral/referrals", "get"),
                         ("/api/loyalty-referral/referrals/{id}", "put"),
                         ("/api/loyalty-referral/referrals/{id}", "delete"),
                         ("/api/loyalty-referral/referrals/{id}/stats", "get"),
                         ("/api/loyalty-referral/referral-signups", "post"),
                         ("/api/loyalty-referral/referral-records", "get"),
                         ("/api/loyalty-referral/referral-records/{id}/review", "post"),
                         ("/api/loyalty-referral/fraud-review-queue", "get")]:
        operation = paths[path][method]
        assert operation["tags"] == ["Referral Campaigns"], path
        assert "401" in operation["responses"] and "403" in operation["responses"]
