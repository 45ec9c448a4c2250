"""Google and Microsoft sign-in, configured per tenant (allauth SocialApp rows in the tenant's schema), run end
to end against the providers' token and profile endpoints mocked at the HTTP level."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import responses
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.test import Client as DjangoClient
from django_tenants.utils import schema_context

from apps.accounts.models import User
from tests.factories.accounts import UserFactory

ALPHA, BETA = "alpha.localhost", "beta.localhost"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO = "https://www.googleapis.com/oauth2/v2/userinfo"
MS_TOKEN = "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
MS_ME = "https://graph.microsoft.com/v1.0/me"


def _google_app() -> SocialApp:
    return SocialApp.objects.create(provider="google", name="Google", client_id="alpha-google-client",
                                    secret="alpha-google-secret")


def _microsoft_app() -> SocialApp:
    return SocialApp.objects.create(provider="microsoft", name="Microsoft", client_id="alpha-ms-client",
                                    secret="alpha-ms-secret",
                                    settings={"tenant": "organizations", "verified_email": ["example.test"]})


def _start(client: DjangoClient, provider: str, authorize_host: str) -> str:
    """POST the provider's login URL and follow the redirect to the provider: returns the state to call back
    with, after checking the session holds it."""
    response = client.post(f"/accounts/{provider}/login/")
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.netloc == authorize_host
    query = parse_qs(location.query)
    assert query["redirect_uri"] == [f"http://{ALPHA}/accounts/{provider}/login/callback/"]
    state = query["state"][0]
    assert state in client.session["socialaccount_states"]
    return state


def _google_userinfo(email: str, *, verified: bool = True) -> dict:
    return {"id": "109876543210", "email": email, "verified_email": verified, "name": "Ana Souza",
            "given_name": "Ana", "family_name": "Souza"}


@responses.activate
def test_google_sign_in_signs_in_the_user_with_that_verified_email(tenant):
    user = UserFactory(email="ana@example.test")
    _google_app()
    client = DjangoClient(HTTP_HOST=ALPHA)
    state = _start(client, "google", "accounts.google.com")
    responses.post(GOOGLE_TOKEN, json={"access_token": "google-access-1", "token_type": "Bearer",
                                       "expires_in": 3599, "scope": "openid email profile"})
    responses.get(GOOGLE_USERINFO, json=_google_userinfo("ana@example.test"))

    callback = client.get("/accounts/google/login/callback/", {"code": "google-code-1", "state": state})

    assert callback.status_code == 302
    assert callback["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    token_request = parse_qs(responses.calls[0].request.body)
    assert token_request["code"] == ["google-code-1"]
    assert token_request["client_id"] == ["alpha-google-client"]
    assert token_request["client_secret"] == ["alpha-google-secret"]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer google-access-1"
    assert client.get("/").status_code == 200


@responses.activate
def test_microsoft_sign_in_uses_the_tenants_azure_settings(tenant):
    user = UserFactory(email="ana@example.test")
    _microsoft_app()
    client = DjangoClient(HTTP_HOST=ALPHA)
    state = _start(client, "microsoft", "login.microsoftonline.com")
    responses.post(MS_TOKEN, json={"access_token": "ms-access-1", "token_type": "Bearer", "expires_in": 3599})
    responses.get(MS_ME, json={"id": "ms-0001", "mail": "ana@example.test", "userPrincipalName": "ana@example.test",
                               "displayName": "Ana Souza", "givenName": "Ana", "surname": "Souza"})

    callback = client.get("/accounts/microsoft/login/callback/", {"code": "ms-code-1", "state": state})

    assert callback.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert parse_qs(responses.calls[0].request.body)["client_id"] == ["alpha-ms-client"]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer ms-access-1"


@responses.activate
@pytest.mark.parametrize(("email", "verified"), [("stranger@example.test", True), ("ana@example.test", False)])
def test_google_sign_in_refuses_an_unknown_or_unverified_email(tenant, email, verified):
    user = UserFactory(email="ana@example.test")
    _google_app()
    client = DjangoClient(HTTP_HOST=ALPHA)
    state = _start(client, "google", "accounts.google.com")
    responses.post(GOOGLE_TOKEN, json={"access_token": "google-access-2", "token_type": "Bearer"})
    responses.get(GOOGLE_USERINFO, json=_google_userinfo(email, verified=verified))
    users_before = User.objects.count()

    callback = client.get("/accounts/google/login/callback/", {"code": "google-code-2", "state": state},
                          follow=True)

    assert "Sign Up Closed" in callback.content.decode()
    assert "_auth_user_id" not in client.session
    assert User.objects.count() == users_before
    assert not SocialAccount.objects.exists()
    assert EmailAddress.objects.filter(email=email).count() == (0 if email != user.email else 1)
    user.refresh_from_db()
    assert user.has_usable_password()


@responses.activate
def test_a_callback_with_a_forged_state_is_refused(tenant):
    UserFactory(email="ana@example.test")
    _google_app()
    client = DjangoClient(HTTP_HOST=ALPHA)
    _start(client, "google", "accounts.google.com")

    callback = client.get("/accounts/google/login/callback/", {"code": "google-code-3", "state": "forged"})

    assert callback.status_code == 401
    assert "_auth_user_id" not in client.session
    assert len(responses.calls) == 0  # never exchanged the code


def test_social_apps_belong_to_one_tenant(tenant):
    _google_app()

    alpha_page = DjangoClient(HTTP_HOST=ALPHA).get("/accounts/login/").content.decode()
    beta_page = DjangoClient(HTTP_HOST=BETA).get("/accounts/login/").content.decode()
    beta_start = DjangoClient(HTTP_HOST=BETA).post("/accounts/google/login/")

    assert "/accounts/google/login/" in alpha_page
    assert "/accounts/google/login/" not in beta_page
    assert beta_start.status_code == 404
    with schema_context("beta"):
        assert not SocialApp.objects.filter(client_id="alpha-google-client").exists()
    with schema_context("alpha"):
        assert SocialApp.objects.filter(client_id="alpha-google-client").exists()


def test_the_tenant_admin_edits_its_own_social_apps(tenant):
    owner = UserFactory(role="owner", is_staff=True, is_superuser=True)
    client = DjangoClient(HTTP_HOST=ALPHA)
    client.force_login(owner)

    page = client.get("/admin/socialaccount/socialapp/add/")
    response = client.post("/admin/socialaccount/socialapp/add/", {
        "provider": "microsoft", "name": "Contoso Entra ID", "client_id": "contoso-client", "secret": "s3cret",
        "key": "", "settings": '{"tenant": "contoso.onmicrosoft.com"}',
    })

    assert page.status_code == 200
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("alpha"):
        app = SocialApp.objects.get(client_id="contoso-client")
        assert app.settings == {"tenant": "contoso.onmicrosoft.com"}
    with schema_context("beta"):
        assert not SocialApp.objects.filter(client_id="contoso-client").exists()


@responses.activate
def test_a_sign_in_secret_saved_in_the_admin_is_encrypted_at_rest_and_still_used(tenant, make_user):
    # given a tenant owner saving a Google app through the admin
    owner = make_user(role="owner", is_staff=True, is_superuser=True)
    admin_client = DjangoClient(HTTP_HOST=ALPHA)
    admin_client.force_login(owner)
    response = admin_client.post("/admin/socialaccount/socialapp/add/", {
        "provider": "google", "provider_id": "", "name": "Google", "client_id": "alpha-google-client",
        "secret": "alpha-google-secret", "key": "", "settings": "{}",
    })
    assert response.status_code == 302, response.content[:2000]

    # then the database holds no clear secret
    stored = SocialApp.objects.get(provider="google").secret
    assert stored.startswith("fernet:")
    assert "alpha-google-secret" not in stored

    # and leaving the field blank on edit keeps it
    app = SocialApp.objects.get(provider="google")
    admin_client.post(f"/admin/socialaccount/socialapp/{app.pk}/change/", {
        "provider": "google", "provider_id": "", "name": "Google renamed", "client_id": "alpha-google-client",
        "secret": "", "key": "", "settings": "{}",
    })
    app.refresh_from_db()
    assert app.name == "Google renamed"
    assert app.secret == stored

    # and the provider still receives the real secret on sign-in
    user = UserFactory(email="ana@example.test")
    client = DjangoClient(HTTP_HOST=ALPHA)
    state = _start(client, "google", "accounts.google.com")
    responses.post(GOOGLE_TOKEN, json={"access_token": "google-access-1", "token_type": "Bearer",
                                       "expires_in": 3599, "scope": "openid email profile"})
    responses.get(GOOGLE_USERINFO, json=_google_userinfo("ana@example.test"))
    client.get("/accounts/google/login/callback/", {"code": "google-code-1", "state": state})
    assert parse_qs(responses.calls[0].request.body)["client_secret"] == ["alpha-google-secret"]
    assert client.session["_auth_user_id"] == str(user.pk)
