from __future__ import annotations

from datetime import timedelta

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import User
from apps.accounts.services import auth_tokens_issue
from apps.accounts.tokens import TENANT_CLAIM
from tests.factories.accounts import UserFactory

PROFILE = "/api/auth/profile"


def _get(access: str, host: str = "alpha.localhost"):  # type: ignore[no-untyped-def]
    client = APIClient(HTTP_HOST=host)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(PROFILE)


def test_a_valid_access_token_of_this_tenant_authenticates(tenant):
    user = UserFactory()

    response = _get(auth_tokens_issue(user=user).access)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


def test_an_expired_access_token_is_401_token_not_valid(tenant):
    token = AccessToken.for_user(UserFactory())
    token[TENANT_CLAIM] = "alpha"
    token.set_exp(lifetime=timedelta(seconds=-5))

    response = _get(str(token))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert response.json()["error"]["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_a_tenant_claim_is_refused(tenant):
    token = AccessToken.for_user(UserFactory())

    response = _get(str(token))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_tenant"


def test_a_token_of_a_deleted_user_is_refused(tenant):
    user = UserFactory()
    access = auth_tokens_issue(user=user).access
    User.objects.filter(pk=user.pk).delete()

    response = _get(access)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_not_found"


def test_an_alpha_token_on_beta_is_wrong_tenant(tenant):
    response = _get(auth_tokens_issue(user=UserFactory()).access, host="beta.localhost")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_tenant"


# ------------------------------------------------------------------------------------------ per-process caches
# The token's user and the verified token are kept per process and tenant (apps/accounts/authentication.py).
def _user_queries(captured) -> int:  # type: ignore[no-untyped-def]
    return sum('FROM "accounts_user"' in query["sql"] for query in captured.captured_queries)


def test_the_tokens_user_is_looked_up_once_within_the_ttl(tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    access = auth_tokens_issue(user=UserFactory()).access
    with CaptureQueriesContext(connection) as first:
        assert _get(access).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert _get(access).status_code == 200
    assert _user_queries(first) == 1
    assert _user_queries(second) == 0


def test_deactivating_a_user_refuses_its_token_at_once_in_this_process(tenant):
    user = UserFactory()
    access = auth_tokens_issue(user=user).access
    assert _get(access).status_code == 200  # cached now

    user.is_active = False
    user.save()

    response = _get(access)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_inactive"


def test_a_change_made_elsewhere_is_seen_within_the_ttl(tenant, settings, monkeypatch):
    # given a cached user, deactivated by a write this process sends no signal for (as another process would)
    clock = [5000.0]
    monkeypatch.setattr("apps.core.local_cache.time.monotonic", lambda: clock[0])
    user = UserFactory()
    access = auth_tokens_issue(user=user).access
    assert _get(access).status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    # then the token still works until the TTL runs out, and is refused after
    assert _get(access).status_code == 200
    clock[0] += settings.AUTH_USER_CACHE_SECONDS + 0.1
    assert _get(access).status_code == 401


def test_a_role_change_takes_effect_at_once_in_this_process(tenant):
    user = UserFactory(role="admin")
    access = auth_tokens_issue(user=user).access
    client = APIClient(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/loyalty-referral/programs").status_code == 200

    user.role = "participant"
    user.save()

    assert client.get("/api/loyalty-referral/programs").status_code == 403


def test_the_same_user_id_in_another_tenant_is_that_tenants_user(tenant):
    from django_tenants.utils import schema_context

    alpha_user = UserFactory(role="owner", email="same@example.test")
    assert _get(auth_tokens_issue(user=alpha_user).access).json()["email"] == "same@example.test"
    with schema_context("beta"):
        beta_user = UserFactory(role="owner", id=alpha_user.pk, email="beta@example.test")
        beta_access = auth_tokens_issue(user=beta_user).access

    assert _get(beta_access, host="beta.localhost").json()["email"] == "beta@example.test"


def test_a_cached_token_is_refused_once_it_expires(tenant, monkeypatch):
    # given a token verified (and cached) while valid
    token = AccessToken.for_user(UserFactory())
    token[TENANT_CLAIM] = "alpha"
    token.set_exp(lifetime=timedelta(seconds=30))
    assert _get(str(token)).status_code == 200
    # when its expiry passes, then the cached verification does not let it through
    from django.utils import timezone

    later = timezone.now() + timedelta(seconds=60)
    monkeypatch.setattr("apps.accounts.authentication.aware_utcnow", lambda: later)
    monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: later)
    response = _get(str(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_a_forged_token_is_never_cached_as_valid(tenant):
    access = auth_tokens_issue(user=UserFactory()).access
    header, payload, signature = access.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert _get(forged).status_code == 401
    assert _get(forged).status_code == 401
    assert _get(access).status_code == 200
