from __future__ import annotations

import time

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.api.throttling import LoginFailureThrottle
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory, mfa_enable, totp_code

LOGIN = "/api/auth/login"


def _limit() -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_login"].split("/")[0])


def _login(email: str, password: str, ip: str = "203.0.113.7", **extra):  # type: ignore[no-untyped-def]
    client = APIClient(HTTP_HOST="alpha.localhost", REMOTE_ADDR=ip)
    return client.post(LOGIN, {"email": email, "password": password, **extra}, format="json")


def test_failed_logins_are_throttled_with_429_retry_after_and_nothing_written(tenant):
    user = UserFactory(email="ana@example.test")
    for _ in range(_limit()):
        assert _login("ana@example.test", "wrong-password").status_code == 401

    response = _login("ana@example.test", DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert response.json()["error"]["message"]
    assert 0 < int(response["Retry-After"]) <= 60
    assert not OutstandingToken.objects.exists()
    user.refresh_from_db()
    assert user.last_login is None


def test_the_throttle_is_keyed_by_ip_and_email(tenant):
    UserFactory(email="ana@example.test")
    UserFactory(email="bob@example.test")
    for _ in range(_limit()):
        _login("ana@example.test", "wrong-password", ip="203.0.113.7")

    assert _login("ana@example.test", DEFAULT_PASSWORD, ip="203.0.113.7").status_code == 429
    assert _login("ANA@example.test ", DEFAULT_PASSWORD, ip="203.0.113.7").status_code == 429
    assert _login("bob@example.test", DEFAULT_PASSWORD, ip="203.0.113.7").status_code == 200
    assert _login("ana@example.test", DEFAULT_PASSWORD, ip="198.51.100.4").status_code == 200


def test_successful_logins_and_bad_input_are_not_counted(tenant):
    UserFactory(email="ana@example.test")

    for _ in range(_limit() + 2):
        assert _login("ana@example.test", DEFAULT_PASSWORD).status_code == 200
        assert _login("ana@example.test", "").status_code == 400

    assert _login("ana@example.test", DEFAULT_PASSWORD).status_code == 200


def test_wrong_mfa_codes_count_as_failures(tenant):
    user = UserFactory(email="mfa@example.test")
    secret, _codes = mfa_enable(user)
    for _ in range(_limit()):
        response = _login("mfa@example.test", DEFAULT_PASSWORD, mfa_code="000000")
        assert response.status_code == 401

    response = _login("mfa@example.test", DEFAULT_PASSWORD, mfa_code=totp_code(secret))

    assert response.status_code == 429
    assert not OutstandingToken.objects.exists()


def test_the_rate_comes_from_the_settings(tenant, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_login": "2/hour"},
    }
    UserFactory(email="ana@example.test")
    for _ in range(2):
        assert _login("ana@example.test", "wrong-password").status_code == 401

    response = _login("ana@example.test", DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600


@pytest.mark.parametrize("limit", [1, 3])
def test_exactly_the_configured_number_of_failures_is_allowed(tenant, settings, limit):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_login": f"{limit}/min"},
    }
    UserFactory(email="ana@example.test")

    statuses = [_login("ana@example.test", "wrong-password").status_code for _ in range(limit + 1)]

    assert statuses == [401] * limit + [429]


def test_failures_just_before_a_window_boundary_keep_counting(tenant, settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_login": "4/min"},
    }
    UserFactory(email="ana@example.test")
    start = (int(time.time()) // 60 + 1) * 60 - 1.0  # one second before a window ends
    clock = {"now": start}
    monkeypatch.setattr(LoginFailureThrottle, "timer", lambda self: clock["now"])
    for _ in range(4):
        assert _login("ana@example.test", "wrong-password").status_code == 401

    clock["now"] = start + 2  # one second into the next window: the 4 failures still weigh ~3.9
    refused = _login("ana@example.test", DEFAULT_PASSWORD)
    # 4 * (1 - f) + 1 <= 4 once f >= 1/4: 15 s into the window, 14 s from now.
    clock["now"] = start + 1 + 15.5
    allowed = _login("ana@example.test", DEFAULT_PASSWORD)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 14
    assert allowed.status_code == 200
