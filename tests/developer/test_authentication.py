"""apps/developer/authentication.py: API keys, with the row kept per process and tenant for a few seconds."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.developer.models import APIKey
from apps.developer.services import api_key_revoke
from tests.conftest import TENANT_HOSTS
from tests.factories.developer import api_key_issue

KEYS = "/api/developer/api-keys"


def _key_lookups(captured) -> int:  # type: ignore[no-untyped-def]
    """The authentication's lookup of a presented key by its prefix (the listing reads the table too)."""
    return sum('"developer_apikey"."prefix" = ' in query["sql"] for query in captured.captured_queries)


def test_a_key_is_looked_up_once_within_the_ttl(api_client):
    issued = api_key_issue(scopes=["developer:read"])
    client = api_client(None)
    with CaptureQueriesContext(connection) as first:
        assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 200
    assert _key_lookups(first) == 1
    assert _key_lookups(second) == 0


def test_a_used_key_revoked_is_refused_at_once_in_this_process(api_client):
    issued = api_key_issue(scopes=["developer:read"])
    client = api_client(None)
    assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 200  # cached now

    api_key_revoke(api_key=APIKey.objects.get(pk=issued.api_key.pk))

    assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 401


def test_a_revocation_made_elsewhere_is_seen_within_the_ttl(api_client, settings, monkeypatch):
    # given a cached key, revoked by a write this process sends no signal for (as another process would)
    clock = [7000.0]
    monkeypatch.setattr("apps.core.local_cache.time.monotonic", lambda: clock[0])
    issued = api_key_issue(scopes=["developer:read"])
    client = api_client(None)
    assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 200
    APIKey.objects.filter(pk=issued.api_key.pk).update(revoked_at=timezone.now())
    # then it is refused once the TTL has run out
    assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 200
    clock[0] += settings.AUTH_API_KEY_CACHE_SECONDS + 0.1
    assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 401


def test_a_cached_key_that_expires_is_refused_at_once(api_client, monkeypatch):
    issued = api_key_issue(scopes=["developer:read"])
    expires_at = timezone.now() + timedelta(minutes=1)
    APIKey.objects.filter(pk=issued.api_key.pk).update(expires_at=expires_at)
    client = api_client(None)
    assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 200  # cached, still valid

    monkeypatch.setattr(timezone, "now", lambda: expires_at + timedelta(seconds=1))

    assert client.get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 401


def test_a_key_works_only_on_its_own_tenant(api_client):
    issued = api_key_issue(scopes=["developer:read"])
    assert api_client(None).get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 200  # cached for alpha

    on_beta = api_client(None, host=TENANT_HOSTS["beta"]).get(KEYS, HTTP_X_API_KEY=issued.raw_key)

    assert on_beta.status_code == 401
