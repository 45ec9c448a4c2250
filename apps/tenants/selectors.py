from __future__ import annotations

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
