from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from apps.accounts.models import User
from apps.core.errors import ApplicationError, ConflictError
from apps.tenants.models import Client, Domain
from apps.tenants.services import tenant_provision


def test_provision_clones_template_with_domain_and_owner(db):
    # when
    result = tenant_provision(slug="gamma", name="Gamma", admin_email="Boss@Gamma.test", admin_password="pw-123456789")

    # then
    assert result.domain == "gamma.localhost"
    assert schema_exists("gamma")
    assert Domain.objects.get(domain="gamma.localhost").tenant == result.tenant
    with schema_context("gamma"):
        owner = User.objects.get()
        assert owner.email == "boss@gamma.test"
        assert owner.role == User.Role.OWNER and owner.is_staff and owner.check_password("pw-123456789")
    # the template's users never leak into a clone
    with schema_context("tenant_template"):
        assert not User.objects.exists()
    connection.set_schema_to_public()


def test_provision_by_migrations_gives_the_same_tables(db):
    tenant_provision(slug="delta", name="Delta", admin_email="a@delta.test", admin_password="x" * 12, clone=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, count(*) FROM pg_tables WHERE schemaname IN ('delta', 'alpha') GROUP BY 1"
        )
        counts = dict(cursor.fetchall())
    assert counts["delta"] == counts["alpha"] > 10


def test_provision_generates_a_password_when_none_given(db):
    result = tenant_provision(slug="epsilon", name="Eps", admin_email="e@eps.test")
    assert result.admin_password and len(result.admin_password) >= 12
    with schema_context("epsilon"):
        assert User.objects.get().check_password(result.admin_password)


@pytest.mark.parametrize("slug", ["public", "tenant_template", "A-b", "1abc", "x", "admin"])
def test_provision_refuses_bad_slugs_and_writes_nothing(db, slug):
    before = Client.objects.count()
    with pytest.raises(ApplicationError) as info:
        tenant_provision(slug=slug, name="Bad", admin_email="a@b.test")
    assert "slug" in info.value.fields
    assert Client.objects.count() == before


def test_provision_refuses_an_existing_slug_with_conflict(db):
    with pytest.raises(ConflictError):
        tenant_provision(slug="alpha", name="Again", admin_email="a@b.test")
    assert Client.objects.filter(schema_name="alpha").count() == 1


def test_provision_is_all_or_nothing_when_the_admin_cannot_be_created(db, monkeypatch):
    from apps.tenants import services

    def boom(**kwargs):
        raise RuntimeError("mail server down")

    monkeypatch.setattr(services, "user_create", boom)
    with pytest.raises(RuntimeError):
        tenant_provision(slug="zeta", name="Zeta", admin_email="z@zeta.test")
    assert not Client.objects.filter(schema_name="zeta").exists()
    assert not Domain.objects.filter(domain="zeta.localhost").exists()
    assert not schema_exists("zeta")
