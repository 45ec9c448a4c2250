from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.rules.selectors import schema_mapping_dict, source_schema_get_by_name
from apps.tenants.management.commands.demo import DEMO_USERS, PLATFORM_ADMIN, SALES_SCHEMA_NAME
from apps.tenants.models import Client, Domain


def test_demo_setup_provisions_acme_with_the_printed_credentials_and_repairs_them(db, capsys, tmp_path):
    sales_db = str(tmp_path / "acme-sales.sqlite")
    call_command("demo", "--no-serve", "--members", "15", "--sales-db", sales_db)
    printed = capsys.readouterr().out

    assert Domain.objects.get(domain="acme.localhost").tenant.schema_name == "acme"
    for email, password, role in DEMO_USERS.values():
        assert email in printed
        assert password in printed
        with schema_context("acme"):
            user = User.objects.get(email=email)
            assert user.role == role
            assert user.check_password(password)
    connection.set_schema_to_public()
    assert User.objects.get(email=PLATFORM_ADMIN[0]).check_password(PLATFORM_ADMIN[1])

    # acme's own sales database exists and its schema was understood (Portuguese names, inferred joins)
    with schema_context("acme"):
        stored = source_schema_get_by_name(name=SALES_SCHEMA_NAME)
        mapping = schema_mapping_dict(source_schema=stored)
    assert mapping["score"] >= 0.9
    assert mapping["concepts"]["salesperson"]["table"] == "vendedores"
    assert "schema understanding score" in printed

    # someone changes a demo password; the next run makes the printed one work again, creating nothing twice
    email, password, _role = DEMO_USERS["participant"]
    with schema_context("acme"):
        user = User.objects.get(email=email)
        user.set_password("something-else-entirely")
        user.save()
    call_command("demo", "--no-serve", "--members", "15", "--sales-db", sales_db)
    with schema_context("acme"):
        assert User.objects.get(email=email).check_password(password)
        assert User.objects.filter(email=email).count() == 1
    assert Client.objects.filter(schema_name="acme").count() == 1
