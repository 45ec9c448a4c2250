"""Resolve the tenant from the Host header; unknown or suspended hosts get a friendly page, never a 500.

The host → tenant lookup (a query on the public schema, plus its ``SET search_path``) runs on every request,
so each process keeps what it found for ``TENANT_CACHE_SECONDS`` (5 s by default; 0 turns it off). Saving or
deleting a Client or Domain clears this process's cache at once; other processes see the change within the
TTL, which is therefore kept short (a suspension takes effect within seconds everywhere).
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware

from apps.core.logging import request_context_update
from apps.tenants.models import Client, Domain

_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def tenant_cache_clear(**_kwargs: Any) -> None:
    """Forget every cached host (connected to Client/Domain saves and deletes)."""
    with _cache_lock:
        _cache.clear()


for _model in (Client, Domain):
    post_save.connect(tenant_cache_clear, sender=_model, dispatch_uid=f"tenant_cache_clear_save_{_model.__name__}")
    post_delete.connect(tenant_cache_clear, sender=_model,
                        dispatch_uid=f"tenant_cache_clear_delete_{_model.__name__}")


def _friendly_page(request: HttpRequest, template: str, status: int, hostname: str) -> HttpResponse:
    translation.activate(translation.get_language_from_request(request))
    body = render_to_string(template, {"hostname": hostname}, request=None)
    return HttpResponse(body, status=status)


class TenantMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model, hostname):  # type: ignore[no-untyped-def]
        ttl = getattr(settings, "TENANT_CACHE_SECONDS", 5)
        if ttl <= 0:
            return super().get_tenant(domain_model, hostname)
        now = time.monotonic()
        cached = _cache.get(hostname)
        if cached is None or cached[0] <= now:
            tenant = super().get_tenant(domain_model, hostname)  # DoesNotExist propagates: never cached
            with _cache_lock:
                _cache[hostname] = (now + ttl, tenant)
        else:
            tenant = cached[1]
        # A copy per request: the middleware sets attributes on it (domain_url), and threads share the cache.
        return copy.copy(tenant)

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = request.tenant  # type: ignore[attr-defined]
        request_context_update(tenant=tenant.schema_name)
        if tenant.status != tenant.Status.ACTIVE:
            connection.set_schema_to_public()
            return _friendly_page(request, "tenants/suspended.html", 403, self.hostname_from_request(request))
        return None

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        return _friendly_page(request, "tenants/unknown_host.html", 404, hostname)
