"""POST /api/tlp/configure, GET /api/tlp/health, POST /api/tlp/generate-graphics."""

from __future__ import annotations

import base64
import io
import socket

import pytest
from PIL import Image
from rest_framework.test import APIClient

from apps.developer.services import api_key_create
from apps.tlp.models import TLPConfiguration, TLPEntity, TLPOutbox
from apps.tlp.services import tlp_campaign_provision, tlp_outbox_enqueue
from tests.factories.tlp import accrual_payload

CONFIGURE, HEALTH, GRAPHICS = "/api/tlp/configure", "/api/tlp/health", "/api/tlp/generate-graphics"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_configure_saves_a_working_configuration(api_client, sandbox_clean, tlp_key):
    response = api_client("owner").post(CONFIGURE, {"endpoint_url": sandbox_clean.url, "api_key": tlp_key},
                                        format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["endpoint_url"] == sandbox_clean.url and body["is_active"] is True
    assert body["api_key_hint"] == tlp_key[-4:]
    assert tlp_key not in response.content.decode()
    assert TLPConfiguration.objects.get().last_success_at is not None


def test_a_wrong_key_is_a_clear_400_and_nothing_is_saved(api_client, sandbox_clean):
    response = api_client("admin").post(CONFIGURE, {"endpoint_url": sandbox_clean.url, "api_key": "wrong-key"},
                                        format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "tlp_auth_failed"
    assert set(error["fields"]) == {"api_key"}
    assert not TLPConfiguration.objects.exists()


def test_an_unreachable_url_is_a_clear_400_and_nothing_is_saved(api_client, tlp_key):
    response = api_client("admin").post(CONFIGURE, {"endpoint_url": f"http://127.0.0.1:{_free_port()}",
                                                    "api_key": tlp_key}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "tlp_unreachable"
    assert set(response.json()["error"]["fields"]) == {"endpoint_url"}
    assert not TLPConfiguration.objects.exists()


def test_configure_validates_its_input(api_client):
    response = api_client("admin").post(CONFIGURE, {"endpoint_url": "", "read_timeout": 0}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"endpoint_url", "api_key", "read_timeout"}
    assert not TLPConfiguration.objects.exists()


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("participant", 403), ("analyst", 403),
                                              ("manager", 403)])
def test_only_owners_and_admins_reach_the_endpoints(api_client, sandbox_clean, tlp_key, role, status):
    client = api_client(role)
    assert client.post(CONFIGURE, {"endpoint_url": sandbox_clean.url, "api_key": tlp_key},
                       format="json").status_code == status
    assert client.get(HEALTH).status_code == status
    assert client.post(GRAPHICS, {"campaign_key": "c"}, format="json").status_code == status
    assert not TLPConfiguration.objects.exists()


def test_api_keys_need_the_campaign_scopes(tenant, sandbox_clean, tlp_key):
    reader = APIClient(HTTP_HOST="alpha.localhost",
                       HTTP_X_API_KEY=api_key_create(name="r", scopes=["campaigns:read"]).raw_key)
    assert reader.get(HEALTH).status_code == 200
    refused = reader.post(CONFIGURE, {"endpoint_url": sandbox_clean.url, "api_key": tlp_key}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    other = APIClient(HTTP_HOST="alpha.localhost",
                      HTTP_X_API_KEY=api_key_create(name="l", scopes=["loyalty:read"]).raw_key)
    assert other.get(HEALTH).status_code == 403
    assert not TLPConfiguration.objects.exists()


def test_health_reports_reachability_and_the_outbox(api_client, tlp_configured, sandbox_clean):
    tlp_outbox_enqueue(operation="accrue", payload=accrual_payload(5), member_key="participant:x",
                       idempotency_key="h-1")
    client = api_client("admin")

    body = client.get(HEALTH).json()
    assert (body["configured"], body["active"], body["reachable"]) == (True, True, True)
    assert body["latency_ms"] is not None
    assert body["outbox"]["depth"] == 1 and body["outbox"]["dead_letters"] == 0
    assert body["outbox"]["oldest_pending_age_seconds"] is not None
    assert body["last_reconciliation"] is None

    TLPOutbox.objects.update(status="dead")
    port = sandbox_clean.stop()
    try:
        down = client.get(HEALTH).json()
    finally:
        sandbox_clean.restart(port)
    assert down["reachable"] is False and down["error"]
    assert down["outbox"]["dead_letters"] == 1 and down["outbox"]["depth"] == 0


def test_health_without_configuration(api_client):
    body = api_client("admin").get(HEALTH).json()
    assert (body["configured"], body["reachable"], body["outbox"]["depth"]) == (False, False, 0)


def _png_base64(color=(200, 0, 0)) -> str:
    output = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(output, format="PNG")
    return base64.b64encode(output.getvalue()).decode()


def test_generate_graphics_for_given_prizes(api_client):
    response = api_client("admin").post(GRAPHICS, {
        "campaign_key": "c-9", "prizes": [{"id": "tv", "name": "Smart TV", "points_cost": 1000},
                                          {"id": "trip", "name": "Viagem para Cancún", "points_cost": 5000}],
        "primary_color": "#0f766e", "logo_base64": _png_base64(),
    }, format="json")
    assert response.status_code == 200, response.json()
    graphics = response.json()["graphics"]
    assert [(g["prize_id"], g["icon"], g["offer_id"]) for g in graphics] == [("tv", "screen", None),
                                                                           ("trip", "plane", None)]
    assert graphics[0]["image_url"].startswith("http://alpha.localhost/media/tlp/graphics/alpha/c-9/tv-")


def test_generate_graphics_updates_provisioned_offers_through_the_outbox(api_client, tlp_configured, sandbox_clean,
                                                                          tlp_key):
    rules = {"goals": [], "prizes": [{"id": "tv", "name": "Smart TV", "points_cost": 1000}]}
    tlp_campaign_provision(campaign_key="c-1", name="Q1", rule_document=rules, currency="BRL")
    response = api_client("admin").post(GRAPHICS, {"campaign_key": "c-1", "accent_color": "#22c55e"},
                                        format="json")
    assert response.status_code == 200, response.json()
    graphic = response.json()["graphics"][0]
    assert graphic["offer_update_queued"] is True
    assert graphic["offer_id"] == TLPEntity.objects.get(kind="redemption_offer").tlp_id
    row = TLPOutbox.objects.get()
    assert (row.operation, row.payload["fields"]["image_url"]) == ("offer_update", graphic["image_url"])

    from apps.tlp.services import tlp_outbox_drain

    assert tlp_outbox_drain().delivered == 1
    with sandbox_clean.state.lock:
        offer = sandbox_clean.state.accounts[tlp_key].offers[graphic["offer_id"]]
    assert offer["imageUrl"] == graphic["image_url"]
    # The colour given was for these graphics only: the tenant's branding (never set here) is untouched.
    from apps.branding.selectors import branding_get

    assert branding_get() is None


@pytest.mark.parametrize(("payload", "field"), [
    ({"campaign_key": "c", "primary_color": "blue"}, "primary_color"),
    ({"campaign_key": "c", "logo_base64": "***"}, "logo_base64"),
    ({"campaign_key": "c", "logo_base64": base64.b64encode(b"plain text").decode()}, "logo"),
    ({"campaign_key": "c", "prizes": [{"id": "x", "name": "X", "points_cost": 0}]}, "prizes"),
])
def test_generate_graphics_refuses_bad_input(api_client, payload, field):
    response = api_client("admin").post(GRAPHICS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_generate_graphics_for_an_unknown_campaign_is_404(api_client):
    response = api_client("admin").post(GRAPHICS, {"campaign_key": "nothing"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_prizes"


def test_the_endpoints_are_in_the_schema(api_client):
    schema = api_client("admin").get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, method in ((CONFIGURE, "post"), (HEALTH, "get"), (GRAPHICS, "post")):
        operation = schema["paths"][path][method]
        assert operation["tags"] == ["TLP Integration"]
        assert "200" in operation["responses"]
