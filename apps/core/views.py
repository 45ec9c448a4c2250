"""Health probes and the two home pages. Thin: they only read."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from apps.core.selectors import readiness_checks


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Checks nothing else on purpose."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, Redis and the Celery broker all answer."""
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
