from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict:
    tenant = getattr(request, "tenant", None)
    return {
        "current_tenant": tenant if tenant is not None and tenant.schema_name != "public" else None,
        "LANGUAGES": settings.LANGUAGES,
    }
