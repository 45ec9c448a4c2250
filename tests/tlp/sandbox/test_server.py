"""The sandbox over real HTTP: authentication, validation like a real service, 404s, idempotent replays,
balances, search, and fault injection (including failures after the write was applied)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from apps.tlp.sandbox import Faults, SandboxServer


def _h(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


@pytest.fixture
def api(sandbox_clean, tlp_key):  # type: ignore[no-untyped-def]
    session = requests.Session()

    def call(method: str, path: str, body: Any = None, key: str | None = tlp_key, **headers: str):
        return session.request(method, sandbox_clean.url + path, json=body,
                               headers=_h(key, **headers) if key else headers, timeout=5)

    yield call
    session.close()


@pytest.fixture
def point_type(api) -> str:  # type: ignore[no-untyped-def]
    response = api("POST", "/points", {"name": "Premium Line Campaign Points", "rank": 1, "enabled": True,
                                       "options": {"showZeroPointBalance": True}})
    assert response.status_code == 201
    return response.json()["id"]


@pytest.fixture
def member(api) -> str:  # type: ignore[no-untyped-def]
    response = api("POST", "/members", {"externalId": "m-1", "email": "ana@example.test", "firstName": "Ana"})
    assert response.status_code == 201
    return response.json()["id"]


def test_requests_without_a_valid_key_are_refused(api):
    assert api("GET", "/offers", key=None).status_code == 401
    response = api("GET", "/offers", key="not-a-key")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_accounts_are_isolated(api, sandbox_clean, point_type):
    other = sandbox_clean.account()
    response = requests.get(f"{sandbox_clean.url}/offers", headers=_h(other), timeout=5)
    assert response.json()["total"] == 0
    assert sandbox_clean.stats(other)["pointTypes"] == 0


def test_point_type_ids_come_from_the_name_and_are_unique(api):
    first = api("POST", "/points", {"name": "Premium Campaign"}).json()
    second = api("POST", "/points", {"name": "Premium Campaign"}).json()
    assert first["id"] == "point.premium_campaign"
    assert second["id"] == "point.premium_campaign_2"
    assert first["options"] == {"showZeroPointBalance": False}


def test_validation_errors_name_every_bad_field(api, sandbox_clean, tlp_key):
    response = api("POST", "/offers", {"offerType": "gift", "name": "", "points": 0, "pointType": "point.nope",
                                       "imageUrl": "javascript:alert(1)", "enabled": "yes"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"offerType", "offerSubtype", "name", "points", "pointType", "imageUrl", "enabled"}
    assert sandbox_clean.stats(tlp_key)["offers"] == 0


def test_a_body_that_is_not_json_is_a_400(api, sandbox_clean, tlp_key):
    response = requests.post(f"{sandbox_clean.url}/members", data="{not json", headers=_h(tlp_key), timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_unknown_ids_and_routes_are_404(api):
    assert api("PUT", "/offers/ofr_missing", {"name": "x"}).status_code == 404
    assert api("PUT", "/points/point.missing", {"name": "x"}).status_code == 404
    assert api("PUT", "/members/mbr_missing", {"email": "a@b.co"}).status_code == 404
    assert api("PUT", "/tiers/tier_missing", {"name": "x"}).status_code == 404
    assert api("GET", "/nothing-here").status_code == 404
    assert api("DELETE", "/offers").status_code == 405


def test_offers_are_created_updated_and_searched_with_filters(api, point_type):
    accrual = api("POST", "/offers", {"offerType": "accrual", "offerSubtype": "dynamic", "name": "Individual Goal",
                                      "points": 50000, "pointType": point_type, "minimumSpend": 50000,
                                      "enabled": True, "online": False, "location": True})
    assert accrual.status_code == 201
    redemption = api("POST", "/offers", {"offerType": "redemption", "offerSubtype": "product",
                                         "name": "Vacation to Cabo", "points": 50000, "pointType": point_type,
                                         "imageUrl": "https://img.example.test/cabo.png"})
    assert redemption.status_code == 201
    assert api("POST", "/offers", {"offerType": "redemption", "offerSubtype": "product", "name": "Bad",
                                   "points": 10, "pointType": point_type, "minimumSpend": 5}).status_code == 422

    updated = api("PUT", f"/offers/{redemption.json()['id']}", {"enabled": False, "name": "Cabo trip"})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Cabo trip"
    assert updated.json()["points"] == 50000  # untouched fields stay

    def names(**query: str) -> list[str]:
        params = "&".join(f"{key}={value}" for key, value in query.items())
        return [offer["name"] for offer in api("GET", f"/offers?{params}").json()["data"]]

    assert names(offerType="accrual") == ["Individual Goal"]
    assert names(enabled="false") == ["Cabo trip"]
    assert names(q="cabo") == ["Cabo trip"]
    assert names(pointType="point.other") == []
    assert api("GET", "/offers?pageSize=1000").status_code == 422
    page = api("GET", "/offers?pageSize=1&page=2").json()
    assert (page["total"], len(page["data"]), page["page"]) == (2, 1, 2)


def test_members_are_searched_and_external_ids_are_unique(api, member):
    duplicate = api("POST", "/members", {"externalId": "m-1"})
    assert duplicate.status_code == 409
    assert api("POST", "/members", {"externalId": "m-2", "email": "not-an-email"}).status_code == 422
    found = api("GET", "/members?externalId=m-1").json()["data"]
    assert [item["id"] for item in found] == [member]
    assert api("GET", "/members?q=ana").json()["total"] == 1
    assert api("PUT", f"/members/{member}", {"lastName": "Lima", "status": "inactive"}).json()["lastName"] == "Lima"


def test_transactions_move_balances_and_redeem_refuses_overdraft(api, sandbox_clean, tlp_key, point_type, member):
    accrued = api("POST", "/transactions/accrue", {"memberId": member, "pointType": point_type, "points": 300})
    assert accrued.status_code == 201
    assert accrued.json()["balance"] == 300
    assert api("POST", "/transactions/issue", {"memberId": member, "pointType": point_type,
                                               "points": 50}).json()["balance"] == 350
    refused = api("POST", "/transactions/redeem", {"memberId": member, "pointType": point_type, "points": 351})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "insufficient_balance"
    assert api("POST", "/transactions/redeem", {"memberId": member, "pointType": point_type,
                                                "points": 100}).json()["balance"] == 250
    bad = api("POST", "/transactions/accrue", {"memberId": "mbr_nope", "pointType": point_type, "points": -1})
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"memberId", "points"}
    balances = api("GET", "/members?externalId=m-1").json()["data"][0]["balances"]
    assert balances == [{"pointType": point_type, "balance": 250}]
    stats = sandbox_clean.stats(tlp_key)["transactions"]
    assert stats["accrue"] == {"count": 1, "points": 300}
    assert stats["redeem"] == {"count": 1, "points": 100}


def test_redemption_through_an_offer_charges_the_offer_points(api, point_type, member):
    offer = api("POST", "/offers", {"offerType": "redemption", "offerSubtype": "product", "name": "Tickets",
                                    "points": 40, "pointType": point_type}).json()["id"]
    api("POST", "/transactions/accrue", {"memberId": member, "pointType": point_type, "points": 100})
    answer = api("POST", "/transactions/redeem", {"memberId": member, "pointType": point_type, "offerId": offer})
    assert (answer.status_code, answer.json()["points"], answer.json()["balance"]) == (201, 40, 60)
    wrong = api("POST", "/transactions/accrue", {"memberId": member, "pointType": point_type, "offerId": offer})
    assert wrong.status_code == 422


def test_zero_balances_are_hidden_unless_the_point_type_shows_them(api, member):
    hidden = api("POST", "/points", {"name": "Hidden", "options": {"showZeroPointBalance": False}}).json()["id"]
    shown = api("POST", "/points", {"name": "Shown", "options": {"showZeroPointBalance": True}}).json()["id"]
    for point_id in (hidden, shown):
        api("POST", "/transactions/accrue", {"memberId": member, "pointType": point_id, "points": 5})
        api("POST", "/transactions/redeem", {"memberId": member, "pointType": point_id, "points": 5})
    balances = api("GET", "/members?externalId=m-1").json()["data"][0]["balances"]
    assert balances == [{"pointType": shown, "balance": 0}]


def test_tiers_partners_and_locations(api, point_type):
    tier = api("POST", "/tiers", {"name": "Gold", "rank": 2, "pointType": point_type, "threshold": 1000})
    assert tier.status_code == 201
    assert api("PUT", f"/tiers/{tier.json()['id']}", {"threshold": 2000}).json()["threshold"] == 2000
    assert api("POST", "/tiers", {"name": "No rank"}).status_code == 422
    partner = api("POST", "/partners", {"name": "Acme Retail", "code": "ACME"})
    assert partner.status_code == 201
    assert api("POST", "/partners", {"name": "Other", "code": "ACME"}).status_code == 409
    location = api("POST", "/locations", {"name": "Store 1", "partnerId": partner.json()["id"], "country": "BR",
                                          "latitude": -23.5, "longitude": -46.6})
    assert location.status_code == 201
    bad = api("POST", "/locations", {"name": "X", "partnerId": "ptn_nope", "country": "Brazil", "latitude": 91})
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"partnerId", "country", "latitude"}


def test_a_replayed_idempotency_key_returns_the_first_answer_and_applies_once(api, sandbox_clean, tlp_key,
                                                                              point_type, member):
    body = {"memberId": member, "pointType": point_type, "points": 70}
    first = api("POST", "/transactions/accrue", body, **{"Idempotency-Key": "k-1"})
    again = api("POST", "/transactions/accrue", body, **{"Idempotency-Key": "k-1"})
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert sandbox_clean.stats(tlp_key)["transactions"]["accrue"] == {"count": 1, "points": 70}
    misuse = api("POST", "/transactions/accrue", {**body, "points": 71}, **{"Idempotency-Key": "k-1"})
    assert misuse.status_code == 409
    assert misuse.json()["error"]["code"] == "idempotency_key_reused"


def test_error_rate_header_fails_requests_and_some_fail_after_applying(api, sandbox_clean, tlp_key, point_type,
                                                                       member):
    statuses = []
    for number in range(40):
        response = api("POST", "/transactions/accrue", {"memberId": member, "pointType": point_type, "points": 1},
                       **{"X-Sandbox-Error-Rate": "1", "Idempotency-Key": f"e-{number}"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "1"
    assert set(statuses) <= {429, 500, 502, 503}
    applied = sandbox_clean.stats(tlp_key)["transactions"]["accrue"]["count"]
    assert 0 < applied < 40  # about half of the failed writes had been applied
    # Replaying the applied ones does not apply them again.
    for number in range(40):
        api("POST", "/transactions/accrue", {"memberId": member, "pointType": point_type, "points": 1},
            **{"Idempotency-Key": f"e-{number}"})
    assert sandbox_clean.stats(tlp_key)["transactions"]["accrue"]["count"] == 40


def test_timeout_header_leaves_the_request_unanswered(api, sandbox_clean, tlp_key):
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{sandbox_clean.url}/offers", headers=_h(tlp_key, **{"X-Sandbox-Timeout": "true"}),
                     timeout=(1, 0.3))
    assert time.monotonic() - started < 1.5


def test_latency_header_delays_the_answer(api):
    started = time.monotonic()
    assert api("GET", "/offers", **{"X-Sandbox-Latency-Ms": "200-250"}).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_faults_can_be_changed_over_http(sandbox_clean):
    response = requests.put(f"{sandbox_clean.url}/_sandbox/faults", json={"errorRate": 0.25, "latencyMs": "5-10"},
                            timeout=5)
    assert response.json()["errorRate"] == 0.25
    assert response.json()["latencyMs"] == [5, 10]
    assert requests.put(f"{sandbox_clean.url}/_sandbox/faults", json={"errorRate": -1}, timeout=5).status_code == 422


def test_state_survives_a_restart_through_the_state_file(tmp_path):
    state_file = tmp_path / "tlp.json"
    first = SandboxServer(api_keys=["key-1"], state_file=state_file, faults=Faults()).start()
    requests.post(f"{first.url}/members", json={"externalId": "kept"}, headers=_h("key-1"), timeout=5)
    first.stop()
    second = SandboxServer(state_file=state_file).start()
    try:
        found = requests.get(f"{second.url}/members", headers=_h("key-1"), timeout=5).json()
        assert [member["externalId"] for member in found["data"]] == ["kept"]
    finally:
        second.stop()
