"""JWT authentication bound to a tenant: a token minted on one tenant's host is refused on another's."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken

from apps.accounts.tokens import TENANT_CLAIM

__all__ = ["TENANT_CLAIM", "TenantJWTAuthentication"]


class TenantJWTAuthentication(JWTAuthentication):
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
        token = super().get_validated_token(raw_token)
        if token.get(TENANT_CLAIM) != connection.schema_name:
            raise exceptions.AuthenticationFailed(_("This token was not issued for this tenant."), code="wrong_tenant")
        return token
