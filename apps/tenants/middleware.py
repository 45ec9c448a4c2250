"""Resolve the tenant from the Host header; unknown or suspended hosts get a friendly page, never a 500."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware

from apps.core.logging import request_context_update


def _friendly_page(request: HttpRequest, template: str, status: int, hostname: str) -> HttpResponse:
    translation.activate(translation.get_language_from_request(request))
    body = render_to_string(template, {"hostname": hostname}, request=None)
    return HttpResponse(body, status=status)


class TenantMiddleware(TenantMainMiddleware):
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
