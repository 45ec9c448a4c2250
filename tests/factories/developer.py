"""Partner credentials for tests, issued through the real services (so secrets are hashed as in production)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable

from django.test import Client as DjangoClient

from apps.developer.services import (
    IssuedAPIKey,
    RegisteredApplication,
    api_key_create,
    partner_application_create,
)


def api_key_issue(*, scopes: Iterable[str] = ("developer:read",), name: str = "Partner key",
                  created_by=None) -> IssuedAPIKey:  # type: ignore[no-untyped-def]
    return api_key_create(name=name, scopes=list(scopes), created_by=created_by)


def oauth_application_register(
    *, scopes: Iterable[str] = ("developer:read",), grant_type: str = "client-credentials",
    client_type: str = "confidential", redirect_uris: Iterable[str] = (), name: str = "Partner app",
) -> RegisteredApplication:
    return partner_application_create(name=name, scopes=list(scopes), grant_type=grant_type,
                                      client_type=client_type, redirect_uris=list(redirect_uris))


def client_credentials_token(*, host: str, client_id: str, client_secret: str, scope: str | None = None):  # type: ignore[no-untyped-def]
    """POST /o/token/ with HTTP Basic client authentication, as a partner would."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return DjangoClient(HTTP_HOST=host).post("/o/token/", data=data, HTTP_AUTHORIZATION=f"Basic {basic}")


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge
