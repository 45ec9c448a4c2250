"""/api/developer/applications and /api/developer/api-keys: owner/admin only, secrets shown once."""

from __future__ import annotations

import hashlib

import pytest
from django_tenants.utils import schema_context
from oauth2_provider.models import AccessToken, Application

from apps.developer.models import APIKey, PartnerApplication
from tests.conftest import TENANT_HOSTS
from tests.factories.developer import api_key_issue, client_credentials_token, oauth_application_register

KEYS = "/api/developer/api-keys"
APPS = "/api/developer/applications"


# ------------------------------------------------------------------------------------------ API keys
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_issue_an_api_key_shown_once_and_stored_hashed(api_client, role):
    client = api_client(role)

    response = client.post(KEYS, {"name": "ERP sync", "scopes": ["loyalty:read", "developer:read"]}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    raw_key = body["key"]
    assert raw_key.startswith(f"ik_{body['prefix']}_")
    stored = APIKey.objects.get(pk=body["id"])
    assert stored.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.scopes == ["developer:read", "loyalty:read"]
    assert stored.created_by == client.user
    listed = client.get(KEYS).json()
    assert [item["id"] for item in listed["results"]] == [body["id"]]
    assert "key" not in listed["results"][0]


@pytest.mark.parametrize("role", ["manager", "analyst", "participant"])
def test_other_roles_cannot_use_the_developer_endpoints(api_client, role):
    client = api_client(role)

    listing = client.get(KEYS)
    creating = client.post(KEYS, {"name": "x", "scopes": ["loyalty:read"]}, format="json")
    apps = client.get(APPS)

    assert listing.status_code == creating.status_code == apps.status_code == 403
    assert creating.json()["error"]["code"] == "permission_denied"
    assert not APIKey.objects.exists()


def test_anonymous_gets_401(api_client):
    response = api_client(None).get(KEYS)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.has_header("WWW-Authenticate")


def test_unknown_scope_is_a_400_with_fields_and_writes_nothing(api_client):
    response = api_client("owner").post(KEYS, {"name": "x", "scopes": ["loyalty:read", "root"]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_scope"
    assert "scopes" in response.json()["error"]["fields"]
    assert not APIKey.objects.exists()


def test_api_key_authenticates_with_both_headers_and_records_its_use(api_client):
    issued = api_key_issue(scopes=["developer:read"])
    client = api_client(None)

    by_header = client.get(KEYS, HTTP_X_API_KEY=issued.raw_key)
    by_authorization = client.get(KEYS, HTTP_AUTHORIZATION=f"Api-Key {issued.raw_key}")

    assert by_header.status_code == by_authorization.status_code == 200
    assert by_header.json()["count"] == 1
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None


def test_api_key_without_the_scope_gets_insufficient_scope(api_client):
    issued = api_key_issue(scopes=["developer:read"])

    response = api_client(None).post(KEYS, {"name": "more", "scopes": ["developer:write"]}, format="json",
                                     HTTP_X_API_KEY=issued.raw_key)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert APIKey.objects.count() == 1


@pytest.mark.parametrize("presented", ["ik_deadbeef_nope", "garbage", "ik__", "ik_x_y_z"])
def test_a_wrong_api_key_is_401(api_client, presented):
    api_key_issue(scopes=["developer:read"])

    response = api_client(None).get(KEYS, HTTP_X_API_KEY=presented)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_tampered_secret_with_a_real_prefix_is_401(api_client):
    issued = api_key_issue(scopes=["developer:read"])
    tampered = issued.raw_key[:-4] + ("AAAA" if not issued.raw_key.endswith("AAAA") else "BBBB")

    assert api_client(None).get(KEYS, HTTP_X_API_KEY=tampered).status_code == 401


def test_revoke_stops_the_key_at_once(api_client):
    issued = api_key_issue(scopes=["developer:read"])
    owner = api_client("owner")

    response = owner.delete(f"{KEYS}/{issued.api_key.pk}")

    assert response.status_code == 204
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None
    assert api_client(None).get(KEYS, HTTP_X_API_KEY=issued.raw_key).status_code == 401
    assert owner.get(f"{KEYS}?active=false").json()["count"] == 1
    assert owner.get(f"{KEYS}?active=true").json()["count"] == 0


def test_revoking_another_tenants_key_is_404_and_leaves_it_alone(api_client, other_tenant):
    with schema_context("beta"):
        beta_key = api_key_issue(scopes=["developer:read"]).api_key

    response = api_client("owner").delete(f"{KEYS}/{beta_key.pk}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    with schema_context("beta"):
        assert APIKey.objects.get(pk=beta_key.pk).revoked_at is None


def test_not_a_uuid_is_404_not_400(api_client):
    assert api_client("owner").delete(f"{KEYS}/1").status_code == 404


def test_list_is_paginated_filtered_and_ordered(api_client):
    for name in ["gamma", "alpha", "beta"]:
        api_key_issue(name=name)
    client = api_client("admin")

    page = client.get(f"{KEYS}?page_size=2&ordering=name").json()
    filtered = client.get(f"{KEYS}?name=alp").json()

    assert page["count"] == 3
    assert [item["name"] for item in page["results"]] == ["alpha", "beta"]
    assert page["next"]
    assert [item["name"] for item in filtered["results"]] == ["alpha"]


def test_issuing_a_key_is_idempotent_and_the_replay_never_contains_the_secret(api_client):
    client = api_client("owner")
    payload = {"name": "retry me", "scopes": ["loyalty:read"]}

    first = client.post(KEYS, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    replay = client.post(KEYS, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert APIKey.objects.count() == 1
    assert first.json()["key"].startswith("ik_")
    assert replay.json()["key"] is None
    assert {k: v for k, v in replay.json().items() if k != "key"} == \
        {k: v for k, v in first.json().items() if k != "key"}


# ------------------------------------------------------------------------------------------ applications
def test_register_a_client_credentials_application_secret_once_and_hashed(api_client):
    client = api_client("owner")

    response = client.post(APPS, {"name": "Acme ERP", "scopes": ["loyalty:read"]}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["grant_type"] == "client-credentials"
    assert body["client_type"] == "confidential"
    assert body["scopes"] == ["loyalty:read"]
    application = Application.objects.get(client_id=body["client_id"])
    assert application.client_secret != body["client_secret"]  # DOT hashed it
    assert PartnerApplication.objects.get(pk=body["id"]).application == application
    detail = client.get(f"{APPS}/{body['id']}").json()
    assert "client_secret" not in detail
    assert detail["client_id"] == body["client_id"]
    assert client.get(f"{APPS}?grant_type=authorization-code").json()["count"] == 0
    assert client.get(f"{APPS}?grant_type=client-credentials").json()["count"] == 1


def test_authorization_code_application_needs_a_redirect_uri(api_client):
    response = api_client("owner").post(
        APPS, {"name": "Web app", "scopes": ["loyalty:read"], "grant_type": "authorization-code"}, format="json"
    )

    assert response.status_code == 400
    assert "redirect_uris" in response.json()["error"]["fields"]
    assert not Application.objects.exists()
    assert not PartnerApplication.objects.exists()


def test_public_client_credentials_application_is_refused(api_client):
    response = api_client("owner").post(
        APPS, {"name": "x", "scopes": ["loyalty:read"], "client_type": "public"}, format="json"
    )

    assert response.status_code == 400
    assert "client_type" in response.json()["error"]["fields"]
    assert not Application.objects.exists()


def test_deleting_an_application_revokes_its_tokens(api_client):
    registered = oauth_application_register(scopes=["developer:read"])
    application = registered.partner.application
    token = client_credentials_token(host=TENANT_HOSTS["alpha"], client_id=application.client_id,
                                     client_secret=registered.client_secret).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    partner = api_client(None)
    assert partner.get(KEYS, **auth).status_code == 200

    response = api_client("admin").delete(f"{APPS}/{registered.partner.pk}")

    assert response.status_code == 204
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not AccessToken.objects.filter(token=token).exists()
    assert partner.get(KEYS, **auth).status_code == 401


def test_another_tenants_application_is_404(api_client, other_tenant):
    with schema_context("beta"):
        beta = oauth_application_register().partner

    client = api_client("owner")

    assert client.get(f"{APPS}/{beta.pk}").status_code == 404
    assert client.delete(f"{APPS}/{beta.pk}").status_code == 404
    with schema_context("beta"):
        assert PartnerApplication.objects.filter(pk=beta.pk).exists()
