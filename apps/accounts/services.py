"""Account writes: users (with their allauth email record) and API sign-in with tenant-bound JWTs.

Sign-in refuses with ``AuthenticationError`` (401) and writes nothing when it refuses: no token is recorded,
``last_login`` is untouched and no recovery code is spent.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.errors import AuthenticationError, PermissionDeniedError
from apps.accounts.models import User
from apps.accounts.selectors import (
    user_authenticators,
    user_email_is_verified,
    user_get_by_email,
    user_mfa_enabled,
)
from apps.accounts.tokens import TENANT_CLAIM, TenantRefreshToken
from apps.core.crypto import secret_decrypt, secret_encrypt
from apps.core.errors import ApplicationError, ConflictError


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    role: str = User.Role.PARTICIPANT,
    first_name: str = "",
    last_name: str = "",
    preferred_language: str = "en",
    is_staff: bool = False,
    email_verified: bool = False,
    validate: bool = False,
) -> User:
    """Create a user in the current schema. Refuses a duplicate email (409) or an unknown role (400)."""
    email = (email or "").strip().lower()
    if role not in User.Role.values:
        raise ApplicationError(_("Unknown role."), code="invalid", fields={"role": [_("Unknown role.")]})
    if user_get_by_email(email=email):
        raise ConflictError(_("A user with this email already exists."), code="user_exists",
                            fields={"email": [_("Already registered.")]})
    user = User(email=email, role=role, first_name=first_name, last_name=last_name,
                preferred_language=preferred_language, is_staff=is_staff or role in ("owner", "admin"),
                is_superuser=role == User.Role.OWNER)
    if validate and password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ApplicationError(_("The password is too weak."), code="weak_password",
                                   fields={"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    return user


def user_register(
    *,
    actor: User,
    email: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    preferred_language: str = "en",
) -> User:
    """An owner or admin adds a user to this tenant (password checked by the validators). Only an owner may add
    an owner; anyone else is refused (403). The email starts unverified: the user confirms it on first sign-in."""
    if not actor.is_tenant_admin:
        raise PermissionDeniedError(_("Only an owner or an administrator can add users."))
    if role == User.Role.OWNER and actor.role != User.Role.OWNER:
        raise PermissionDeniedError(_("Only an owner can add another owner."),
                                    fields={"role": [_("You cannot give this role.")]})
    return user_create(email=email, password=password, role=role, first_name=first_name, last_name=last_name,
                       preferred_language=preferred_language, validate=True)


def user_profile_update(
    *,
    user: User,
    first_name: str | None = None,
    last_name: str | None = None,
    preferred_language: str | None = None,
) -> User:
    """Change the user's own name and language; fields left as None are kept."""
    changes: dict[str, str] = {}
    if first_name is not None:
        changes["first_name"] = first_name.strip()
    if last_name is not None:
        changes["last_name"] = last_name.strip()
    if preferred_language is not None:
        if preferred_language not in dict(settings.LANGUAGES):
            raise ApplicationError(_("Unknown language."), code="invalid",
                                   fields={"preferred_language": [_("Not a supported language.")]})
        changes["preferred_language"] = preferred_language
    for name, value in changes.items():
        setattr(user, name, value)
    if changes:
        user.save(update_fields=list(changes))
    return user


# ------------------------------------------------------------------------------------------ API sign-in


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class AuthSession:
    user: User
    tokens: TokenPair


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """Set a user's password (hashed); used by admins' tooling and the demo, never by the public API."""
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def _invalid_credentials() -> AuthenticationError:
    # One message whether the email exists or not, so the answer does not tell which emails are registered.
    return AuthenticationError(_("The email or password is not correct."), code="invalid_credentials")


def _mfa_check(*, user: User, code: str) -> None:
    """Accept a current TOTP code or an unused recovery code (which is then spent), via allauth.mfa's own
    authenticators; refuse a missing or wrong code with 401."""
    if not user_mfa_enabled(user=user):
        return
    if not code:
        raise AuthenticationError(
            _("This account uses two-factor authentication: enter the code from your authenticator app."),
            code="mfa_required",
            fields={"mfa_code": [_("A code from your authenticator app or a recovery code is required.")]},
        )
    for authenticator in user_authenticators(user=user):
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return
    raise AuthenticationError(_("The two-factor code is not valid."), code="invalid_mfa_code",
                              fields={"mfa_code": [_("Incorrect or already used code.")]})


def auth_tokens_issue(*, user: User) -> TokenPair:
    """A refresh token, recorded as outstanding so it can be revoked, and its access token; both carry the
    current tenant's schema in the ``tenant`` claim."""
    refresh = TenantRefreshToken.for_user(user)
    access_lifetime = jwt_settings.ACCESS_TOKEN_LIFETIME
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh),
                     expires_in=int(access_lifetime.total_seconds()))


@transaction.atomic
def auth_login(*, email: str, password: str, mfa_code: str = "") -> AuthSession:
    """Sign in with email and password, plus ``mfa_code`` when the user has a second factor, and issue a
    token pair. Refuses wrong credentials (401 ``invalid_credentials``), a missing or wrong second factor
    (401 ``mfa_required`` / ``invalid_mfa_code``) and an unconfirmed email when verification is mandatory
    (403 ``email_unverified``)."""
    user = authenticate(None, email=email.strip().lower(), password=password)
    if not isinstance(user, User):
        raise _invalid_credentials()
    if settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory" and not user_email_is_verified(user=user):
        raise PermissionDeniedError(
            _("Confirm your email address first: sign in once on the web to receive the confirmation email."),
            code="email_unverified",
        )
    _mfa_check(user=user, code=mfa_code.strip())
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return AuthSession(user=user, tokens=auth_tokens_issue(user=user))


def _refresh_token_read(*, raw: str) -> TenantRefreshToken:
    """Decode a refresh token of this tenant: signed by us, unexpired, not revoked, and issued on this host."""
    try:
        token = TenantRefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise AuthenticationError(_("The refresh token is not valid, has expired or was revoked."),
                                  code="token_not_valid") from exc
    if token.get(TENANT_CLAIM) != connection.schema_name:
        raise AuthenticationError(_("This token was not issued for this tenant."), code="wrong_tenant")
    return token


def _refresh_token_revoke(*, token: TenantRefreshToken) -> None:
    """Blacklist the token, under a row lock so two requests racing with the same token cannot both use it."""
    # order_by(): the model orders by its user's email, and a row lock cannot reach across that outer join.
    outstanding = (OutstandingToken.objects.select_for_update().filter(jti=token[jwt_settings.JTI_CLAIM])
                   .order_by().first())
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise AuthenticationError(_("The refresh token is not valid, has expired or was revoked."),
                                  code="token_not_valid")
    BlacklistedToken.objects.create(token=outstanding)


@transaction.atomic
def auth_refresh(*, refresh: str) -> TokenPair:
    """Rotate: the refresh token is revoked and a new pair is issued. Refuses (401) a token that is invalid,
    expired, already used, of another tenant, or whose user is gone or deactivated."""
    token = _refresh_token_read(raw=refresh)
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise AuthenticationError(_("No active account was found for this token."), code="no_active_account")
    _refresh_token_revoke(token=token)
    return auth_tokens_issue(user=user)


@transaction.atomic
def auth_logout(*, refresh: str) -> None:
    """Sign out of the API: revoke the refresh token. Access tokens already issued expire on their own."""
    _refresh_token_revoke(token=_refresh_token_read(raw=refresh))


SOCIAL_SECRET_PREFIX = "fernet:"


def social_app_secret_seal(*, secret: str) -> str:
    """What is stored in SocialApp.secret: the client secret encrypted at rest (already sealed stays as is)."""
    if not secret or secret.startswith(SOCIAL_SECRET_PREFIX):
        return secret
    return SOCIAL_SECRET_PREFIX + secret_encrypt(secret)


def social_app_secret_open(*, stored: str) -> str:
    """The client secret to send to the provider. Rows written before sealing existed are read as they are."""
    if stored.startswith(SOCIAL_SECRET_PREFIX):
        return secret_decrypt(stored[len(SOCIAL_SECRET_PREFIX):])
    return stored
