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


# ------------------------------------------------------------------------------------------ host cache
def _domain_queries(captured) -> int:  # type: ignore[no-untyped-def]
    return sum('FROM "tenants_domain"' in query["sql"] for query in captured.captured_queries)


def test_a_known_host_is_looked_up_once_within_the_ttl(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_HOST="alpha.localhost")
    with CaptureQueriesContext(connection) as first:
        client.get("/")
    with CaptureQueriesContext(connection) as second:
        response = client.get("/")
    assert response.status_code == 302
    assert _domain_queries(first) == 1
    assert _domain_queries(second) == 0


def test_suspending_a_tenant_clears_the_cache_at_once(db):
    client = DjangoClient(HTTP_HOST="beta.localhost")
    assert client.get("/accounts/login/").status_code == 200
    beta = Client.objects.get(schema_name="beta")
    beta.status = Client.Status.SUSPENDED
    beta.save()
    assert client.get("/accounts/login/").status_code == 403


def test_a_deleted_domain_stops_resolving_at_once(db):
    from apps.tenants.models import Domain

    beta = Client.objects.get(schema_name="beta")
    extra = Domain.objects.create(domain="beta-extra.localhost", tenant=beta, is_primary=False)
    client = DjangoClient(HTTP_HOST="beta-extra.localhost")
    assert client.get("/accounts/login/").status_code == 200
    extra.delete()
    assert client.get("/accounts/login/").status_code == 404


def test_the_cache_expires_after_the_ttl(db, settings, monkeypatch):
    from apps.core import local_cache

    settings.TENANT_CACHE_SECONDS = 5
    client = DjangoClient(HTTP_HOST="beta.localhost")
    assert client.get("/accounts/login/").status_code == 200
    # a change that fires no signal (another process's save, a queryset update) is seen after the TTL
    Client.objects.filter(schema_name="beta").update(status=Client.Status.SUSPENDED)
    assert client.get("/accounts/login/").status_code == 200
    later = local_cache.time.monotonic() + 6
    monkeypatch.setattr(local_cache.time, "monotonic", lambda: later)
    assert client.get("/accounts/login/").status_code == 403


def test_each_request_gets_its_own_tenant_object(db, rf):
    from apps.tenants.middleware import TenantMiddleware
    from apps.tenants.models import Domain

    middleware = TenantMiddleware(lambda request: None)
    first = middleware.get_tenant(Domain, "alpha.localhost")
    second = middleware.get_tenant(Domain, "alpha.localhost")
    assert first is not second
    assert first.pk == second.pk


# ------------------------------------------------------------------------------------------ kept search_path
def _sets(captured) -> list[str]:  # type: ignore[no-untyped-def]
    return [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SET search_path")]


def test_a_kept_connection_is_not_sent_the_same_search_path_again(api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client("admin")
    assert client.get("/api/loyalty-referral/programs").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get("/api/loyalty-referral/programs").status_code == 200
    assert second.captured_queries  # the request did query
    assert _sets(second) == []


def test_switching_tenants_sets_each_ones_path_and_reads_its_rows(api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context

    from apps.loyalty.models import Program
    from tests.factories.accounts import UserFactory

    alpha = api_client("admin")
    Program.objects.create(name="Alpha's program")
    with schema_context("beta"):
        Program.objects.create(name="Beta's program")
        beta = api_client(None, host="beta.localhost", user=UserFactory(role="admin"))
    assert beta.get("/api/loyalty-referral/programs").status_code == 200  # both hosts known (cached)
    assert alpha.get("/api/loyalty-referral/programs").status_code == 200

    with CaptureQueriesContext(connection) as on_beta:
        beta_names = [p["name"] for p in beta.get("/api/loyalty-referral/programs").json()["results"]]
    with CaptureQueriesContext(connection) as on_alpha:
        alpha_names = [p["name"] for p in alpha.get("/api/loyalty-referral/programs").json()["results"]]

    assert beta_names == ["Beta's program"] and alpha_names == ["Alpha's program"]
    assert _sets(on_beta) == ['SET search_path = "beta","public"']
    assert _sets(on_alpha) == ['SET search_path = "alpha","public"']


def test_a_connection_that_forgot_its_path_is_sent_it_again(api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client("admin")
    assert client.get("/api/loyalty-referral/programs").status_code == 200
    # a rollback (or a new connection) makes django-tenants forget the path it set, as PostgreSQL undid it
    connection.search_path_set_schemas = None
    with CaptureQueriesContext(connection) as after:
        assert client.get("/api/loyalty-referral/programs").status_code == 200
    assert _sets(after) == ['SET search_path = "alpha","public"']
