"""Request id + access log, the health probes answered before any host or tenant handling, the CSP header
built once per process, and Django's locale middleware without its path lookups when no URL is language-prefixed."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.signals import request_finished, setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.locale import LocaleMiddleware as BaseLocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
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
        path = path_redact(request.path)
        access_logger.log(
            level,
            "%s %s %s",
            request.method,
            path,
            status,
            extra={
                "method": request.method,
                "path": path,
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


# What a view decorator (csp_update, csp_replace, csp, csp_exempt and their report-only forms) sets on a response.
_CSP_RESPONSE_OVERRIDES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
                           "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro")
_csp_headers: list[tuple[str, str, tuple[str, ...]]] | None = None


def _csp_headers_clear(*, setting: str, **kwargs: object) -> None:
    global _csp_headers
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _csp_headers = None


setting_changed.connect(_csp_headers_clear, dispatch_uid="apps.core.csp_headers_clear")


def _csp_headers_build() -> list[tuple[str, str, tuple[str, ...]]]:
    """(header, policy, excluded path prefixes) for the policy and the report-only one, from the settings."""
    headers = []
    for header, setting, report_only in ((HEADER, "CONTENT_SECURITY_POLICY", False),
                                         (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True)):
        policy = build_policy(report_only=report_only)
        if policy:
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            headers.append((header, policy, tuple(prefixes)))
    return headers


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, but a response that no view decorator changed and no nonce was drawn for gets
    the policy built once per process: django-csp rebuilds the same string from the settings on every
    response (two policy builds and dataclass copies, about 4% of an API request's CPU).

    Anything else (a decorated view, a page that used ``request.csp_nonce``, Django's debug pages) takes
    django-csp's own path, so the headers are the same as its middleware's in every case. The cache follows
    ``override_settings`` (``setting_changed``); settings do not change in a running process otherwise."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        global _csp_headers
        if (getattr(request, "_csp_nonce", None) is not None
                or any(hasattr(response, name) for name in _CSP_RESPONSE_OVERRIDES)
                or (settings.DEBUG and response.status_code in (404, 500))):
            return super().process_response(request, response)
        headers = _csp_headers
        if headers is None:
            headers = _csp_headers = _csp_headers_build()
        for header, policy, prefixes in headers:
            if header not in response and not request.path_info.startswith(prefixes):
                response[header] = policy
        # As django-csp does: a nonce drawn after the header was written could not be in it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


class LocaleMiddleware(BaseLocaleMiddleware):
    """Django's LocaleMiddleware, which reads a language from the start of every path (twice per request) even
    when no URL pattern is language-prefixed: for ``/api/...`` that means looking ``api`` up as a language, a
    failed lookup that is never cached (about 2 % of a balance read). Without ``i18n_patterns`` in the
    request's urlconf (none of ours has them) the path's language is never used, so it is not looked up, and
    the rest is Django's own code path; with them, Django's middleware runs unchanged."""

    def process_request(self, request: HttpRequest) -> None:
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        if is_language_prefix_patterns_used(urlconf)[0]:
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
        return None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        if is_language_prefix_patterns_used(urlconf)[0]:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
