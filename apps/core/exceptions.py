"""DRF exception handler: every error, whatever raised it, answers in one shape.

``{"error": {"code": "...", "message": "<translated>", "fields": {...}}}``
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.core.errors import ApplicationError

logger = logging.getLogger(__name__)

_DEFAULT_MESSAGES = {
    400: lambda: _("The request is not valid."),
    401: lambda: _("Authentication credentials were not provided or are not valid."),
    403: lambda: _("You do not have permission to perform this action."),
    404: lambda: _("Not found."),
    405: lambda: _("Method not allowed."),
    406: lambda: _("Not acceptable."),
    409: lambda: _("The request conflicts with the current state."),
    415: lambda: _("Unsupported media type."),
    422: lambda: _("The request cannot be satisfied."),
    429: lambda: _("Too many requests. Please wait before trying again."),
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, _flatten(exc.fields)), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None

    code = "error"
    fields: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        detail = exc.detail
        fields = _flatten(detail) if isinstance(detail, dict) else {"non_field_errors": _flatten(detail)}
        message = _DEFAULT_MESSAGES[400]()
    else:
        detail_codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = detail_codes if isinstance(detail_codes, str) else code
        detail = getattr(exc, "detail", None)
        message = str(detail) if isinstance(detail, str) and detail else _DEFAULT_MESSAGES.get(
            response.status_code, lambda: _("Error.")
        )()
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        code = code if code != "error" else "not_authenticated"
    response.data = error_body(code, message, fields)
    return response
