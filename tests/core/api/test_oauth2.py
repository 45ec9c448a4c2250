"""OAuth2 for partners, end to end over HTTP on alpha's host: client credentials, and authorization code
with PKCE (required). A token only carries scopes its application was granted, and only works on the
tenant that issued it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django_tenants.utils import schema_context
from oauth2_provider.models import AccessToken, Grant

from apps.developer.models import APIKey
from tests.conftest import TENANT_HOSTS
from tests.factories.accounts import UserFactory
from tests.factories.developer import client_credentials_token, oauth_application_register, pkce_pair

ALPHA, BETA = TENANT_HOSTS["alpha"], TENANT_HOSTS["beta"]
KEYS = "/api/developer/api-keys"
REDIRECT = "https://partner.example/callback"


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# ------------------------------------------------------------------------------------------ client credentials
def test_client_credentials_token_works_within_its_scopes_and_not_outside(api_client):
    created = api_client("owner").post("/api/developer/applications",
                                       {"name": "Acme ERP", "scopes": ["developer:read", "loyalty:read"]},
                                       format="json").json()

    token_response = client_credentials_token(host=ALPHA, client_id=created["client_id"],
                                              client_secret=created["client_secret"], scope="developer:read")

    assert token_response.status_code == 200, token_response.content
    token = token_response.json()
    assert token["scope"] == "developer:read"
    partner = api_client(None)
    inside = partner.get(KEYS, **_bearer(token["access_token"]))
    outside = partner.post(KEYS, {"name": "x", "scopes": ["loyalty:read"]}, format="json",
                           **_bearer(token["access_token"]))
    assert inside.status_code == 200
    assert outside.status_code == 403
    assert outside.json()["error"]["code"] == "insufficient_scope"
    assert not APIKey.objects.exists()


def test_without_a_scope_parameter_the_token_gets_the_granted_scopes(tenant):
    registered = oauth_application_register(scopes=["developer:read", "loyalty:read"])

    token = client_credentials_token(host=ALPHA, client_id=registered.partner.application.client_id,
                                     client_secret=registered.client_secret).json()

    assert set(token["scope"].split()) == {"developer:read", "loyalty:read"}


def test_a_scope_the_application_was_not_granted_is_refused(tenant):
    registered = oauth_application_register(scopes=["loyalty:read"])

    response = client_credentials_token(host=ALPHA, client_id=registered.partner.application.client_id,
                                        client_secret=registered.client_secret, scope="loyalty:read developer:write")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not AccessToken.objects.exists()


def test_wrong_secret_is_refused(tenant):
    registered = oauth_application_register()

    response = client_credentials_token(host=ALPHA, client_id=registered.partner.application.client_id,
                                        client_secret="not-the-secret")

    assert response.status_code == 401
    assert not AccessToken.objects.exists()


def test_alpha_token_and_client_are_unknown_on_beta(api_client):
    registered = oauth_application_register(scopes=["developer:read"])
    application = registered.partner.application
    token = client_credentials_token(host=ALPHA, client_id=application.client_id,
                                     client_secret=registered.client_secret).json()["access_token"]

    on_beta = api_client(None, host=BETA).get(KEYS, **_bearer(token))
    token_on_beta = client_credentials_token(host=BETA, client_id=application.client_id,
                                             client_secret=registered.client_secret)

    assert on_beta.status_code == 401
    assert on_beta.json()["error"]["code"] in {"not_authenticated", "authentication_failed", "token_not_valid"}
    assert token_on_beta.status_code == 401
    with schema_context("beta"):
        assert not AccessToken.objects.exists()


def test_an_application_registered_elsewhere_only_gets_the_default_scopes(tenant):
    from oauth2_provider.models import Application

    application = Application.objects.create(
        name="From the admin", client_type="confidential", authorization_grant_type="client-credentials",
        client_secret="s3cret-s3cret",
    )

    refused = client_credentials_token(host=ALPHA, client_id=application.client_id, client_secret="s3cret-s3cret",
                                       scope="developer:read")
    default = client_credentials_token(host=ALPHA, client_id=application.client_id, client_secret="s3cret-s3cret")

    assert refused.status_code == 400
    assert default.json()["scope"] == "profile:read"


# ------------------------------------------------------------------------------------------ authorization code + PKCE
def _authorize(web, application, challenge: str | None, scope: str = "developer:read"):  # type: ignore[no-untyped-def]
    params = {"response_type": "code", "client_id": application.client_id, "redirect_uri": REDIRECT,
              "scope": scope, "state": "st4te"}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    page = web.get(f"/o/authorize/?{urlencode(params)}")
    return page, params


def _approve(web, params):  # type: ignore[no-untyped-def]
    response = web.post("/o/authorize/", {**params, "allow": "Authorize"})
    assert response.status_code == 302, response.content
    query = parse_qs(urlparse(response["Location"]).query)
    assert response["Location"].startswith(REDIRECT)
    return query


def _exchange(web, application, code: str, verifier: str):  # type: ignore[no-untyped-def]
    return web.post("/o/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                  "client_id": application.client_id, "code_verifier": verifier})


def test_authorization_code_with_pkce_end_to_end(web_client, api_client):
    owner = UserFactory(role="owner")
    registered = oauth_application_register(scopes=["developer:read"], grant_type="authorization-code",
                                            client_type="public", redirect_uris=[REDIRECT])
    application = registered.partner.application
    web = web_client(user=owner)
    verifier, challenge = pkce_pair()

    page, params = _authorize(web, application, challenge)
    assert page.status_code == 200
    query = _approve(web, {**params, "code_challenge": challenge, "code_challenge_method": "S256"})
    assert query["state"] == ["st4te"]
    token_response = _exchange(web_client(), application, query["code"][0], verifier)

    assert token_response.status_code == 200, token_response.content
    token = token_response.json()
    assert token["scope"] == "developer:read"
    assert AccessToken.objects.get(token=token["access_token"]).user == owner
    assert api_client(None).get(KEYS, **_bearer(token["access_token"])).status_code == 200
    assert api_client(None, host=BETA).get(KEYS, **_bearer(token["access_token"])).status_code == 401


def test_authorization_without_pkce_issues_no_code(web_client):
    owner = UserFactory(role="owner")
    registered = oauth_application_register(scopes=["developer:read"], grant_type="authorization-code",
                                            client_type="public", redirect_uris=[REDIRECT])
    web = web_client(user=owner)

    page, params = _authorize(web, registered.partner.application, challenge=None)
    approve = web.post("/o/authorize/", {**params, "allow": "Authorize"})

    assert "code=" not in page.get("Location", "")
    assert "code=" not in approve.get("Location", "")
    assert not Grant.objects.exists()


def test_a_wrong_code_verifier_gets_no_token(web_client):
    owner = UserFactory(role="owner")
    registered = oauth_application_register(scopes=["developer:read"], grant_type="authorization-code",
                                            client_type="public", redirect_uris=[REDIRECT])
    application = registered.partner.application
    web = web_client(user=owner)
    _verifier, challenge = pkce_pair()
    _page, params = _authorize(web, application, challenge)
    query = _approve(web, {**params, "code_challenge": challenge, "code_challenge_method": "S256"})

    response = _exchange(web_client(), application, query["code"][0], pkce_pair()[0])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_a_user_token_is_limited_by_the_users_role_too(web_client, api_client):
    analyst = UserFactory(role="analyst")
    registered = oauth_application_register(scopes=["developer:read"], grant_type="authorization-code",
                                            client_type="public", redirect_uris=[REDIRECT])
    application = registered.partner.application
    web = web_client(user=analyst)
    verifier, challenge = pkce_pair()
    _page, params = _authorize(web, application, challenge)
    query = _approve(web, {**params, "code_challenge": challenge, "code_challenge_method": "S256"})
    token = _exchange(web_client(), application, query["code"][0], verifier).json()["access_token"]

    response = api_client(None).get(KEYS, **_bearer(token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_deactivated_users_token_stops_working(web_client, api_client):
    owner = UserFactory(role="owner")
    registered = oauth_application_register(scopes=["developer:read"], grant_type="authorization-code",
                                            client_type="public", redirect_uris=[REDIRECT])
    application = registered.partner.application
    web = web_client(user=owner)
    verifier, challenge = pkce_pair()
    _page, params = _authorize(web, application, challenge)
    query = _approve(web, {**params, "code_challenge": challenge, "code_challenge_method": "S256"})
    token = _exchange(web_client(), application, query["code"][0], verifier).json()["access_token"]
    owner.is_active = False
    owner.save(update_fields=["is_active"])

    assert api_client(None).get(KEYS, **_bearer(token)).status_code == 401


@pytest.mark.parametrize("path", ["/o/applications/", "/o/applications/register/", "/o/authorized_tokens/"])
def test_dot_self_service_pages_are_not_mounted(web_client, path):
    assert web_client(user=UserFactory(role="participant")).get(path).status_code == 404
