"""Health probes, the two home pages with their language switcher, and the API documentation pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client as DjangoClient
from django.test import override_settings
from django_tenants.utils import schema_context

from apps.accounts.models import User
from tests.conftest import TENANT_HOSTS

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the connection is refused at once
HOSTS = ["localhost", TENANT_HOSTS["alpha"]]


@pytest.mark.parametrize("host", HOSTS)
def test_healthz_answers_ok_on_public_and_tenant_hosts(db, host):
    response = DjangoClient(HTTP_HOST=host).get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("host", HOSTS)
def test_readyz_checks_database_redis_and_broker(db, host):
    response = DjangoClient(HTTP_HOST=host).get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "redis", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.parametrize("host", HOSTS)
@override_settings(CACHE_URL=CLOSED_PORT_URL)
def test_readyz_is_503_when_redis_is_down(db, host):
    response = DjangoClient(HTTP_HOST=host).get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["redis"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


@override_settings(CELERY_BROKER_URL=CLOSED_PORT_URL)
def test_readyz_is_503_when_the_broker_is_down(db):
    response = DjangoClient(HTTP_HOST=TENANT_HOSTS["beta"]).get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert response.json()["checks"]["redis"]["ok"] is True


@override_settings(CACHE_URL=CLOSED_PORT_URL, CELERY_BROKER_URL=CLOSED_PORT_URL)
def test_healthz_stays_ok_when_backing_services_are_down(db):
    assert DjangoClient(HTTP_HOST="localhost").get("/healthz").status_code == 200


def test_readyz_does_not_leak_connection_details(db):
    with override_settings(CACHE_URL="redis://:hunter2-password@127.0.0.1:1/0"):
        response = DjangoClient(HTTP_HOST="localhost").get("/readyz")

    assert "hunter2" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


# ------------------------------------------------------------------------------------------ pages


def test_landing_page_is_accessible_and_links_the_platform_admin(db):
    response = DjangoClient(HTTP_HOST="localhost").get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en"' in html
    assert 'name="viewport"' in html
    assert 'href="#main"' in html and 'id="main"' in html
    assert html.count("<h1") == 1
    assert 'href="/platform-admin/"' in html
    assert 'for="language-select"' in html  # the switcher's select has a visible label
    assert "acme.localhost" in html


def test_landing_page_works_for_signed_in_platform_staff(db):
    with schema_context("public"):
        staff = User.objects.create_superuser(email="staff@platform.test", password="Staff-pass-12345")
    client = DjangoClient(HTTP_HOST="localhost")
    client.force_login(staff)

    response = client.get("/")

    assert response.status_code == 200
    assert 'action="/platform-admin/logout/"' in response.content.decode()


@pytest.mark.parametrize("accept_language", ["es", "pt-br"])
def test_unknown_host_page_speaks_the_browser_language_without_a_switcher(db, accept_language):
    response = DjangoClient(HTTP_HOST="nobody.localhost").get("/", HTTP_ACCEPT_LANGUAGE=accept_language)

    html = response.content.decode()
    assert response.status_code == 404
    assert f'<html lang="{accept_language}"' in html
    assert "nobody.localhost" in html
    assert "lang-switcher" not in html


def test_unknown_host_page_escapes_the_host_name(db):
    response = DjangoClient(HTTP_HOST="nobody.localhost").get("/")

    assert b"<script" not in response.content


def test_language_switcher_on_the_public_host(db):
    client = DjangoClient(HTTP_HOST="localhost")

    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="es"' in html
    assert '<option value="es" lang="es" selected>' in html


def test_language_switcher_on_a_tenant_host_beats_the_users_preference(web_client, make_user):
    client = web_client(user=make_user(role="manager", preferred_language="pt-br"))
    assert '<html lang="pt-br"' in client.get("/").content.decode()

    client.post("/i18n/setlang/", {"language": "es", "next": "/"})

    assert '<html lang="es"' in client.get("/").content.decode()


def test_language_switcher_refuses_an_off_site_next(db):
    response = DjangoClient(HTTP_HOST="localhost").post("/i18n/setlang/",
                                                        {"language": "es", "next": "https://evil.example/"})

    assert response["Location"] == "/"


# ------------------------------------------------------------------------------------------ API docs


def _scripts(html: str) -> list[tuple[str, str]]:
    """(attributes, body) of every <script> element."""
    return re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)


def test_swagger_ui_has_no_inline_script_and_loads_everything_from_the_same_origin(db):
    client = DjangoClient(HTTP_HOST=TENANT_HOSTS["alpha"])

    response = client.get("/api/docs/")

    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp + ";"
    scripts = _scripts(response.content.decode())
    assert len(scripts) == 3
    for attributes, body in scripts:
        assert body.strip() == ""
        src = re.search(r'src="([^"]+)"', attributes).group(1).replace("&amp;", "&")
        assert src.startswith("/"), src
        loaded = client.get(src)
        assert loaded.status_code == 200, src
        assert "javascript" in loaded["Content-Type"]
    init = client.get("/api/docs/?script=")
    assert b"SwaggerUIBundle" in init.content
    assert b"/api/schema/" in init.content


def test_redoc_gets_a_blob_worker_and_nothing_else(db):
    response = DjangoClient(HTTP_HOST=TENANT_HOSTS["alpha"]).get("/api/redoc/")

    assert response.status_code == 200
    directives = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert directives["worker-src"] == "'self' blob:"
    assert directives["script-src"] == "'self'"
    assert all(body.strip() == "" for _attributes, body in _scripts(response.content.decode()))
