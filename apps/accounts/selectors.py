"""Account reads: users of the current schema, their email verification and their second factors."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.db.models import QuerySet

from apps.accounts.models import User


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def user_list(*, role: str | None = None) -> QuerySet[User]:
    qs = User.objects.all().order_by("email")
    return qs.filter(role=role) if role else qs


def user_email_is_verified(*, user: User) -> bool:
    """True when the user's login email has been confirmed (allauth's EmailAddress record)."""
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def user_authenticators(*, user: User) -> list[Authenticator]:
    """The user's code-based second factors (TOTP first, then recovery codes); WebAuthn cannot take a typed code."""
    authenticators = Authenticator.objects.filter(
        user=user, type__in=(Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES)
    )
    return sorted(authenticators, key=lambda auth: auth.type != Authenticator.Type.TOTP)


def user_mfa_enabled(*, user: User) -> bool:
    """The same rule as allauth's browser login: a TOTP (or WebAuthn) authenticator makes a second factor due;
    recovery codes only ever back one up."""
    return is_mfa_enabled(user, [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])


def user_recovery_codes_unused_count(*, user: User) -> int | None:
    """How many recovery codes the user has left, or None when they have none set up."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
    if authenticator is None:
        return None
    return len(authenticator.wrap().get_unused_codes())
