"""``Authorization: Api-Key <key>`` (or ``X-API-Key: <key>``) for partner integrations.

``request.user`` is anonymous (a key belongs to the tenant, not to a person) and ``request.auth`` is the
APIKey, which exposes its scopes like an OAuth2 access token so ScopedRolePermission treats both alike.

A presented key's row is looked up once per ``AUTH_API_KEY_CACHE_SECONDS`` (5 s by default; 0: every request)
per process and tenant, keyed by the key's SHA-256 (the raw key is never kept). Expiry is checked on every
request; revoking, editing or deleting a key drops it from this process's cache at once, and other processes
stop accepting a revoked key within the TTL.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from apps.core.local_cache import LocalCache
from apps.developer.models import APIKey
from apps.developer.selectors import api_key_get_by_raw_key, api_key_hash
from apps.developer.services import api_key_touch

KEYWORD = "Api-Key"
HEADER = "X-API-Key"

# (schema, SHA-256 of the presented key) → the APIKey row, or None for a key that matches none.
api_keys = LocalCache("api-keys", ttl_setting="AUTH_API_KEY_CACHE_SECONDS", default_ttl=5)


def _api_key_changed(sender: Any, instance: APIKey, **_kwargs: Any) -> None:
    api_keys.discard(instance.key_hash)


post_save.connect(_api_key_changed, sender=APIKey, dispatch_uid="developer_api_keys_save")
post_delete.connect(_api_key_changed, sender=APIKey, dispatch_uid="developer_api_keys_delete")


class APIKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):  # type: ignore[no-untyped-def]
        raw_key = self._raw_key(request)
        if raw_key is None:
            return None
        # The active check runs on the cached row too: a key that expired meanwhile is refused at once.
        api_key = api_keys.get_or_load(api_key_hash(raw_key=raw_key.strip()),
                                       lambda: api_key_get_by_raw_key(raw_key=raw_key))
        if api_key is None or not api_key.is_active:
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
