"""ScopedRolePermission on a view defined here: roles for people, scopes for tokens and API keys."""

from __future__ import annotations

import pytest
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.permissions import ScopedRolePermission
from tests.conftest import TENANT_HOSTS
from tests.factories.developer import api_key_issue, client_credentials_token, oauth_application_register

pytestmark = pytest.mark.urls(__name__)


class LoyaltyView(APIView):
    permission_classes = [ScopedRolePermission]
    required_scopes = {"read": "loyalty:read", "write": "loyalty:write"}

    def get(self, request):  # type: ignore[no-untyped-def]
        return Response({"ok": True})

    def post(self, request):  # type: ignore[no-untyped-def]
        return Response({"ok": True}, status=201)


class ReadOnlyScopeView(LoyaltyView):
    """Declares no write scope: partner clients may read but never write here."""

    required_scopes = {"read": "loyalty:read"}
    allowed_roles = {"read": {"owner"}, "write": {"owner"}}


urlpatterns = [
    path("test/loyalty", LoyaltyView.as_view()),
    path("test/read-only", ReadOnlyScopeView.as_view()),
    path("", include("incentiva.urls_tenants")),
]


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [("owner", 200, 201), ("admin", 200, 201), ("manager", 200, 201), ("analyst", 200, 403),
     ("participant", 403, 403)],
)
def test_default_roles(api_client, role, read, write):
    client = api_client(role)

    get, post = client.get("/test/loyalty"), client.post("/test/loyalty", {}, format="json")

    assert (get.status_code, post.status_code) == (read, write)
    for response in (get, post):
        if response.status_code == 403:
            assert response.json()["error"]["code"] == "permission_denied"


def test_view_roles_override_the_defaults(api_client):
    assert api_client("admin").get("/test/read-only").status_code == 403
    assert api_client("owner").get("/test/read-only").status_code == 200


def test_anonymous_is_401_not_403(api_client):
    response = api_client(None).get("/test/loyalty")

    assert response.status_code == 401
    assert response.json() == {"error": {"code": "not_authenticated", "message": response.json()["error"]["message"],
                                         "fields": {}}}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_api_key_scopes(api_client):
    reader = api_key_issue(scopes=["loyalty:read"]).raw_key
    writer = api_key_issue(scopes=["loyalty:read", "loyalty:write"]).raw_key
    client = api_client(None)

    assert client.get("/test/loyalty", HTTP_X_API_KEY=reader).status_code == 200
    denied = client.post("/test/loyalty", {}, format="json", HTTP_X_API_KEY=reader)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "insufficient_scope"
    assert client.post("/test/loyalty", {}, format="json", HTTP_X_API_KEY=writer).status_code == 201
    # No write scope declared by the view: closed to partner clients whatever they carry.
    assert client.post("/test/read-only", {}, format="json", HTTP_X_API_KEY=writer).status_code == 403


def test_oauth_token_scopes(api_client):
    registered = oauth_application_register(scopes=["loyalty:read", "loyalty:write"])
    token = client_credentials_token(host=TENANT_HOSTS["alpha"], client_id=registered.partner.application.client_id,
                                     client_secret=registered.client_secret, scope="loyalty:read").json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token['access_token']}"}
    client = api_client(None)

    assert client.get("/test/loyalty", **auth).status_code == 200
    denied = client.post("/test/loyalty", {}, format="json", **auth)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "insufficient_scope"


def test_a_key_with_no_scopes_for_this_view_is_refused(api_client):
    other = api_key_issue(scopes=["campaigns:read"]).raw_key

    response = api_client(None).get("/test/loyalty", HTTP_X_API_KEY=other)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
