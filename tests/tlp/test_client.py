"""The TLP client against the sandbox over real HTTP: the 15 operations, typed errors, retries with backoff
(Retry-After honoured), exactly-once writes across timeouts, the GET cache, and a key that is never logged."""

from __future__ import annotations

import logging
import socket

import pytest

from apps.tlp.client import (
    TLPAuthError,
    TLPClient,
    TLPConflict,
    TLPInsufficientBalance,
    TLPNotFound,
    TLPUnavailable,
    TLPValidationError,
)

pytestmark = pytest.mark.usefixtures("db")  # the cache key function reads the connection's schema


def test_all_fifteen_operations_round_trip(make_client, tlp_key, sandbox_clean):
    client = make_client(tlp_key)
    point_type = client.point_type_create(name="Premium Line Campaign Points", description="Premium", rank=1)
    assert point_type["id"] == "point.premium_line_campaign_points"
    assert point_type["options"] == {"showZeroPointBalance": True}
    assert client.point_type_update(point_type_id=point_type["id"], rank=2)["rank"] == 2

    offer = client.offer_create(offer_type="accrual", offer_subtype="dynamic", name="Individual Goal",
                                points=50000, point_type=point_type["id"], minimum_spend=50000, online=False,
                                location=True)
    assert (offer["offerType"], offer["minimumSpend"], offer["location"]) == ("accrual", 50000, True)
    assert client.offer_update(offer_id=offer["id"], image_url="https://img.example.test/a.png")["imageUrl"] \
        == "https://img.example.test/a.png"
    page = client.offer_search(offer_type="accrual", point_type=point_type["id"])
    assert [item["id"] for item in page.items] == [offer["id"]]

    member = client.member_create(external_id="participant:1", email="ana@example.test", first_name="Ana")
    assert client.member_update(member_id=member["id"], last_name="Lima")["lastName"] == "Lima"
    assert client.member_search(external_id="participant:1").items[0]["id"] == member["id"]

    accrued = client.points_accrue(member_id=member["id"], point_type=point_type["id"], points=120,
                                   idempotency_key="a-1")
    issued = client.points_issue(member_id=member["id"], point_type=point_type["id"], points=30,
                                 idempotency_key="i-1")
    redeemed = client.points_redeem(member_id=member["id"], point_type=point_type["id"], points=100,
                                    idempotency_key="r-1")
    assert (accrued["balance"], issued["balance"], redeemed["balance"]) == (120, 150, 50)

    tier = client.tier_create(name="Gold", rank=1, point_type=point_type["id"], threshold=1000)
    assert client.tier_update(tier_id=tier["id"], threshold=500)["threshold"] == 500
    partner = client.partner_create(name="Acme Retail", code="ACME")
    location = client.location_create(name="Store 1", partner_id=partner["id"], country="BR", latitude=-23.5,
                                      longitude=-46.6)
    assert location["partnerId"] == partner["id"]
    stats = sandbox_clean.stats(tlp_key)
    assert (stats["tiers"], stats["partners"], stats["locations"], stats["members"]) == (1, 1, 1, 1)


def test_errors_are_typed(make_client, tlp_key):
    client = make_client(tlp_key)
    with pytest.raises(TLPAuthError):
        make_client("wrong-key").offer_search()
    with pytest.raises(TLPValidationError) as invalid:
        client.offer_create(offer_type="accrual", offer_subtype="dynamic", name="", points=0, point_type="point.x")
    assert set(invalid.value.fields) == {"name", "points", "pointType"}
    assert invalid.value.status == 422
    with pytest.raises(TLPNotFound):
        client.offer_update(offer_id="ofr_missing", name="x")
    client.member_create(external_id="dup")
    with pytest.raises(TLPConflict):
        client.member_create(external_id="dup")
    point_type = client.point_type_create(name="P")["id"]
    member = client.member_search(external_id="dup").items[0]["id"]
    with pytest.raises(TLPInsufficientBalance) as short:
        client.points_redeem(member_id=member, point_type=point_type, points=1, idempotency_key="r")
    assert isinstance(short.value, TLPConflict)


def test_5xx_is_retried_with_backoff_and_then_succeeds(make_client, tlp_key, sandbox_clean):
    sandbox_clean.faults(error_rate=1.0, rate_limit_share=0.0, after_apply_share=0.0)
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 2:
            sandbox_clean.faults_off()

    client = make_client(tlp_key, sleep=sleep, max_retries=3, backoff_base=0.1, backoff_max=10)
    assert client.member_create(external_id="m")["externalId"] == "m"
    assert len(delays) == 2
    assert 0.05 <= delays[0] <= 0.1 and 0.1 <= delays[1] <= 0.2  # exponential, half of each step jittered


def test_429_honours_retry_after(make_client, tlp_key, sandbox_clean):
    sandbox_clean.faults(error_rate=1.0, rate_limit_share=1.0, retry_after_seconds=2)
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        sandbox_clean.faults_off()

    make_client(tlp_key, sleep=sleep, backoff_base=0.01).offer_search()
    assert delays == [2.0]


def test_gives_up_after_the_retries_with_tlp_unavailable(make_client, tlp_key, sandbox_clean):
    sandbox_clean.faults(error_rate=1.0, rate_limit_share=0.0, after_apply_share=0.0)
    delays: list[float] = []
    client = make_client(tlp_key, sleep=delays.append, max_retries=2)
    with pytest.raises(TLPUnavailable) as failed:
        client.member_create(external_id="m")
    assert failed.value.status in (500, 502, 503)
    assert len(delays) == 2
    assert sandbox_clean.stats(tlp_key)["members"] == 0


def test_a_write_whose_answer_timed_out_is_retried_and_applied_once(make_client, tlp_key, sandbox_clean):
    client = make_client(tlp_key)
    point_type = client.point_type_create(name="P")["id"]
    member = client.member_create(external_id="m")["id"]
    # The sandbox applies the accrual, then hangs past the client's read timeout.
    sandbox_clean.faults(timeout_rate=1.0, after_apply_share=1.0)
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        sandbox_clean.faults_off()

    slow = make_client(tlp_key, read_timeout=0.3, sleep=sleep)
    answer = slow.points_accrue(member_id=member, point_type=point_type, points=25, idempotency_key="once")
    assert answer["balance"] == 25
    assert len(delays) == 1
    stats = sandbox_clean.stats(tlp_key)
    assert stats["transactions"]["accrue"] == {"count": 1, "points": 25}
    assert stats["replays"] == 1


def test_writes_without_a_key_get_one_that_survives_the_retries(make_client, tlp_key, sandbox_clean):
    sandbox_clean.faults(timeout_rate=1.0, after_apply_share=1.0)
    client = make_client(tlp_key, read_timeout=0.3, sleep=lambda _seconds: sandbox_clean.faults_off())
    client.member_create(external_id="only-once")  # no idempotency_key given
    assert sandbox_clean.stats(tlp_key)["members"] == 1


def test_an_unreachable_endpoint_is_unavailable_after_retries(make_client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delays: list[float] = []
    client = TLPClient(endpoint_url=f"http://127.0.0.1:{port}", api_key="k", sleep=delays.append, max_retries=2)
    with pytest.raises(TLPUnavailable) as failed:
        client.offer_search()
    assert failed.value.code == "connection_error"
    assert failed.value.status is None
    assert len(delays) == 2


def test_searches_are_cached_until_a_write(make_client, tlp_key, sandbox_clean):
    client = make_client(tlp_key, cache_ttl=60, cache_namespace="alpha")
    client.point_type_create(name="P")
    served = sandbox_clean.server.httpd.requests_served
    first = client.offer_search()
    assert client.offer_search() == first
    assert sandbox_clean.server.httpd.requests_served == served + 1  # the second came from the cache
    client.offer_create(offer_type="redemption", offer_subtype="product", name="TV", points=10, point_type="point.p")
    assert client.offer_search().total == 1  # the write invalidated the cached empty page
    assert client.offer_search(fresh=True).total == 1
    other = make_client(sandbox_clean.account(), cache_ttl=60, cache_namespace="alpha")
    assert other.offer_search().total == 0  # another key never reads this key's cache


def test_the_api_key_is_never_logged_nor_shown(make_client, tlp_key, sandbox_clean, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(tlp_key)
    client.member_create(external_id="m")
    with pytest.raises(TLPAuthError) as refused:
        make_client("secret-wrong-key-123").member_search()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "tlp POST /members" in text
    assert tlp_key not in text and "secret-wrong-key-123" not in text
    assert tlp_key not in repr(client)
    assert "secret-wrong-key-123" not in str(refused.value)


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    client = TLPClient(endpoint_url="http://tlp.invalid", api_key="k", backoff_base=1.0, backoff_max=4.0)
    for attempt, step in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 4.0)]:
        delays = {client.backoff_delay(attempt) for _ in range(30)}
        assert all(step / 2 <= delay <= step for delay in delays)
        assert len(delays) > 1
