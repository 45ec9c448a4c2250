"""JWT authentication bound to a tenant: a token minted on one tenant's host is refused on another's.

The token's user is looked up once per ``AUTH_USER_CACHE_SECONDS`` (5 s by default; 0 looks it up on every
request) per process and tenant, not on every request. Saving or deleting a user drops it from this
process's cache at once; other processes see a deactivation, a role change or a deletion within the TTL.

A token's signature and claims are verified once per ``AUTH_TOKEN_CACHE_SECONDS`` (60 s; 0: every request)
per process and tenant, keyed by its SHA-256; its expiry is checked on every request. (Access tokens cannot
be revoked before they expire; what can change, the user, is checked as above.)
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from apps.accounts.tokens import TENANT_CLAIM
from apps.core.local_cache import LocalCache, model_copy

__all__ = ["TENANT_CLAIM", "TenantJWTAuthentication", "token_users", "validated_tokens"]

# (schema, user id) → the user row, or None when there is no such user.
token_users = LocalCache("jwt-users", ttl_setting="AUTH_USER_CACHE_SECONDS", default_ttl=5)
# (schema, SHA-256 of the raw token) → the token, verified for that tenant. A token that fails is never kept.
validated_tokens = LocalCache("jwt-tokens", ttl_setting="AUTH_TOKEN_CACHE_SECONDS", default_ttl=60)


def _user_changed(sender: Any, instance: Any, **_kwargs: Any) -> None:
    token_users.discard(str(instance.pk))


post_save.connect(_user_changed, sender=get_user_model(), dispatch_uid="accounts_token_users_save")
post_delete.connect(_user_changed, sender=get_user_model(), dispatch_uid="accounts_token_users_delete")


class TenantJWTAuthentication(JWTAuthentication):
    # DRF makes its authenticators anew for every request, and simplejwt's __init__ looks the user model up in
    # the app registry each time (about 3 % of a balance read): the model is fixed once the apps are loaded.
    user_model = get_user_model()

    def __init__(self) -> None:
        super(JWTAuthentication, self).__init__()

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        try:
            return super().authenticate(request)
        except (InvalidToken, JWTAuthenticationFailed) as exc:
            # simplejwt's errors carry a dict detail, which the one error shape cannot read: re-raise them as
            # DRF's plain AuthenticationFailed with their message and code (token_not_valid, user_not_found...).
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            # str(): an ErrorDetail message would keep its own generic code.
            raise exceptions.AuthenticationFailed(
                str(detail.get("detail") or _("The token is not valid or has expired.")),
                code=str(detail.get("code") or "token_not_valid"),
            ) from exc

    def get_validated_token(self, raw_token: bytes):  # type: ignore[no-untyped-def]
        digest = hashlib.sha256(raw_token).digest()
        token = validated_tokens.get_or_load(digest, lambda: self._verify(raw_token))
        try:
            token.check_exp(current_time=aware_utcnow())  # not the time the cached token was verified at
        except TokenError:
            validated_tokens.discard(digest)
            return self._verify(raw_token)  # refused with simplejwt's own answer
        return token

    def _verify(self, raw_token: bytes):  # type: ignore[no-untyped-def]
        token = super().get_validated_token(raw_token)
        if token.get(TENANT_CLAIM) != connection.schema_name:
            raise exceptions.AuthenticationFailed(_("This token was not issued for this tenant."), code="wrong_tenant")
        return token

    def get_user(self, validated_token: Any) -> Any:
        """simplejwt's checks (user exists, is active, password unchanged when revocation is on) on the
        cached row; a copy per request, so nothing a request sets on its user reaches another."""
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        user = token_users.get_or_load(str(user_id), lambda: self.user_model.objects.filter(
            **{api_settings.USER_ID_FIELD: user_id}).first())
        if user is None:
            raise JWTAuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise JWTAuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise JWTAuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return model_copy(user)
