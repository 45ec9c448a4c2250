"""Request id echo and the health probes answered ahead of host, tenant and HTTPS handling."""

from __future__ import annotations

from django.test import Client as DjangoClient
from django.test import override_settings

from tests.conftest import TENANT_HOSTS


def test_a_sane_incoming_request_id_is_echoed(db):
    response = DjangoClient(HTTP_HOST=TENANT_HOSTS["alpha"]).get("/accounts/login/",
                                                                 HTTP_X_REQUEST_ID="edge-0123456789")

    assert response["X-Request-ID"] == "edge-0123456789"


def test_each_request_gets_its_own_id_when_none_is_sent(db):
    client = DjangoClient(HTTP_HOST="localhost")

    first, second = client.get("/")["X-Request-ID"], client.get("/")["X-Request-ID"]

    assert first != second


def test_an_overlong_request_id_is_replaced(db):
    response = DjangoClient(HTTP_HOST="localhost").get("/", HTTP_X_REQUEST_ID="a" * 65)

    assert response["X-Request-ID"] != "a" * 65


def test_probes_answer_on_a_host_that_is_neither_allowed_nor_a_tenant(db):
    # A container runtime probes by IP; ALLOWED_HOSTS would refuse it and no tenant has that host.
    client = DjangoClient(HTTP_HOST="10.9.8.7:8000")

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 404  # everything else still goes through the host checks


@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_are_not_redirected_to_https(db):
    client = DjangoClient(HTTP_HOST="localhost")

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


def test_probes_carry_a_request_id_and_are_never_cached(db):
    response = DjangoClient(HTTP_HOST=TENANT_HOSTS["beta"]).get("/healthz")

    assert response["X-Request-ID"]
    assert "no-cache" in response["Cache-Control"]


def test_only_get_and_head_are_probes(db):
    # A POST to /healthz is an ordinary request, so the host checks refuse it.
    response = DjangoClient(HTTP_HOST="10.9.8.7").post("/healthz")

    assert response.status_code == 404


def test_a_request_id_with_a_trailing_newline_is_replaced_not_echoed(db):
    response = DjangoClient(HTTP_HOST="localhost").get("/", HTTP_X_REQUEST_ID="abcdefgh12\n")

    assert response.status_code == 200
    assert "\n" not in response["X-Request-ID"]
    assert response["X-Request-ID"] != "abcdefgh12"
