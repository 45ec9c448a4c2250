"""Domain errors: raised by services, turned into the one API error shape by the API layer."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request that the domain refuses. ``code`` is stable for clients; ``message`` is translated."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code


class ConflictError(ApplicationError):
    status_code = 409
    default_code = "conflict"


class UnprocessableError(ApplicationError):
    status_code = 422
    default_code = "unprocessable"


class NotFoundError(ApplicationError):
    status_code = 404
    default_code = "not_found"
