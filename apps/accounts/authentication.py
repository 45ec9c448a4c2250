"""JWT authentication bound to a tenant: a token minted on one tenant's host is refused on another's."""

from __future__ import annotations

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

TENANT_CLAIM = "tenant"


class TenantJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes):  # type: ignore[no-untyped-def]
        token = super().get_validated_token(raw_token)
        if token.get(TENANT_CLAIM) != connection.schema_name:
            raise AuthenticationFailed(_("This token was not issued for this tenant."), code="wrong_tenant")
        return token
