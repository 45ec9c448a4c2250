"""Tenant provisioning: a schema cloned from a migrated template, its domain and its first admin."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists

from apps.accounts.services import user_create
from apps.core.errors import ApplicationError, ConflictError
from apps.tenants.models import Client, Domain
from apps.tenants.schema_clone import schema_clone

SLUG_RE = re.compile(r"^[a-z][a-z0-9]{1,39}$")
RESERVED_SLUGS = {"public", "www", "admin", "api", "static", "media", "platform", "pg", "information"}


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Client
    domain: str
    admin_email: str
    admin_password: str | None


def platform_bootstrap(*, public_domain: str = "localhost") -> Client:
    """Ensure the public tenant (with its host names) and the tenant template exist. Safe to repeat."""
    public, _created = Client.objects.get_or_create(
        schema_name="public", defaults={"name": "Incentiva platform", "status": Client.Status.ACTIVE}
    )
    for index, host in enumerate([public_domain, "127.0.0.1"]):
        Domain.objects.get_or_create(domain=host, defaults={"tenant": public, "is_primary": index == 0})
    tenant_template_ensure()
    return public


def tenant_template_ensure() -> Client:
    """The template schema, fully migrated. New migrations are applied to it before it is cloned."""
    name = settings.TENANT_BASE_SCHEMA
    template, _created = Client.objects.get_or_create(
        schema_name=name, defaults={"name": "Tenant template", "status": Client.Status.TEMPLATE}
    )
    if not schema_exists(name):
        _create_schema_by_migrations(name)
        _template_is_current.cache_clear()
    if not _template_is_current():
        call_command("migrate_schemas", schema_name=name, interactive=False, verbosity=0)
        _template_is_current.cache_clear()
    return template


@lru_cache(maxsize=1)
def _template_is_current() -> bool:
    with schema_context(settings.TENANT_BASE_SCHEMA):
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        return not executor.migration_plan(targets)


def _create_schema_by_migrations(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
    call_command("migrate_schemas", schema_name=schema_name, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def _validate_slug(slug: str) -> None:
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS or slug == settings.TENANT_BASE_SCHEMA:
        raise ApplicationError(
            _("The slug must be 2 to 40 lowercase letters or digits, start with a letter and not be reserved."),
            code="invalid_slug",
            fields={"slug": [_("Not a valid tenant slug.")]},
        )
    if Client.objects.filter(schema_name=slug).exists() or schema_exists(slug):
        raise ConflictError(_("A tenant with this slug already exists."), code="tenant_exists",
                            fields={"slug": [_("Already taken.")]})


def tenant_provision(
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_password: str | None = None,
    plan: str = Client.Plan.FREE,
    contact_name: str = "",
    domain: str | None = None,
    clone: bool = True,
) -> ProvisionedTenant:
    """Create a tenant: schema (cloned from the template, or migrated when ``clone`` is false), primary
    domain ``<slug>.<TENANT_DEV_DOMAIN_SUFFIX>`` unless given, and an owner. All or nothing."""
    slug = slug.strip().lower()
    _validate_slug(slug)
    if not name.strip():
        raise ApplicationError(_("A tenant needs a name."), code="invalid", fields={"name": [_("Required.")]})
    host = (domain or f"{slug}.{settings.TENANT_DEV_DOMAIN_SUFFIX}").lower()
    if Domain.objects.filter(domain=host).exists():
        raise ConflictError(_("This domain is already in use."), code="domain_exists", fields={"domain": [host]})
    if clone:
        tenant_template_ensure()
    generated = admin_password is None
    password = admin_password or secrets.token_urlsafe(12)

    with transaction.atomic():
        tenant = Client.objects.create(
            schema_name=slug, name=name.strip(), plan=plan, contact_name=contact_name, contact_email=admin_email
        )
        if clone:
            schema_clone(source=settings.TENANT_BASE_SCHEMA, target=slug)
        else:
            _create_schema_by_migrations(slug)
        Domain.objects.create(domain=host, tenant=tenant, is_primary=True)
        with schema_context(slug):
            user_create(email=admin_email, password=password, role="owner", is_staff=True, email_verified=True)
    return ProvisionedTenant(tenant=tenant, domain=host, admin_email=admin_email,
                             admin_password=password if generated else None)


def tenant_delete(*, tenant: Client) -> None:
    """Drop a tenant and its schema."""
    if tenant.schema_name in ("public", settings.TENANT_BASE_SCHEMA):
        raise ApplicationError(_("The platform and template schemas cannot be deleted."), code="protected")
    with transaction.atomic():
        tenant.delete(force_drop=True)
