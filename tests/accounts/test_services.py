from __future__ import annotations

import jwt
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.errors import AuthenticationError, PermissionDeniedError
from apps.accounts.models import User
from apps.accounts.services import (
    auth_login,
    auth_logout,
    auth_refresh,
    auth_tokens_issue,
    user_create,
    user_profile_update,
    user_register,
)
from apps.core.errors import ApplicationError, ConflictError
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory, mfa_enable, totp_code

STRONG_PASSWORD = "Blue-lantern-8841"


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# ------------------------------------------------------------------------------------------ user_register


@pytest.mark.parametrize("actor_role", ["owner", "admin"])
def test_user_register_by_owner_or_admin_creates_an_unverified_user(tenant, actor_role):
    actor = UserFactory(role=actor_role)

    user = user_register(actor=actor, email=" New.Person@Example.test ", password=STRONG_PASSWORD,
                         role="manager", first_name="Ana", preferred_language="pt-br")

    stored = User.objects.get(pk=user.pk)
    assert stored.email == "new.person@example.test"
    assert stored.role == "manager"
    assert stored.preferred_language == "pt-br"
    assert stored.check_password(STRONG_PASSWORD)
    assert EmailAddress.objects.get(user=stored).verified is False


def test_user_register_admin_cannot_create_an_owner(tenant):
    admin = UserFactory(role="admin")

    with pytest.raises(PermissionDeniedError) as exc:
        user_register(actor=admin, email="boss@example.test", password=STRONG_PASSWORD, role="owner")

    assert exc.value.status_code == 403
    assert "role" in exc.value.fields
    assert not User.objects.filter(email="boss@example.test").exists()


def test_user_register_owner_can_create_an_owner(tenant):
    owner = UserFactory(role="owner")

    user = user_register(actor=owner, email="co-owner@example.test", password=STRONG_PASSWORD, role="owner")

    assert user.role == "owner"
    assert user.is_superuser


@pytest.mark.parametrize("actor_role", ["manager", "analyst", "participant"])
def test_user_register_refuses_other_roles(tenant, actor_role):
    actor = UserFactory(role=actor_role)

    with pytest.raises(PermissionDeniedError):
        user_register(actor=actor, email="x@example.test", password=STRONG_PASSWORD, role="participant")

    assert not User.objects.filter(email="x@example.test").exists()


def test_user_register_refuses_a_duplicate_email_case_insensitively(tenant):
    admin = UserFactory(role="admin")
    UserFactory(email="taken@example.test")

    with pytest.raises(ConflictError) as exc:
        user_register(actor=admin, email="TAKEN@example.test", password=STRONG_PASSWORD, role="participant")

    assert exc.value.status_code == 409
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1


def test_user_register_validates_the_password(tenant):
    admin = UserFactory(role="admin")

    with pytest.raises(ApplicationError) as exc:
        user_register(actor=admin, email="weak@example.test", password="12345", role="participant")

    assert exc.value.code == "weak_password"
    assert exc.value.fields["password"]
    assert not User.objects.filter(email="weak@example.test").exists()


# ------------------------------------------------------------------------------------------ user_profile_update


def test_user_profile_update_changes_only_given_fields(tenant):
    user = UserFactory(first_name="Old", last_name="Name", preferred_language="en")

    user_profile_update(user=user, first_name=" Maria ", preferred_language="es")

    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.preferred_language) == ("Maria", "Name", "es")


def test_user_profile_update_refuses_an_unknown_language(tenant):
    user = UserFactory(preferred_language="en")

    with pytest.raises(ApplicationError) as exc:
        user_profile_update(user=user, preferred_language="xx")

    assert "preferred_language" in exc.value.fields
    user.refresh_from_db()
    assert user.preferred_language == "en"


# ------------------------------------------------------------------------------------------ tokens


def test_auth_tokens_issue_binds_both_tokens_to_the_tenant_and_records_the_refresh(tenant):
    user = UserFactory()

    pair = auth_tokens_issue(user=user)

    access, refresh = _claims(pair.access), _claims(pair.refresh)
    assert access["tenant"] == refresh["tenant"] == "alpha"
    assert access["user_id"] == refresh["user_id"] == str(user.pk)
    assert access["token_type"] == "access"
    assert pair.expires_in == int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    outstanding = OutstandingToken.objects.get(jti=refresh["jti"])
    assert outstanding.user == user
    assert _claims(outstanding.token)["tenant"] == "alpha"


# ------------------------------------------------------------------------------------------ auth_login


def test_auth_login_with_the_right_password_issues_tokens_and_stamps_last_login(tenant):
    user = UserFactory(email="ok@example.test")
    assert user.last_login is None

    session = auth_login(email=" OK@Example.test", password=DEFAULT_PASSWORD)

    assert session.user == user
    user.refresh_from_db()
    assert user.last_login is not None
    assert OutstandingToken.objects.filter(user=user, jti=_claims(session.tokens.refresh)["jti"]).exists()


@pytest.mark.parametrize(("email", "password"), [
    ("known@example.test", "wrong-password"),
    ("nobody@example.test", DEFAULT_PASSWORD),
])
def test_auth_login_refuses_wrong_credentials_with_one_message_and_writes_nothing(tenant, email, password):
    UserFactory(email="known@example.test")

    with pytest.raises(AuthenticationError) as exc:
        auth_login(email=email, password=password)

    assert exc.value.code == "invalid_credentials"
    assert str(exc.value) == "The email or password is not correct."
    assert not OutstandingToken.objects.exists()
    assert User.objects.get(email="known@example.test").last_login is None


def test_auth_login_refuses_an_inactive_user_like_wrong_credentials(tenant):
    UserFactory(email="gone@example.test", is_active=False)

    with pytest.raises(AuthenticationError) as exc:
        auth_login(email="gone@example.test", password=DEFAULT_PASSWORD)

    assert exc.value.code == "invalid_credentials"
    assert not OutstandingToken.objects.exists()


def test_auth_login_refuses_an_unverified_email_when_verification_is_mandatory(tenant):
    owner = UserFactory(role="owner")
    user = user_register(actor=owner, email="fresh@example.test", password=STRONG_PASSWORD, role="participant")

    with pytest.raises(PermissionDeniedError) as exc:
        auth_login(email="fresh@example.test", password=STRONG_PASSWORD)

    assert exc.value.code == "email_unverified"
    user.refresh_from_db()
    assert user.last_login is None
    assert not OutstandingToken.objects.exists()


def test_auth_login_asks_for_the_mfa_code_and_writes_nothing(tenant):
    user = UserFactory(email="mfa@example.test")
    mfa_enable(user)

    with pytest.raises(AuthenticationError) as exc:
        auth_login(email="mfa@example.test", password=DEFAULT_PASSWORD)

    assert exc.value.code == "mfa_required"
    assert "mfa_code" in exc.value.fields
    user.refresh_from_db()
    assert user.last_login is None
    assert not OutstandingToken.objects.exists()


def test_auth_login_accepts_a_current_totp_code_once(tenant):
    user = UserFactory(email="mfa@example.test")
    secret, _codes = mfa_enable(user)
    code = totp_code(secret)

    session = auth_login(email="mfa@example.test", password=DEFAULT_PASSWORD, mfa_code=code)

    assert session.user == user
    assert Authenticator.objects.get(user=user, type="totp").last_used_at is not None
    # The same code replayed within its period is refused (allauth marks it used).
    with pytest.raises(AuthenticationError) as exc:
        auth_login(email="mfa@example.test", password=DEFAULT_PASSWORD, mfa_code=code)
    assert exc.value.code == "invalid_mfa_code"


def test_auth_login_refuses_a_wrong_mfa_code_and_spends_nothing(tenant):
    user = UserFactory(email="mfa@example.test")
    secret, codes = mfa_enable(user)
    wrong = totp_code(secret, offset_periods=20)

    with pytest.raises(AuthenticationError) as exc:
        auth_login(email="mfa@example.test", password=DEFAULT_PASSWORD, mfa_code=wrong)

    assert exc.value.code == "invalid_mfa_code"
    recovery = Authenticator.objects.get(user=user, type="recovery_codes")
    assert recovery.wrap().get_unused_codes() == codes
    assert recovery.last_used_at is None
    user.refresh_from_db()
    assert user.last_login is None
    assert not OutstandingToken.objects.exists()


def test_auth_login_accepts_a_recovery_code_only_once(tenant):
    user = UserFactory(email="mfa@example.test")
    _secret, codes = mfa_enable(user)

    auth_login(email="mfa@example.test", password=DEFAULT_PASSWORD, mfa_code=codes[0])

    recovery = Authenticator.objects.get(user=user, type="recovery_codes")
    assert codes[0] not in recovery.wrap().get_unused_codes()
    assert len(recovery.wrap().get_unused_codes()) == len(codes) - 1
    with pytest.raises(AuthenticationError):
        auth_login(email="mfa@example.test", password=DEFAULT_PASSWORD, mfa_code=codes[0])
    auth_login(email="mfa@example.test", password=DEFAULT_PASSWORD, mfa_code=codes[1])


# ------------------------------------------------------------------------------------------ refresh / logout


def test_auth_refresh_rotates_and_revokes_the_old_refresh_token(tenant):
    user = UserFactory()
    first = auth_tokens_issue(user=user)

    second = auth_refresh(refresh=first.refresh)

    assert second.refresh != first.refresh
    assert _claims(second.refresh)["tenant"] == "alpha"
    assert BlacklistedToken.objects.filter(token__jti=_claims(first.refresh)["jti"]).exists()
    with pytest.raises(AuthenticationError) as exc:
        auth_refresh(refresh=first.refresh)
    assert exc.value.code == "token_not_valid"
    assert OutstandingToken.objects.count() == 2


def test_auth_refresh_refuses_an_access_token(tenant):
    pair = auth_tokens_issue(user=UserFactory())

    with pytest.raises(AuthenticationError):
        auth_refresh(refresh=pair.access)

    assert not BlacklistedToken.objects.exists()


def test_auth_refresh_refuses_a_deactivated_user(tenant):
    user = UserFactory()
    pair = auth_tokens_issue(user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(AuthenticationError) as exc:
        auth_refresh(refresh=pair.refresh)

    assert exc.value.code == "no_active_account"
    assert not BlacklistedToken.objects.exists()
    assert OutstandingToken.objects.count() == 1


def test_auth_refresh_refuses_a_refresh_token_of_another_tenant(tenant):
    with schema_context("beta"):
        beta_pair = auth_tokens_issue(user=UserFactory())
    assert connection.schema_name == "alpha"

    with pytest.raises(AuthenticationError) as exc:
        auth_refresh(refresh=beta_pair.refresh)

    assert exc.value.code == "wrong_tenant"
    assert not OutstandingToken.objects.exists()
    with schema_context("beta"):
        assert not BlacklistedToken.objects.exists()


def test_auth_logout_revokes_the_refresh_token(tenant):
    pair = auth_tokens_issue(user=UserFactory())

    auth_logout(refresh=pair.refresh)

    assert BlacklistedToken.objects.filter(token__jti=_claims(pair.refresh)["jti"]).exists()
    with pytest.raises(AuthenticationError):
        auth_refresh(refresh=pair.refresh)
    with pytest.raises(AuthenticationError):
        auth_logout(refresh=pair.refresh)
    assert BlacklistedToken.objects.count() == 1


def test_user_create_is_unchanged_for_provisioning(tenant):
    user = user_create(email="Provisioned@Example.test", password=None, role="admin", email_verified=True)

    assert user.email == "provisioned@example.test"
    assert user.is_staff
    assert not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified
