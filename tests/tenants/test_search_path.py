"""TENANT_LIMIT_SET_CALLS: the search_path is set once per schema switch, and never trusted after a rollback.

PostgreSQL undoes a `SET search_path` issued inside a transaction or savepoint that is rolled back. If the
connection kept believing the path was set, the next query would silently run in the previous schema (another
tenant's, or public). These tests fail on a backend that caches the path without forgetting it on rollback.
"""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from apps.accounts.models import User
from tests.factories.accounts import UserFactory


def _search_path() -> str:
    with connection.cursor() as cursor:  # django-tenants issues its SET (if it thinks it must) on this cursor
        cursor.execute("SELECT current_setting('search_path')")
        return cursor.fetchone()[0]


class _RollbackError(Exception):
    pass


def test_limit_set_calls_is_on():
    assert settings.TENANT_LIMIT_SET_CALLS is True


def test_search_path_is_set_once_per_schema_switch(tenant, django_assert_num_queries):
    _search_path()
    with django_assert_num_queries(2) as captured:
        User.objects.count()
        User.objects.count()
    assert not any("search_path" in query["sql"] for query in captured.captured_queries)
    connection.set_schema("beta")
    with django_assert_num_queries(3) as captured:  # one SET, then the two queries
        User.objects.count()
        User.objects.count()
    assert captured.captured_queries[0]["sql"].startswith('SET search_path = "beta"')


def test_savepoint_rollback_of_the_set_is_not_trusted_afterwards(tenant):
    # The session path is "public"; then the tenant is switched, and its SET issued, inside a savepoint.
    connection.set_schema_to_public()
    assert _search_path() == "public"
    with pytest.raises(_RollbackError), transaction.atomic():
        connection.set_tenant(tenant)  # switched inside the savepoint: its SET is issued inside it too
        assert _search_path() == "alpha, public"
        raise _RollbackError
    # PostgreSQL rolled the SET back with the savepoint: the connection must set it again.
    assert _search_path() == "alpha, public"


def test_set_rollback_inside_atomic_is_not_trusted_afterwards(tenant):
    connection.set_schema_to_public()
    assert _search_path() == "public"
    with transaction.atomic():
        connection.set_tenant(tenant)
        assert _search_path() == "alpha, public"
        transaction.set_rollback(True)
    assert _search_path() == "alpha, public"


def test_rolled_back_set_never_leaks_another_tenants_rows(tenant):
    # given a user that exists only in beta, with the session's path at beta
    connection.set_schema("beta")
    beta_email = UserFactory().email
    assert User.objects.filter(email=beta_email).exists()
    # when alpha is switched to, and its path set, inside a savepoint that rolls back
    with pytest.raises(_RollbackError), transaction.atomic():
        connection.set_tenant(tenant)
        User.objects.exists()
        raise _RollbackError
    # then alpha's next query still runs in alpha, and does not see beta's user
    assert _search_path() == "alpha, public"
    assert not User.objects.filter(email=beta_email).exists()


# ------------------------------------------------------------------------------------------ pooled connections
@pytest.fixture
def pooled():  # type: ignore[no-untyped-def]
    """A second connection to the test database through Django's pool (one connection, so it is reused)."""
    from django_tenants.postgresql_backend.base import DatabaseWrapper

    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), "pool": {"min_size": 1, "max_size": 1}}
    settings_dict["CONN_MAX_AGE"] = 0
    wrapper = DatabaseWrapper(settings_dict, alias="pooled_search_path_test")
    yield wrapper
    wrapper.close()
    wrapper.close_pool()


def test_pooled_connections_alternating_tenants_never_see_each_others_rows(db, pooled):
    # The owners were committed when the test tenants were provisioned: a second connection sees them.
    seen, backends = [], set()
    for _round in range(5):
        for schema in ("alpha", "beta", "public"):
            pooled.set_schema(schema)
            with pooled.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), current_setting('search_path')")
                pid, path = cursor.fetchone()
                cursor.execute("SELECT email FROM accounts_user WHERE email IN (%s, %s)",
                               ["owner@alpha.test", "owner@beta.test"])
                emails = [row[0] for row in cursor.fetchall()]
            pooled.close()  # the connection goes back to the pool, keeping its session's search_path
            backends.add(pid)
            seen.append((schema, path, emails))
    assert len(backends) == 1  # one physical connection served every checkout
    for schema, path, emails in seen:
        if schema == "public":  # the platform's own users: no tenant's owner among them
            assert (path, emails) == ("public", [])
        else:
            assert (path, emails) == (f"{schema}, public", [f"owner@{schema}.test"])
