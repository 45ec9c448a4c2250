from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from apps.tenants.models import Client, Domain


def tenant_list() -> QuerySet[Client]:
    """Real tenants: neither the public schema nor the template."""
    return (
        Client.objects.exclude(schema_name__in=["public"])
        .exclude(status=Client.Status.TEMPLATE)
        .prefetch_related("domains")
        .order_by("name")
    )


def tenant_get_by_slug(*, slug: str) -> Client | None:
    return Client.objects.filter(schema_name=slug).first()


def tenant_get_by_host(*, host: str) -> Client | None:
    domain = Domain.objects.select_related("tenant").filter(domain=host.split(":")[0].lower()).first()
    return domain.tenant if domain else None


def tenant_base_url(*, schema_name: str | None = None) -> str:
    """``scheme://host[:port]`` of a tenant's primary domain (default: the connection's schema), for links
    that leave the request: e-mails, images TLP fetches. Empty when the tenant has no domain.

    Plain HTTP only where TLS cannot be (DEBUG, or a ``*.localhost`` host); ``TENANT_URL_PORT`` adds the
    port the platform is served on when it is not the scheme's default (development: 8000)."""
    schema = schema_name or connection.schema_name
    domain = (Domain.objects.filter(tenant__schema_name=schema).order_by("-is_primary", "domain")
              .values_list("domain", flat=True).first())
    if not domain:
        return ""
    scheme = "http" if settings.DEBUG or domain.endswith("localhost") else "https"
    port = str(getattr(settings, "TENANT_URL_PORT", "") or "")
    return f"{scheme}://{domain}{f':{port}' if port else ''}"
