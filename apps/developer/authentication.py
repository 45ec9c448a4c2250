"""``Authorization: Api-Key <key>`` (or ``X-API-Key: <key>``) for partner integrations.

``request.user`` is anonymous (a key belongs to the tenant, not to a person) and ``request.auth`` is the
APIKey, which exposes its scopes like an OAuth2 access token so ScopedRolePermission treats both alike.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from apps.developer.selectors import api_key_get_by_raw_key
from apps.developer.services import api_key_touch

KEYWORD = "Api-Key"
HEADER = "X-API-Key"


class APIKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):  # type: ignore[no-untyped-def]
        raw_key = self._raw_key(request)
        if raw_key is None:
            return None
        api_key = api_key_get_by_raw_key(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("The API key is not valid, has expired or was revoked."),
                                                  code="invalid_api_key")
        api_key_touch(api_key=api_key)
        return AnonymousUser(), api_key

    def authenticate_header(self, request) -> str:  # type: ignore[no-untyped-def]
        return f'{KEYWORD} realm="api"'

    @staticmethod
    def _raw_key(request) -> str | None:  # type: ignore[no-untyped-def]
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == KEYWORD.lower().encode():
            if len(parts) != 2:
                raise exceptions.AuthenticationFailed(_("Malformed Api-Key header."), code="invalid_api_key")
            try:
                return parts[1].decode()
            except UnicodeError as exc:
                raise exceptions.AuthenticationFailed(_("Malformed Api-Key header."), code="invalid_api_key") \
                    from exc
        header = request.META.get("HTTP_X_API_KEY")
        return header.strip() if header and header.strip() else None
