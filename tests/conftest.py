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
from django.utils import translation
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.core.local_cache import local_caches_clear
from apps.tenants.middleware import tenant_cache_clear
from apps.tenants.models import Client
from apps.tenants.services import platform_bootstrap, tenant_provision
from tests.factories.accounts import UserFactory

TENANT_HOSTS = {"alpha": "alpha.localhost", "beta": "beta.localhost"}
OWNER_PASSWORD = "Owner-pass-12345"


def _ensure_test_database(request: pytest.FixtureRequest, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    """pytest-django creates the test database only if a collected test uses ``db``; a session of
    ``committed``-only tests (the worker or websocket tests run alone) needs it as well."""
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
        return
    keepdb = bool(request.config.getvalue("reuse_db")) and not request.config.getvalue("create_db")
    config = setup_databases(verbosity=0, interactive=False, keepdb=keepdb, aliases={"default"})
    if not keepdb:

        def teardown() -> None:
            with django_db_blocker.unblock():
                teardown_databases(config, verbosity=0)

        request.addfinalizer(teardown)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        _ensure_test_database(request, django_db_blocker)
        platform_bootstrap()
        for slug in TENANT_HOSTS:
            if not Client.objects.filter(schema_name=slug).exists():
                tenant_provision(slug=slug, name=slug.title(), admin_email=f"owner@{slug}.test",
                                 admin_password=OWNER_PASSWORD)
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _public_schema_between_tests() -> Iterator[None]:
    """django-tenants' middleware leaves the connection in the last request's tenant schema; every test
    starts and ends in the public schema so none depends on what the previous one requested."""
    if connection.connection is not None or connection.schema_name != "public":
        connection.set_schema_to_public()
    # A request in another language leaves that language active in the thread: start every test in English.
    translation.activate("en")
    # Hosts cached by the tenant middleware may come from a rolled-back test: every test resolves afresh.
    tenant_cache_clear()
    local_caches_clear()  # likewise users, API keys and programs (a rollback sends no signal)
    yield
    translation.activate("en")
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


class CommittedData:
    """Rows committed outside any test transaction, for code that reads on another connection (a Celery
    worker process, Channels' database thread). Everything registered is removed at teardown."""

    def __init__(self) -> None:
        self._cleanups: list[Callable[[], object]] = []

    def add(self, schema: str, make: Callable[[], object]) -> object:
        """Create a row with ``make()`` in ``schema``; it is deleted again at teardown."""
        with schema_context(schema):
            obj = make()
        model, pk = type(obj), obj.pk  # type: ignore[attr-defined]

        def delete() -> None:
            with schema_context(schema):
                model._base_manager.filter(pk=pk).delete()  # type: ignore[attr-defined]

        self._cleanups.append(delete)
        return obj

    def user(self, schema: str = "alpha", role: str = "participant", **kwargs):  # type: ignore[no-untyped-def]
        return self.add(schema, lambda: UserFactory(role=role, **kwargs))

    def on_cleanup(self, func: Callable[[], object]) -> None:
        """Run ``func`` at teardown (before the rows added earlier are deleted)."""
        self._cleanups.append(func)

    def cleanup(self) -> None:
        errors: list[Exception] = []
        while self._cleanups:
            try:
                self._cleanups.pop()()
            except Exception as exc:  # keep cleaning; report the first failure afterwards
                errors.append(exc)
        connection.set_schema_to_public()
        if errors:
            raise errors[0]


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[CommittedData]:  # type: ignore[no-untyped-def]
    """Database access without the per-test transaction: what a test writes is committed (use ``add`` or
    ``on_cleanup`` so it is removed). Do not combine with ``db``/``tenant``, which wrap the test in one."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()  # whatever an earlier test left behind
        data = CommittedData()
        try:
            yield data
        finally:
            data.cleanup()
