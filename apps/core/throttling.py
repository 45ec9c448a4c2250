"""Throttles backed by the Redis cache, keyed per tenant (the cache key function adds the schema)."""

from __future__ import annotations

from typing import Any

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
        ident = client_ident(getattr(request, "auth", None))
        if not ident:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Per IP, for requests with no credentials at all (partner clients have their own budget)."""

    scope = "anon"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        if client_ident(getattr(request, "auth", None)):
            return None
        return super().get_cache_key(request, view)


def client_ident(auth: Any) -> str | None:
    """``oauth:<client_id>`` for an OAuth2 token, ``apikey:<prefix>`` for an API key, else None."""
    application = getattr(auth, "application", None)
    client_id = getattr(application, "client_id", None)
    if client_id:
        return f"oauth:{client_id}"
    ident = getattr(auth, "client_ident", None)
    return str(ident) if ident else None
