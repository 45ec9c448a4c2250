"""Websocket middleware: the tenant from the Host header, then the user in that tenant's schema.

HTTP goes through django-tenants' middleware; websockets never do, so these two do the same job for them.
A refused socket is accepted and closed at once with an application close code (4401 not authenticated,
4403 tenant suspended, 4404 unknown host or path): a browser never sees the code of a socket closed
before the handshake completes, so it could not tell "sign in again" from "wrong address".
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from types import SimpleNamespace
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth import get_user
from django.db import connection
from django.http.cookie import parse_cookie
from django_tenants.utils import get_public_schema_name, remove_www
from rest_framework.exceptions import AuthenticationFailed

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
BEARER_SUBPROTOCOL = "bearer"

T = TypeVar("T")


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1")
    return ""


def _hostname(value: str) -> str:
    return remove_www(value.split(":")[0].strip().lower().rstrip("."))


async def websocket_refuse(scope: dict[str, Any], receive: Callable, send: Callable, *, code: int) -> None:
    """Complete the handshake and close straight away with ``code`` (see the module docstring)."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    accept: dict[str, Any] = {"type": "websocket.accept"}
    # A browser that offered subprotocols fails a handshake that picks none, and the close code would be lost.
    if BEARER_SUBPROTOCOL in scope.get("subprotocols", []):
        accept["subprotocol"] = BEARER_SUBPROTOCOL
    await send(accept)
    await send({"type": "websocket.close", "code": code})


def _call_in_schema(tenant: Any, func: Callable[..., T], args: tuple, kwargs: dict) -> T:
    connection.set_tenant(tenant)
    try:
        return func(*args, **kwargs)
    finally:
        connection.set_schema_to_public()


async def in_tenant_schema(tenant: Any, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the synchronous ``func`` in Channels' database thread with the connection in ``tenant``'s schema.

    That thread serves every tenant in turn, so the schema is set on every call, never assumed."""
    return await database_sync_to_async(_call_in_schema)(tenant, func, args, kwargs)


def _tenant_for_host(hostname: str) -> Any:
    from apps.tenants.selectors import tenant_get_by_host

    connection.set_schema_to_public()
    tenant = tenant_get_by_host(host=hostname) if hostname else None
    if tenant is None or tenant.schema_name in (get_public_schema_name(), settings.TENANT_BASE_SCHEMA):
        return None
    return tenant


class TenantWebsocketMiddleware(BaseMiddleware):
    """Puts ``scope["tenant"]`` (the Client whose Domain matches the Host header); refuses unknown hosts
    and the public site with 4404, suspended tenants with 4403."""

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> Any:
        from apps.tenants.models import Client

        tenant = await database_sync_to_async(_tenant_for_host)(_hostname(_header(scope, b"host")))
        if tenant is None:
            return await websocket_refuse(scope, receive, send, code=CLOSE_NOT_FOUND)
        if tenant.status != Client.Status.ACTIVE:
            return await websocket_refuse(scope, receive, send, code=CLOSE_FORBIDDEN)
        return await self.inner(dict(scope, tenant=tenant), receive, send)


def _offered_token(scope: dict[str, Any]) -> str | None:
    """A JWT offered as the subprotocol pair ``bearer, <token>`` or as ``?token=``; None when none is."""
    subprotocols = list(scope.get("subprotocols") or [])
    if BEARER_SUBPROTOCOL in subprotocols:
        index = subprotocols.index(BEARER_SUBPROTOCOL)
        return subprotocols[index + 1] if index + 1 < len(subprotocols) else ""
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get("token")
    return values[0] if values else None


def _user_from_token(raw_token: str) -> Any:
    from apps.accounts.authentication import TenantJWTAuthentication

    authentication = TenantJWTAuthentication()
    try:
        # Checks signature, expiry, token type and that the token's tenant claim is this schema.
        validated = authentication.get_validated_token(raw_token.encode())
        return authentication.get_user(validated)
    except AuthenticationFailed:
        return None


def _user_from_session(session_key: str) -> Any:
    engine = import_module(settings.SESSION_ENGINE)
    request = SimpleNamespace(session=engine.SessionStore(session_key))
    # The same checks as a request: the session exists and is unexpired, the backend still knows the user,
    # the user is active and the session's password hash still matches.
    user = get_user(request)  # type: ignore[arg-type]
    return user if user.is_authenticated else None


def _same_origin(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    if not origin:
        return False
    return _hostname(urlparse(origin).netloc) == _hostname(_header(scope, b"host"))


class WebsocketAuthMiddleware(BaseMiddleware):
    """Puts ``scope["user"]``, authenticated in the tenant's schema by a JWT (subprotocol or query string)
    or else the session cookie; refuses everything else with 4401. An offered but invalid token is refused,
    never silently replaced by the cookie. The cookie only counts on a same-origin socket, so that another
    site the browser visits cannot ride the user's session."""

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> Any:
        tenant = scope.get("tenant")
        user = None
        if tenant is not None:
            token = _offered_token(scope)
            if token is not None:
                user = await in_tenant_schema(tenant, _user_from_token, token) if token else None
            else:
                session_key = parse_cookie(_header(scope, b"cookie")).get(settings.SESSION_COOKIE_NAME)
                if session_key and _same_origin(scope):
                    user = await in_tenant_schema(tenant, _user_from_session, session_key)
        if user is None:
            return await websocket_refuse(scope, receive, send, code=CLOSE_UNAUTHENTICATED)
        return await self.inner(dict(scope, user=user), receive, send)


__all__ = [
    "CLOSE_FORBIDDEN",
    "CLOSE_NOT_FOUND",
    "CLOSE_UNAUTHENTICATED",
    "TenantWebsocketMiddleware",
    "WebsocketAuthMiddleware",
    "in_tenant_schema",
    "websocket_refuse",
]
