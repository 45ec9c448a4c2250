"""Tenant lookups: the base URL of links that leave a request (e-mails, images TLP fetches)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.tenants.models import Domain
from apps.tenants.selectors import tenant_base_url

pytestmark = pytest.mark.django_db


def test_the_base_url_comes_from_the_schema_even_without_a_tenant_object(settings):
    # Management commands and tasks run under schema_context, whose tenant is a stand-in with no domains.
    settings.DEBUG = False
    settings.TENANT_URL_PORT = ""
    with schema_context("alpha"):
        assert tenant_base_url() == "http://alpha.localhost"
    assert tenant_base_url(schema_name="beta") == "http://beta.localhost"


def test_a_real_domain_gets_https_and_the_configured_port(settings, tenant):
    settings.DEBUG = False
    settings.TENANT_URL_PORT = "8443"
    Domain.objects.filter(tenant=tenant).update(is_primary=False)
    Domain.objects.create(tenant=tenant, domain="alpha.incentiva.example", is_primary=True)

    assert tenant_base_url(schema_name=tenant.schema_name) == "https://alpha.incentiva.example:8443"


def test_a_schema_without_a_domain_has_no_base_url():
    assert tenant_base_url(schema_name="no_such_schema") == ""
