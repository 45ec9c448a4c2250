from __future__ import annotations

from django.test import Client as DjangoClient

from apps.tenants.models import Client


def test_unknown_host_gets_a_friendly_translated_404(db):
    response = DjangoClient(HTTP_HOST="nobody.localhost").get("/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 404
    assert "nobody.localhost" in response.content.decode()
    assert "<html" in response.content.decode()


def test_public_host_serves_the_landing_page(db):
    response = DjangoClient(HTTP_HOST="localhost").get("/")
    assert response.status_code == 200
    assert b"Incentiva" in response.content


def test_tenant_host_redirects_anonymous_visitors_to_login(db):
    response = DjangoClient(HTTP_HOST="alpha.localhost").get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_suspended_tenant_is_refused_with_a_page(db):
    Client.objects.filter(schema_name="beta").update(status=Client.Status.SUSPENDED)
    response = DjangoClient(HTTP_HOST="beta.localhost").get("/accounts/login/")
    assert response.status_code == 403
    assert b"beta.localhost" in response.content
