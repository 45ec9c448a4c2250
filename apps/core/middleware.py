"""Request id + access log, and the health probes answered before any host or tenant handling."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from apps.core import views as core_views
from apps.core.logging import path_redact, request_context

access_logger = logging.getLogger("incentiva.access")

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
PROBE_PATHS = {"/healthz": core_views.healthz, "/readyz": core_views.readyz}


class RequestIdMiddleware:
    """Takes the request id from ``X-Request-ID`` when a proxy set a sane one, else generates one; puts it
    in the logging context, echoes it back, and writes one access-log line per request.

    The line holds method, path (no query string: tokens sometimes travel there), status, duration,
    request id, tenant and user id: never headers, cookies or bodies.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # The context outlives this call on purpose: Django logs 4xx/5xx responses ("django.request")
        # after the middleware chain returned, and those lines need the request id too.
        request_finished.connect(_request_context_clear, dispatch_uid="apps.core.request_context_clear")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request_context.set({"request_id": request_id})
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        self._log(request, response, started)
        return response

    @staticmethod
    def _log(request: HttpRequest, response: HttpResponse, started: float) -> None:
        status = response.status_code
        # Probes hit every few seconds: only their failures are worth a line at INFO.
        quiet = request.path in PROBE_PATHS and status < 400
        level = logging.DEBUG if quiet else logging.ERROR if status >= 500 else logging.INFO
        if not access_logger.isEnabledFor(level):
            return
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        access_logger.log(
            level,
            "%s %s %s",
            request.method,
            path_redact(request.path),
            status,
            extra={
                "method": request.method,
                "path": path_redact(request.path),
                "status": status,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            },
        )


def _request_context_clear(**kwargs: object) -> None:
    request_context.set(None)


def _user_id(request: HttpRequest) -> str | None:
    """The signed-in user's id, without loading the user just for the log (no extra session query)."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    if not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)


class HealthProbeMiddleware:
    """Answers ``/healthz`` and ``/readyz`` on any host, before tenant resolution, ALLOWED_HOSTS checks and
    the HTTPS redirect: a load balancer or container runtime probes by IP over plain HTTP, and liveness
    must not depend on the database that tenant resolution reads."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBE_PATHS.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
