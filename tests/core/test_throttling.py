"""Throttles: per user and per partner client (OAuth application or API key), counted in Redis per tenant."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django_tenants.utils import schema_context

from apps.core import throttling
from apps.core.throttling import AnonRateThrottle, ClientRateThrottle, UserRateThrottle
from tests.conftest import TENANT_HOSTS
from tests.factories.accounts import UserFactory
from tests.factories.developer import api_key_issue, client_credentials_token, oauth_application_register

KEYS = "/api/developer/api-keys"


@pytest.fixture
def redis_cache() -> redis.Redis:
    return redis.Redis.from_url(settings.CACHE_URL)


def _cache_key(schema: str, key: str) -> str:
    """The key Django's Redis cache writes, with django-tenants' schema prefix."""
    return f"{schema}:{settings.CACHES['default']['KEY_PREFIX']}:1:{key}"


def test_user_throttle_answers_429_and_counts_in_redis_per_tenant(api_client, monkeypatch, redis_cache):
    monkeypatch.setattr(UserRateThrottle, "rate", "2/min", raising=False)
    alpha_user = UserFactory(role="owner")
    alpha = api_client(None, user=alpha_user)
    with schema_context("beta"):  # same user id in the other tenant
        beta = api_client(None, host=TENANT_HOSTS["beta"], user=UserFactory(role="owner", id=alpha_user.pk))

    statuses = [alpha.get(KEYS).status_code for _ in range(3)]
    on_beta = beta.get(KEYS)

    assert statuses == [200, 200, 429]
    assert on_beta.status_code == 200
    alpha_key = _cache_key("alpha", f"throttle:user:{alpha_user.pk}")
    beta_key = _cache_key("beta", f"throttle:user:{alpha_user.pk}")
    assert redis_cache.exists(alpha_key) and redis_cache.exists(beta_key)
    assert 0 < redis_cache.ttl(alpha_key) <= 60
    throttled = alpha.get(KEYS)
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


def test_client_throttle_keys_each_api_key(api_client, monkeypatch, redis_cache):
    monkeypatch.setattr(ClientRateThrottle, "rate", "2/min", raising=False)
    # Partner clients are not held to the per-IP budget of anonymous callers.
    monkeypatch.setattr(AnonRateThrottle, "rate", "1/min", raising=False)
    first, second = api_key_issue(), api_key_issue()
    client = api_client(None)

    statuses = [client.get(KEYS, HTTP_X_API_KEY=first.raw_key).status_code for _ in range(3)]
    other = client.get(KEYS, HTTP_X_API_KEY=second.raw_key)

    assert statuses == [200, 200, 429]
    assert other.status_code == 200
    assert redis_cache.exists(_cache_key("alpha", f"throttle:client:apikey:{first.api_key.prefix}"))


def test_client_throttle_keys_each_oauth_application(api_client, monkeypatch, redis_cache):
    monkeypatch.setattr(ClientRateThrottle, "rate", "1/min", raising=False)
    registered = oauth_application_register(scopes=["developer:read"])
    client_id = registered.partner.application.client_id
    token = client_credentials_token(host=TENANT_HOSTS["alpha"], client_id=client_id,
                                     client_secret=registered.client_secret).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = api_client(None)

    assert [client.get(KEYS, **auth).status_code for _ in range(2)] == [200, 429]
    assert redis_cache.exists(_cache_key("alpha", f"throttle:client:oauth:{client_id}"))


def test_the_window_slides_and_refused_requests_are_not_counted(rf, tenant, monkeypatch, redis_cache):
    # given a 2-per-minute budget and a clock the test moves
    monkeypatch.setattr(UserRateThrottle, "rate", "2/min", raising=False)
    clock = [1_000.0]
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: clock[0])
    user = UserFactory(role="owner")
    request = rf.get("/")
    request.user = user

    def allowed(at: float) -> bool:
        clock[0] = at
        return UserRateThrottle().allow_request(request, None)

    # when requests arrive at 0 s, 30 s, 40 s (refused), 61 s (the first left the window) and 75 s
    assert [allowed(1_000.0), allowed(1_030.0), allowed(1_040.0), allowed(1_061.0), allowed(1_075.0)] == [
        True, True, False, True, False]
    # then the refusal says when the oldest request in the window leaves it, and only allowed ones are kept
    throttle = UserRateThrottle()
    clock[0] = 1_075.0
    assert throttle.allow_request(request, None) is False
    assert throttle.wait() == 15  # 1_030 + 60 - 1_075
    assert redis_cache.zcard(_cache_key("alpha", f"throttle:user:{user.pk}")) == 2


def _allow(request) -> bool:  # type: ignore[no-untyped-def]
    return UserRateThrottle().allow_request(request, None)


@pytest.fixture
def user_request(rf, tenant, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(UserRateThrottle, "rate", "100/min", raising=False)
    request = rf.get("/")
    request.user = UserFactory(role="owner")
    return request


def test_a_connection_redis_dropped_is_reconnected_and_the_request_counted(user_request, redis_cache):
    # given a first request counted on this thread's connection, which Redis then drops
    assert _allow(user_request)
    held = throttling._connection(throttling._script())
    held.send_command("CLIENT", "ID")
    redis_cache.client_kill_filter(_id=held.read_response())
    # when the next request comes, then it is counted on a new connection
    assert _allow(user_request)
    assert redis_cache.zcard(_cache_key("alpha", f"throttle:user:{user_request.user.pk}")) == 2


def test_a_script_redis_does_not_know_is_loaded_again(user_request, redis_cache, monkeypatch):
    # given a script SHA Redis does not hold (as after a restart or SCRIPT FLUSH)
    script = throttling._script()
    real_sha = script.sha
    monkeypatch.setattr(script, "sha", "0" * 40)
    # when a request is throttled, then the script is loaded, run, and the request counted
    assert _allow(user_request)
    assert script.sha == real_sha
    assert redis_cache.zcard(_cache_key("alpha", f"throttle:user:{user_request.user.pk}")) == 1
