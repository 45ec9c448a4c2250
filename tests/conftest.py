"""Test harness: two tenants (alpha, beta) provisioned once per session; each test rolls back.

django-tenants' TenantTestCase re-migrates per class; instead the session's test database gets the
platform, the template and two cloned tenants once (kept with --reuse-db), and tests run inside a
transaction with the connection pointed at a tenant schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.tenants.models import Client
from apps.tenants.services import platform_bootstrap, tenant_provision
from tests.factories.accounts import UserFactory

TENANT_HOSTS = {"alpha": "alpha.localhost", "beta": "beta.localhost"}
OWNER_PASSWORD = "Owner-pass-12345"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        platform_bootstrap()
        for slug in TENANT_HOSTS:
            if not Client.objects.filter(schema_name=slug).exists():
                tenant_provision(slug=slug, name=slug.title(), admin_email=f"owner@{slug}.test",
                                 admin_password=OWNER_PASSWORD)
        connection.set_schema_to_public()


def _activate(slug: str) -> Client:
    tenant = Client.objects.get(schema_name=slug)
    tenant.domain_url = TENANT_HOSTS[slug]
    connection.set_tenant(tenant)
    return tenant


@pytest.fixture
def tenant(db) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """Tenant alpha, with the connection in its schema for the test."""
    yield _activate("alpha")
    connection.set_schema_to_public()


@pytest.fixture
def other_tenant(db) -> Client:  # type: ignore[no-untyped-def]
    """Tenant beta (the connection stays where it is: use ``schema_context`` to work inside it)."""
    return Client.objects.get(schema_name="beta")


@pytest.fixture
def in_schema() -> Callable:
    return schema_context


@pytest.fixture
def make_user(tenant) -> Callable:  # type: ignore[no-untyped-def]
    def make(role: str = "participant", schema: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
        if schema and schema != connection.schema_name:
            with schema_context(schema):
                return UserFactory(role=role, **kwargs)
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def api_client(tenant) -> Callable[..., APIClient]:  # type: ignore[no-untyped-def]
    """``api_client(role="admin")`` → an APIClient on alpha's host signed in as a new user of that role;
    ``api_client(None)`` → anonymous; ``host=`` points it at another tenant."""

    def make(role: str | None = "admin", host: str = TENANT_HOSTS["alpha"], user=None) -> APIClient:  # type: ignore[no-untyped-def]
        client = APIClient(HTTP_HOST=host)
        if user is None and role is not None:
            user = UserFactory(role=role)
        if user is not None:
            client.force_login(user)
            client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def web_client(tenant) -> Callable[..., DjangoClient]:  # type: ignore[no-untyped-def]
    def make(host: str = TENANT_HOSTS["alpha"], user=None) -> DjangoClient:  # type: ignore[no-untyped-def]
        client = DjangoClient(HTTP_HOST=host)
        if user is not None:
            client.force_login(user)
        return client

    return make
