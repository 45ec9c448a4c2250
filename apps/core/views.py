"""Health probes, the two home pages, the API documentation pages, and what the dashboards' views share."""

from __future__ import annotations

import uuid

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from apps.core.selectors import readiness_checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Checks nothing else on purpose (a restart would not fix a database)."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, Redis (cache) and the Celery broker all answer; 503 names the one that does not."""
    checks = readiness_checks()
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                        status=200 if ready else 503)


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "core/landing.html")


def tenant_home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    return render(request, "core/tenant_home.html")


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI that runs under the global CSP unchanged: its init script is served from
    ``?script`` (same origin) instead of being inlined, so ``script-src 'self'`` is enough."""


@method_decorator(csp_update({"worker-src": ["'self'", "blob:"]}), name="dispatch")
class ApiRedocView(SpectacularRedocView):
    """ReDoc builds its search index in a Web Worker created from a ``blob:`` URL: allowed on this page
    only. Its Google Fonts stylesheet stays blocked (the page falls back to system fonts)."""


def redeem_token(request: HttpRequest) -> uuid.UUID | None:
    """The one-click redemption token the dashboards' redeem form posts (templates/core/_redeem_form.html):
    drawn when the page was rendered, it makes the redemption's idempotency key. None when missing or invalid."""
    try:
        return uuid.UUID(request.POST.get("token", ""))
    except ValueError:
        return None
