"""Configuring TLP: saved only after a live check; the key is encrypted at rest; health probes and reports."""

from __future__ import annotations

import socket

import pytest

from apps.core.crypto import secret_decrypt
from apps.core.errors import ApplicationError
from apps.tlp.models import TLPConfiguration
from apps.tlp.services import tlp_client_active, tlp_configure, tlp_health_check


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_configure_checks_the_connection_then_saves_the_key_encrypted(tenant, sandbox_clean, tlp_key):
    configuration = tlp_configure(endpoint_url=sandbox_clean.url + "/", api_key=f"  {tlp_key} ")

    stored = TLPConfiguration.objects.get()
    assert stored.pk == configuration.pk
    assert stored.endpoint_url == sandbox_clean.url
    assert tlp_key not in stored.api_key_encrypted
    assert secret_decrypt(stored.api_key_encrypted) == tlp_key
    assert stored.api_key_hint == tlp_key[-4:]
    assert stored.last_success_at is not None
    assert stored.last_latency_ms is not None


def test_configuring_again_replaces_the_single_configuration(tenant, sandbox_clean, tlp_key):
    tlp_configure(endpoint_url=sandbox_clean.url, api_key=tlp_key)
    other_key = sandbox_clean.account()
    tlp_configure(endpoint_url=sandbox_clean.url, api_key=other_key, is_active=False, read_timeout=4)

    stored = TLPConfiguration.objects.get()
    assert secret_decrypt(stored.api_key_encrypted) == other_key
    assert (stored.is_active, stored.read_timeout) == (False, 4)


def test_a_wrong_key_is_refused_and_nothing_is_saved(tenant, sandbox_clean):
    with pytest.raises(ApplicationError) as refused:
        tlp_configure(endpoint_url=sandbox_clean.url, api_key="not-a-sandbox-key")
    assert refused.value.status_code == 400
    assert set(refused.value.fields) == {"api_key"}
    assert not TLPConfiguration.objects.exists()


def test_a_wrong_key_leaves_an_existing_configuration_untouched(tlp_configured, sandbox_clean):
    before = TLPConfiguration.objects.get()
    with pytest.raises(ApplicationError):
        tlp_configure(endpoint_url=sandbox_clean.url, api_key="not-a-sandbox-key")
    after = TLPConfiguration.objects.get()
    assert after.api_key_encrypted == before.api_key_encrypted


@pytest.mark.parametrize("url_kind", ["unreachable", "not_tlp", "not_a_url", "credentials_in_url"])
def test_a_bad_url_is_refused_naming_the_endpoint(tenant, sandbox_clean, tlp_key, url_kind):
    url = {
        "unreachable": f"http://127.0.0.1:{_free_port()}",
        "not_tlp": f"{sandbox_clean.url}/not/the/api",
        "not_a_url": "ftp://tlp.example.test",
        "credentials_in_url": "http://user:pass@tlp.example.test",
    }[url_kind]
    with pytest.raises(ApplicationError) as refused:
        tlp_configure(endpoint_url=url, api_key=tlp_key)
    assert refused.value.status_code == 400
    assert set(refused.value.fields) == {"endpoint_url"}
    assert "pass" not in str(refused.value.fields)
    assert not TLPConfiguration.objects.exists()


def test_timeouts_out_of_range_are_refused(tenant, sandbox_clean, tlp_key):
    with pytest.raises(ApplicationError) as refused:
        tlp_configure(endpoint_url=sandbox_clean.url, api_key=tlp_key, read_timeout=0)
    assert set(refused.value.fields) == {"read_timeout"}
    assert not TLPConfiguration.objects.exists()


def test_an_unconfigured_tenant_has_no_client(tenant):
    with pytest.raises(ApplicationError) as refused:
        tlp_client_active()
    assert refused.value.code == "tlp_not_configured"


def test_health_probes_tlp_and_records_the_outcome(tlp_configured, sandbox_clean):
    healthy = tlp_health_check()
    assert (healthy.configured, healthy.active, healthy.reachable) == (True, True, True)
    assert healthy.latency_ms is not None
    assert healthy.outbox.depth == 0

    port = sandbox_clean.stop()
    try:
        down = tlp_health_check()
    finally:
        sandbox_clean.restart(port)
    assert (down.configured, down.reachable) == (True, False)
    assert "Could not connect" in down.error
    assert down.last_error and down.last_error_at is not None
    assert down.last_success_at == healthy.last_success_at


def test_health_without_configuration(tenant):
    health = tlp_health_check()
    assert (health.configured, health.reachable, health.endpoint_url) == (False, False, "")
