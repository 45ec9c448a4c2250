"""Security headers, CSP (global and per view), CSRF on browser forms, CORS for partner origins on /api/."""

from __future__ import annotations

import pytest
from django.test import Client as DjangoClient
from django.test import override_settings

from tests.conftest import OWNER_PASSWORD, TENANT_HOSTS

ALPHA = TENANT_HOSTS["alpha"]
PARTNER = "https://shop.partner.example"


def _csp(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))


@pytest.mark.parametrize(("host", "path"), [("localhost", "/"), (ALPHA, "/accounts/login/")])
def test_pages_carry_the_security_headers(db, host, path):
    response = DjangoClient(HTTP_HOST=host).get(path)

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no inline or eval'd script outside the admin sites
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert "Strict-Transport-Security" not in response  # plain HTTP in development


def test_api_responses_carry_nosniff_and_no_framing(db):
    response = DjangoClient(HTTP_HOST=ALPHA).get("/api/schema/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True)
def test_hsts_is_sent_over_https_with_the_production_values(db):
    client = DjangoClient(HTTP_HOST="localhost")

    secure = client.get("/", secure=True)
    plain = client.get("/")

    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in plain


@pytest.mark.parametrize(("host", "path"), [(ALPHA, "/admin/login/"), ("localhost", "/platform-admin/login/")])
def test_the_admin_sites_alone_allow_eval_for_alpine(db, host, path):
    response = DjangoClient(HTTP_HOST=host).get(path)

    assert response.status_code == 200
    csp = _csp(response)
    assert csp["script-src"] == "'self' 'unsafe-eval'"
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["frame-ancestors"] == "'none'"


def test_admin_pages_behind_login_allow_eval_too(db):
    client = DjangoClient(HTTP_HOST=ALPHA)
    client.post("/admin/login/", {"username": "owner@alpha.test", "password": OWNER_PASSWORD})

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 200
    assert _csp(response)["script-src"] == "'self' 'unsafe-eval'"


# ------------------------------------------------------------------------------------------ CSRF


def test_a_browser_form_post_without_a_csrf_token_is_refused(db):
    client = DjangoClient(HTTP_HOST=ALPHA, enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"login": "owner@alpha.test", "password": OWNER_PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_browser_form_post_with_the_csrf_token_is_accepted(db):
    client = DjangoClient(HTTP_HOST="localhost", enforce_csrf_checks=True)
    client.get("/")  # sets the csrftoken cookie, as the page's form would
    token = client.cookies["csrftoken"].value

    refused = client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    accepted = client.post("/i18n/setlang/", {"language": "es", "next": "/", "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 302


def test_admin_login_needs_the_csrf_token(db):
    client = DjangoClient(HTTP_HOST=ALPHA, enforce_csrf_checks=True)

    response = client.post("/admin/login/", {"username": "owner@alpha.test", "password": OWNER_PASSWORD})

    assert response.status_code == 403
    assert client.get("/admin/").status_code == 302  # still signed out


# ------------------------------------------------------------------------------------------ CORS


def _preflight(path: str, origin: str):  # type: ignore[no-untyped-def]
    return DjangoClient(HTTP_HOST=ALPHA).options(
        path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )


@override_settings(CORS_ALLOWED_ORIGINS=[PARTNER])
def test_a_preflight_from_an_allowed_partner_origin_is_answered(db):
    response = _preflight("/api/schema/", PARTNER)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == PARTNER
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed_headers = response["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers
    assert "Access-Control-Allow-Credentials" not in response  # bearer tokens, never cookies, cross-origin


@override_settings(CORS_ALLOWED_ORIGINS=[PARTNER])
def test_a_preflight_from_another_origin_gets_no_cors_headers(db):
    response = _preflight("/api/schema/", "https://evil.example")

    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[PARTNER])
def test_cors_applies_to_the_api_only(db):
    response = _preflight("/accounts/login/", PARTNER)

    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default(db):
    response = _preflight("/api/schema/", PARTNER)

    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[PARTNER])
def test_an_allowed_origin_can_read_an_api_response(db):
    response = DjangoClient(HTTP_HOST=ALPHA).get("/api/schema/", HTTP_ORIGIN=PARTNER)

    assert response["Access-Control-Allow-Origin"] == PARTNER
    assert "origin" in response["Vary"].lower()
