from __future__ import annotations

import jwt
import pytest
from allauth.account.models import EmailAddress
from django_tenants.utils import schema_context
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.models import User
from apps.accounts.services import auth_tokens_issue
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory, mfa_enable, totp_code

ALPHA, BETA = "alpha.localhost", "beta.localhost"
LOGIN, LOGOUT, REFRESH, PROFILE, REGISTER = (
    "/api/auth/login", "/api/auth/logout", "/api/auth/refresh", "/api/auth/profile", "/api/auth/register"
)
STRONG_PASSWORD = "Blue-lantern-8841"


def _client(host: str = ALPHA, access: str | None = None) -> APIClient:
    client = APIClient(HTTP_HOST=host)
    if access:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"email": email, "password": password, **extra}, format="json")


# ------------------------------------------------------------------------------------------ login


def test_login_returns_a_bearer_pair_and_the_user(tenant):
    user = UserFactory(email="ana@example.test", role="manager", preferred_language="es")

    response = _login(_client(), "Ana@Example.test")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"]["id"] == str(user.pk)
    assert body["user"]["email"] == "ana@example.test"
    assert body["user"]["role"] == "manager"
    assert body["user"]["preferred_language"] == "es"
    assert body["user"]["mfa_enabled"] is False
    assert "password" not in body["user"]
    assert jwt.decode(body["access"], options={"verify_signature": False})["tenant"] == "alpha"
    user.refresh_from_db()
    assert user.last_login is not None
    # The access token signs the caller in.
    profile = _client(access=body["access"]).get(PROFILE)
    assert profile.status_code == 200
    assert profile.json()["email"] == "ana@example.test"


@pytest.mark.parametrize(("payload", "bad_fields"), [
    ({}, {"email", "password"}),
    ({"email": "not-an-email", "password": "x"}, {"email"}),
    ({"email": "ana@example.test"}, {"password"}),
    ({"password": DEFAULT_PASSWORD}, {"email"}),
    ({"email": "", "password": ""}, {"email", "password"}),
    ({"email": ["ana@example.test"], "password": DEFAULT_PASSWORD}, {"email"}),
    ({"email": "ana@example.test", "password": DEFAULT_PASSWORD, "mfa_code": "9" * 65}, {"mfa_code"}),
])
def test_login_bad_input_is_400_with_the_fields_and_writes_nothing(tenant, payload, bad_fields):
    user = UserFactory(email="ana@example.test")

    response = _client().post(LOGIN, payload, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == bad_fields
    assert not OutstandingToken.objects.exists()
    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.parametrize("body", ["[1, 2]", "{not json", '"just a string"'])
def test_login_unparseable_or_non_object_body_is_400(tenant, body):
    response = _client().post(LOGIN, body, content_type="application/json")

    assert response.status_code == 400
    assert "error" in response.json()
    assert not OutstandingToken.objects.exists()


def test_login_wrong_password_and_unknown_email_get_the_same_401(tenant):
    user = UserFactory(email="ana@example.test")

    wrong_password = _login(_client(), "ana@example.test", "not-the-password")
    unknown_email = _login(_client(), "nobody@example.test")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["error"]["code"] == "invalid_credentials"
    assert not OutstandingToken.objects.exists()
    user.refresh_from_db()
    assert user.last_login is None


def test_login_ignores_a_stale_bearer_header(tenant):
    UserFactory(email="ana@example.test")

    response = _login(_client(access="garbage.not.valid"), "ana@example.test")

    assert response.status_code == 200


def test_login_of_an_unverified_email_is_403_and_writes_nothing(tenant):
    user = UserFactory(email="new@example.test")
    EmailAddress.objects.filter(user=user).update(verified=False)

    response = _login(_client(), "new@example.test")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_unverified"
    assert not OutstandingToken.objects.exists()


def test_login_with_mfa_requires_the_code(tenant):
    user = UserFactory(email="mfa@example.test")
    mfa_enable(user)

    response = _login(_client(), "mfa@example.test")

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "mfa_required"
    assert error["fields"]["mfa_code"]
    assert not OutstandingToken.objects.exists()
    user.refresh_from_db()
    assert user.last_login is None


def test_login_with_mfa_refuses_a_wrong_code(tenant):
    user = UserFactory(email="mfa@example.test")
    secret, _codes = mfa_enable(user)

    response = _login(_client(), "mfa@example.test", mfa_code=totp_code(secret, offset_periods=30))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_mfa_code"
    assert not OutstandingToken.objects.exists()


def test_login_with_mfa_accepts_a_totp_code(tenant):
    user = UserFactory(email="mfa@example.test")
    secret, _codes = mfa_enable(user)

    response = _login(_client(), "mfa@example.test", mfa_code=totp_code(secret))

    assert response.status_code == 200
    assert response.json()["user"]["mfa_enabled"] is True


def test_login_with_mfa_accepts_a_recovery_code_once(tenant):
    user = UserFactory(email="mfa@example.test")
    _secret, codes = mfa_enable(user)

    first = _login(_client(), "mfa@example.test", mfa_code=codes[0])
    again = _login(_client(), "mfa@example.test", mfa_code=codes[0])

    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_mfa_code"
    assert OutstandingToken.objects.count() == 1


# ------------------------------------------------------------------------------------------ refresh / logout


def test_refresh_rotates_the_pair_and_refuses_the_old_refresh(tenant):
    pair = auth_tokens_issue(user=UserFactory())

    response = _client().post(REFRESH, {"refresh": pair.refresh}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["refresh"] != pair.refresh
    assert _client(access=body["access"]).get(PROFILE).status_code == 200
    reused = _client().post(REFRESH, {"refresh": pair.refresh}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"
    assert _client().post(REFRESH, {"refresh": body["refresh"]}, format="json").status_code == 200


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
@pytest.mark.parametrize("payload", [{}, {"refresh": ""}, {"refresh": "not-a-token"}, {"refresh": "a.b.c"},
                                     {"refresh": 12345}])
def test_refresh_and_logout_bad_input_is_400_with_the_field(tenant, url, payload):
    response = _client().post(url, payload, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"refresh"}
    assert not BlacklistedToken.objects.exists()


def test_refresh_with_a_forged_token_is_401(tenant):
    user = UserFactory()
    forged = jwt.encode({"token_type": "refresh", "user_id": str(user.pk), "jti": "x" * 32, "tenant": "alpha",
                         "exp": 4_000_000_000}, "not-our-signing-key-but-long-enough-for-hs256", algorithm="HS256")

    response = _client().post(REFRESH, {"refresh": forged}, format="json")

    assert response.status_code == 401
    assert not OutstandingToken.objects.exists()


def test_logout_revokes_the_refresh_token(tenant):
    pair = auth_tokens_issue(user=UserFactory())

    response = _client().post(LOGOUT, {"refresh": pair.refresh}, format="json")

    assert response.status_code == 204
    assert BlacklistedToken.objects.count() == 1
    after = _client().post(REFRESH, {"refresh": pair.refresh}, format="json")
    assert after.status_code == 401
    assert _client().post(LOGOUT, {"refresh": pair.refresh}, format="json").status_code == 401
    assert BlacklistedToken.objects.count() == 1
    assert OutstandingToken.objects.count() == 1


# ------------------------------------------------------------------------------------------ profile


def test_profile_needs_a_signed_in_user(tenant):
    response = _client().get(PROFILE)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_profile_works_with_a_session_too(tenant, api_client):
    client = api_client("participant")

    response = client.get(PROFILE)

    assert response.status_code == 200
    assert response.json()["email"] == client.user.email


def test_profile_patch_changes_name_and_language_only(tenant):
    user = UserFactory(first_name="Old", last_name="Name", role="participant")
    access = auth_tokens_issue(user=user).access

    response = _client(access=access).patch(
        PROFILE, {"first_name": "Bia", "preferred_language": "pt-br", "role": "owner", "email": "x@y.test"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["first_name"] == "Bia"
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.preferred_language) == ("Bia", "Name", "pt-br")
    assert user.role == "participant"
    assert user.email != "x@y.test"


def test_profile_patch_refuses_an_unknown_language(tenant):
    user = UserFactory(preferred_language="en")
    access = auth_tokens_issue(user=user).access

    response = _client(access=access).patch(PROFILE, {"preferred_language": "klingon"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"preferred_language"}
    user.refresh_from_db()
    assert user.preferred_language == "en"


# ------------------------------------------------------------------------------------------ register


def _register(client: APIClient, **overrides):  # type: ignore[no-untyped-def]
    payload = {"email": "new.person@example.test", "password": STRONG_PASSWORD, "role": "analyst",
               "first_name": "New", "preferred_language": "es", **overrides}
    return client.post(REGISTER, payload, format="json")


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_register_by_owner_or_admin_creates_the_user(tenant, role):
    actor = UserFactory(role=role)

    response = _register(_client(access=auth_tokens_issue(user=actor).access))

    assert response.status_code == 201, response.content
    assert response.json()["email"] == "new.person@example.test"
    created = User.objects.get(email="new.person@example.test")
    assert (created.role, created.first_name, created.preferred_language) == ("analyst", "New", "es")
    assert created.check_password(STRONG_PASSWORD)


def test_register_owner_may_create_an_owner_but_admin_may_not(tenant):
    owner_access = auth_tokens_issue(user=UserFactory(role="owner")).access
    admin_access = auth_tokens_issue(user=UserFactory(role="admin")).access

    by_admin = _register(_client(access=admin_access), email="o1@example.test", role="owner")
    by_owner = _register(_client(access=owner_access), email="o2@example.test", role="owner")

    assert by_admin.status_code == 403
    assert by_admin.json()["error"]["code"] == "permission_denied"
    assert not User.objects.filter(email="o1@example.test").exists()
    assert by_owner.status_code == 201


@pytest.mark.parametrize("role", ["manager", "analyst", "participant"])
def test_register_by_other_roles_is_403(tenant, role):
    access = auth_tokens_issue(user=UserFactory(role=role)).access

    response = _register(_client(access=access))

    assert response.status_code == 403
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_register_anonymous_is_401(tenant):
    response = _register(_client())

    assert response.status_code == 401
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_register_duplicate_email_is_409(tenant):
    UserFactory(email="new.person@example.test")
    access = auth_tokens_issue(user=UserFactory(role="admin")).access

    response = _register(_client(access=access), email="New.Person@example.test")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "user_exists"
    assert User.objects.filter(email__iexact="new.person@example.test").count() == 1


@pytest.mark.parametrize(("overrides", "bad_field"), [
    ({"email": "nope"}, "email"),
    ({"role": "emperor"}, "role"),
    ({"password": ""}, "password"),
    ({"password": "short"}, "password"),
    ({"preferred_language": "xx"}, "preferred_language"),
])
def test_register_bad_input_is_400_with_the_field(tenant, overrides, bad_field):
    access = auth_tokens_issue(user=UserFactory(role="owner")).access
    users_before = User.objects.count()

    response = _register(_client(access=access), **overrides)

    assert response.status_code == 400
    assert bad_field in response.json()["error"]["fields"]
    assert User.objects.count() == users_before


# ------------------------------------------------------------------------------------------ tenants


@pytest.mark.parametrize(("method", "url"), [("get", PROFILE), ("patch", PROFILE), ("post", REGISTER)])
def test_a_jwt_of_alpha_is_refused_on_beta(tenant, method, url):
    owner = UserFactory(role="owner")
    access = auth_tokens_issue(user=owner).access

    response = getattr(_client(BETA, access=access), method)(url, {"email": "b@example.test"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_tenant"
    with schema_context("beta"):
        assert not User.objects.filter(email="b@example.test").exists()


@pytest.mark.parametrize(("method", "url"), [("get", PROFILE), ("patch", PROFILE), ("post", REGISTER)])
def test_a_session_of_alpha_is_refused_on_beta(tenant, api_client, method, url):
    client = api_client("owner")
    assert client.get(PROFILE).status_code == 200

    response = getattr(client, method)(url, {"email": "b@example.test", "first_name": "Hacked"}, format="json",
                                       HTTP_HOST=BETA)

    assert response.status_code == 401, response.content
    with schema_context("beta"):
        assert not User.objects.filter(email="b@example.test").exists()


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
def test_a_refresh_token_of_alpha_is_refused_on_beta(tenant, url):
    pair = auth_tokens_issue(user=UserFactory())

    response = _client(BETA).post(url, {"refresh": pair.refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_tenant"
    with schema_context("alpha"):
        assert not BlacklistedToken.objects.exists()
        # Still usable on its own tenant.
        assert _client(ALPHA).post(REFRESH, {"refresh": pair.refresh}, format="json").status_code == 200
    with schema_context("beta"):
        assert not OutstandingToken.objects.exists()


def test_login_on_beta_does_not_know_alphas_users(tenant):
    UserFactory(email="alpha-only@example.test")

    response = _login(_client(BETA), "alpha-only@example.test")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


# ------------------------------------------------------------------------------------------ schema


def test_the_auth_endpoints_are_documented_under_their_tag(tenant):
    response = _client().get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {LOGIN: ["post"], LOGOUT: ["post"], REFRESH: ["post"], PROFILE: ["get", "patch"],
                REGISTER: ["post"]}
    for path, methods in expected.items():
        for method in methods:
            operation = paths[path][method]
            assert operation["tags"] == ["Authentication & Authorization"], (path, method)
            assert "400" in operation["responses"] or method == "get"
    login = paths[LOGIN]["post"]
    assert set(login["responses"]) >= {"200", "400", "401", "429"}
    assert login["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("AuthLoginInputRequest")


# ------------------------------------------------------------------------------------------ OAuth2 partner tokens


def _oauth2_token(*, scope: str, user: User | None) -> str:
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    application = Application.objects.create(name="Partner", client_type="confidential",
                                             authorization_grant_type="client-credentials")
    token = AccessToken.objects.create(user=user, application=application, scope=scope, token=f"tok-{scope}-{user}",
                                       expires=timezone.now() + timedelta(hours=1))
    return token.token


def test_profile_with_an_oauth2_token_of_a_user_and_profile_scope(tenant):
    user = UserFactory(role="participant")

    response = _client(access=_oauth2_token(scope="profile:read", user=user)).get(PROFILE)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


def test_profile_with_an_oauth2_token_refuses_writes_and_missing_scope(tenant):
    user = UserFactory(first_name="Kept")

    patch = _client(access=_oauth2_token(scope="profile:read", user=user)).patch(
        PROFILE, {"first_name": "Changed"}, format="json")
    no_scope = _client(access=_oauth2_token(scope="loyalty:read", user=user)).get(PROFILE)

    assert patch.status_code == 403
    assert no_scope.status_code == 403
    assert no_scope.json()["error"]["code"] == "insufficient_scope"
    user.refresh_from_db()
    assert user.first_name == "Kept"


def test_profile_with_a_client_credentials_token_is_403_not_500(tenant):
    response = _client(access=_oauth2_token(scope="profile:read", user=None)).get(PROFILE)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_user"


def test_register_with_an_oauth2_token_is_refused(tenant):
    owner = UserFactory(role="owner")

    response = _register(_client(access=_oauth2_token(scope="profile:read", user=owner)))

    assert response.status_code == 403
    assert not User.objects.filter(email="new.person@example.test").exists()
