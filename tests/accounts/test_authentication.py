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
