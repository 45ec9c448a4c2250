"""OAuth2Authentication leaves JWT-shaped bearer tokens to the JWT class without a token-table query."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.services import auth_tokens_issue
from tests.conftest import TENANT_HOSTS
from tests.factories.accounts import UserFactory

ME = "/api/developer/api-keys"


def _token_table_queries(captured) -> int:  # type: ignore[no-untyped-def]
    return sum("oauth2_provider_accesstoken" in query["sql"] for query in captured.captured_queries)


def test_a_jwt_authenticates_without_looking_up_oauth_tokens(tenant):
    token = auth_tokens_issue(user=UserFactory(role="owner")).access
    client = APIClient(HTTP_HOST=TENANT_HOSTS["alpha"], HTTP_AUTHORIZATION=f"Bearer {token}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(ME)
    assert response.status_code == 200
    assert _token_table_queries(captured) == 0


def test_a_forged_jwt_shaped_token_is_refused(tenant):
    client = APIClient(HTTP_HOST=TENANT_HOSTS["alpha"], HTTP_AUTHORIZATION="Bearer aaa.bbb.ccc")
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_an_opaque_unknown_bearer_token_is_still_checked_and_refused(tenant):
    client = APIClient(HTTP_HOST=TENANT_HOSTS["alpha"], HTTP_AUTHORIZATION="Bearer notarealtoken123")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(ME)
    assert response.status_code == 401
    assert _token_table_queries(captured) == 1
