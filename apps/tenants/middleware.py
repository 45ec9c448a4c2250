"""Resolve the tenant from the Host header; unknown or suspended hosts get a friendly page, never a 500.

The host → tenant lookup (a query on the public schema, plus its ``SET search_path``) runs on every request,
so each process keeps what it found for ``TENANT_CACHE_SECONDS`` (5 s by default; 0 turns it off). Saving or
deleting a Client or Domain clears this process's cache at once; other processes see the change within the
TTL, which is therefore kept short (a suspension takes effect within seconds everywhere).

A kept connection (``CONN_MAX_AGE``) whose ``search_path`` the previous request already set to this tenant's
is not sent the same ``SET`` again: django-tenants forgets the path on every schema switch, but when the host
came from the cache nothing ran on the connection since, so the path it set is still the session's. Any
rollback, reconnection or pool checkout still forgets it (tests/tenants/test_search_path.py).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.template.loader import render_to_string
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_tenant_domain_model

from apps.core.local_cache import LocalCache, model_copy
from apps.core.logging import request_context_update
from apps.tenants.models import Client, Domain

# Looked up on the public schema, so every host shares one key space.
tenant_hosts = LocalCache("tenant-hosts", ttl_setting="TENANT_CACHE_SECONDS", default_ttl=5)


def tenant_cache_clear(**_kwargs: Any) -> None:
    """Forget every cached host (connected to Client/Domain saves and deletes)."""
    tenant_hosts.clear()


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
        return self._tenant_lookup(domain_model, hostname)[0]

    def _tenant_lookup(self, domain_model, hostname) -> tuple[Any, bool]:  # type: ignore[no-untyped-def]
        """The tenant for a host, and whether it came from the cache (no query ran)."""
        # DoesNotExist propagates from the loader: an unknown host is never cached.
        tenant, from_cache = tenant_hosts.get_or_load_cached(
            hostname, lambda: super(TenantMiddleware, self).get_tenant(domain_model, hostname))
        # A copy per request: the middleware sets attributes on it (domain_url), and threads share the cache.
        return model_copy(tenant), from_cache

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        # django-tenants' own steps (public schema, host, tenant, schema, urlconf), plus the kept search_path.
        kept_path, kept_connection = connection.search_path_set_schemas, connection.connection
        connection.set_schema_to_public()
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return HttpResponseNotFound()
        domain_model = get_tenant_domain_model()
        try:
            tenant, from_cache = self._tenant_lookup(domain_model, hostname)
        except domain_model.DoesNotExist:
            return self.no_tenant_found(request, hostname)
        tenant.domain_url = hostname
        request.tenant = tenant  # type: ignore[attr-defined]
        connection.set_tenant(tenant)
        if (from_cache and kept_path and kept_connection is not None and connection.connection is kept_connection
                and kept_path == connection._get_cursor_search_paths()):
            connection.search_path_set_schemas = kept_path
        self.setup_url_routing(request)
        request_context_update(tenant=tenant.schema_name)
        if tenant.status != tenant.Status.ACTIVE:
            connection.set_schema_to_public()
            return _friendly_page(request, "tenants/suspended.html", 403, self.hostname_from_request(request))
        return None

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        return _friendly_page(request, "tenants/unknown_host.html", 404, hostname)
