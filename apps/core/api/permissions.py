"""One permission for every tenant API endpoint: OAuth2 scopes for partner clients, roles for people.

A view declares::

    required_scopes = {"read": "loyalty:read", "write": "loyalty:write"}
    allowed_roles = {"read": {...}, "write": {...}}   # optional; defaults below

Safe methods need the "read" entry, every other method the "write" entry.

- A token or API key (``request.auth`` answers ``allow_scopes``) must carry the scope, else 403
  ``insufficient_scope``; a token issued to a user (authorization code) also needs that user's role.
- A signed-in user (session or JWT) must hold an allowed role, else 403 ``permission_denied``.
- Nobody authenticated: 401.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

READ = "read"
WRITE = "write"
DEFAULT_ALLOWED_ROLES: dict[str, frozenset[str]] = {
    READ: frozenset({"owner", "admin", "manager", "analyst"}),
    WRITE: frozenset({"owner", "admin", "manager"}),
}


def access_kind(method: str) -> str:
    return READ if method in SAFE_METHODS else WRITE


def is_scoped_credential(auth: Any) -> bool:
    """An OAuth2 access token or an API key: something that carries scopes."""
    return auth is not None and callable(getattr(auth, "allow_scopes", None))


def required_scope(view: Any, method: str) -> str | None:
    return (getattr(view, "required_scopes", None) or {}).get(access_kind(method))


def allowed_roles(view: Any, method: str) -> frozenset[str]:
    kind = access_kind(method)
    roles = (getattr(view, "allowed_roles", None) or {}).get(kind)
    return frozenset(roles) if roles is not None else DEFAULT_ALLOWED_ROLES[kind]


class InsufficientScope(exceptions.PermissionDenied):
    default_detail = _("The token or API key does not carry the scope this action needs.")
    default_code = "insufficient_scope"


class ScopedRolePermission(BasePermission):
    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        user = getattr(request, "user", None)
        user_authenticated = bool(user is not None and user.is_authenticated)
        auth = getattr(request, "auth", None)

        if is_scoped_credential(auth):
            scope = required_scope(view, request.method)
            # A view that names no scope for this kind of access is not open to partner clients.
            if not scope or not auth.allow_scopes([scope]):
                raise InsufficientScope()
            if user_authenticated:
                self._check_role(user, view, request.method)
            return True

        if not user_authenticated:
            return False  # DRF answers 401: no authenticator succeeded
        self._check_role(user, view, request.method)
        return True

    @staticmethod
    def _check_role(user: Any, view: Any, method: str) -> None:
        if getattr(user, "role", None) not in allowed_roles(view, method):
            raise exceptions.PermissionDenied(_("Your role does not allow this action."), code="permission_denied")
