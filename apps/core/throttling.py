"""Throttles backed by the Redis cache, keyed per tenant (the cache key function adds the schema)."""

from __future__ import annotations

from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    """Per authenticated user."""

    scope = "user"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ClientRateThrottle(throttling.SimpleRateThrottle):
    """Per partner client: the OAuth2 application or API key the request was made with."""

    scope = "client"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        token = getattr(request, "auth", None)
        application = getattr(token, "application", None)
        client_id = getattr(application, "client_id", None)
        if not client_id:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_id}


class AnonRateThrottle(throttling.AnonRateThrottle):
    scope = "anon"
