"""Errors of sign-in and access: 401 when the caller is not who they claim, 403 when they may not act."""

from __future__ import annotations

from apps.core.errors import ApplicationError


class AuthenticationError(ApplicationError):
    status_code = 401
    default_code = "not_authenticated"


class PermissionDeniedError(ApplicationError):
    status_code = 403
    default_code = "permission_denied"
