"""The two back offices: a tenant's /admin/ and the platform's /platform-admin/ (with tenant provisioning)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.exceptions import ImproperlyConfigured
from django.test import Client as DjangoClient
from django.urls import reverse
from django_tenants.utils import schema_context, schema_exists

from apps.accounts.models import User
from apps.tenants.admin import platform_admin_site
from apps.tenants.models import Client, Domain
from apps.tenants.sites import PlatformAdminSite, is_shared_model, is_tenant_model
from tests.conftest import OWNER_PASSWORD, TENANT_HOSTS
from tests.factories.accounts import DEFAULT_PASSWORD

ALPHA, BETA = TENANT_HOSTS["alpha"], TENANT_HOSTS["beta"]
STAFF_PASSWORD = "Platform-pass-12345"
PROVISION_URL = "/platform-admin/tenants/client/provision/"


def _admin_login(host: str, email: str, password: str, prefix: str = "/admin/") -> DjangoClient:
    """Sign in through the admin's own login form, as a person would."""
    client = DjangoClient(HTTP_HOST=host)
    client.post(f"{prefix}login/?next={prefix}", {"username": email, "password": password})
    return client


@pytest.fixture
def platform_staff(db) -> User:
    with schema_context("public"):
        return User.objects.create_superuser(email="staff@platform.test", password=STAFF_PASSWORD)


@pytest.fixture
def platform_client(platform_staff) -> DjangoClient:
    client = _admin_login("localhost", platform_staff.email, STAFF_PASSWORD, prefix="/platform-admin/")
    assert client.get("/platform-admin/").status_code == 200
    return client


# ------------------------------------------------------------------------------------------ tenant admin


def test_a_tenant_owner_signs_in_to_the_tenant_admin(db):
    client = _admin_login(ALPHA, "owner@alpha.test", OWNER_PASSWORD)

    response = client.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha" in html  # the header names the workspace
    assert 'href="/admin/accounts/user/"' in html


def test_a_participant_cannot_sign_in_to_the_tenant_admin(make_user):
    participant = make_user(role="participant")

    client = _admin_login(ALPHA, participant.email, DEFAULT_PASSWORD)

    assert "_auth_user_id" not in client.session
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_signed_in_participant_is_still_kept_out(web_client, make_user):
    client = web_client(user=make_user(role="participant"))

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_alphas_owner_cannot_sign_in_to_betas_admin(db):
    refused = _admin_login(BETA, "owner@alpha.test", OWNER_PASSWORD)

    assert "_auth_user_id" not in refused.session
    assert refused.get("/admin/").status_code == 302


def test_alphas_admin_session_is_worthless_on_beta(db):
    client = _admin_login(ALPHA, "owner@alpha.test", OWNER_PASSWORD)
    assert client.get("/admin/").status_code == 200

    # Even replayed by hand on beta's host, alpha's session key means nothing in beta's schema.
    session_cookie = client.cookies["sessionid"].value
    beta = DjangoClient(HTTP_HOST=BETA)
    beta.cookies["sessionid"] = session_cookie

    response = beta.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_tenant_admin_shows_no_shared_only_app(db):
    client = _admin_login(ALPHA, "owner@alpha.test", OWNER_PASSWORD)

    html = client.get("/admin/").content.decode()

    assert "/admin/tenants/" not in html
    assert "django_celery_beat" not in html
    # Not hidden but absent: the platform's tenants and beat schedule are unreachable from a tenant host.
    assert client.get("/admin/tenants/client/").status_code == 404
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 404


def test_every_page_of_the_tenant_admin_index_opens(db):
    client = _admin_login(ALPHA, "owner@alpha.test", OWNER_PASSWORD)

    html = client.get("/admin/").content.decode()
    changelists = sorted(set(re.findall(r'href="(/admin/[a-z_0-9]+/[a-z_0-9]+/)"', html)))

    assert "/admin/accounts/user/" in changelists
    for url in changelists:
        assert client.get(url).status_code == 200, url


def test_the_tenant_admin_offers_the_language_switcher(db):
    client = _admin_login(ALPHA, "owner@alpha.test", OWNER_PASSWORD)

    html = client.get("/admin/").content.decode()

    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" type="hidden" value="es"' in html


def test_the_tenant_admin_wears_the_brand_and_its_navigation(db):
    client = _admin_login(ALPHA, "owner@alpha.test", OWNER_PASSWORD)

    html = client.get("/admin/").content.decode()

    assert "--color-primary-700: oklch(48.8% .243 264.376)" in html  # #1d4ed8, the product's blue
    for title in ("Workspace", "Users", "Groups and permissions", "OAuth2 applications", "API documentation"):
        assert title in html, title
    assert 'href="/admin/oauth2_provider/application/"' in html


# ------------------------------------------------------------------------------------------ platform admin


def test_platform_staff_sign_in_on_the_public_host_only(platform_staff):
    client = _admin_login("localhost", platform_staff.email, STAFF_PASSWORD, prefix="/platform-admin/")
    assert client.get("/platform-admin/").status_code == 200

    # Platform staff do not exist in a tenant's schema, and the tenant host has no platform admin.
    on_tenant = _admin_login(ALPHA, platform_staff.email, STAFF_PASSWORD)
    assert "_auth_user_id" not in on_tenant.session
    assert DjangoClient(HTTP_HOST=ALPHA).get("/platform-admin/").status_code == 404


def test_a_tenant_owner_cannot_sign_in_to_the_platform_admin(db):
    client = _admin_login("localhost", "owner@alpha.test", OWNER_PASSWORD, prefix="/platform-admin/")

    assert "_auth_user_id" not in client.session


def test_every_model_of_the_platform_admin_opens(platform_client):
    for model in platform_admin_site._registry:
        url = reverse(f"platform_admin:{model._meta.app_label}_{model._meta.model_name}_changelist",
                      urlconf="incentiva.urls_public")
        assert platform_client.get(url).status_code == 200, url


def test_the_platform_admin_refuses_a_tenant_only_model():
    tenant_only = next(model for model in apps.get_models() if is_tenant_model(model) and not is_shared_model(model))
    site = PlatformAdminSite(name="probe")

    with pytest.raises(ImproperlyConfigured, match=tenant_only._meta.label):
        site.register(tenant_only)

    assert not site.is_registered(tenant_only)


def test_the_tenant_list_links_to_provisioning(platform_client):
    html = platform_client.get("/platform-admin/tenants/client/").content.decode()

    assert PROVISION_URL in html


def test_the_platform_admin_has_its_own_navigation_and_badge(platform_client):
    html = platform_client.get("/platform-admin/").content.decode()

    for title in ("Incentiva platform", "Provision a tenant", "Platform staff", "Scheduled jobs", "Platform"):
        assert title in html, title
    assert 'href="/platform-admin/django_celery_beat/periodictask/"' in html
    assert 'href="/admin/' not in html  # no link into a tenant's admin, which the public host does not serve


def test_platform_staff_provision_a_tenant_through_the_form(platform_client, platform_staff):
    response = platform_client.post(PROVISION_URL, {"slug": "gamma", "name": "Gamma Foods",
                                                    "admin_email": "Owner@Gamma.test", "plan": "growth"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    password = re.search(r'id="owner-password"[^>]*value="([^"]+)"', html).group(1)
    assert len(password) >= 12
    tenant = Client.objects.get(schema_name="gamma")
    assert (tenant.name, tenant.plan, tenant.status) == ("Gamma Foods", "growth", "active")
    assert schema_exists("gamma")
    domain = Domain.objects.get(tenant=tenant)
    assert (domain.domain, domain.is_primary) == ("gamma.localhost", True)
    assert "gamma.localhost" in html
    with schema_context("gamma"):
        owner = User.objects.get(email="owner@gamma.test")
        assert owner.role == "owner"
        assert owner.check_password(password)
    entry = LogEntry.objects.get(object_id=str(tenant.pk))
    assert (entry.user_id, entry.action_flag) == (platform_staff.pk, ADDITION)
    # Shown once: the tenant's page does not carry the password.
    assert password not in platform_client.get(f"/platform-admin/tenants/client/{tenant.pk}/change/").content.decode()


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("public", "Not a valid tenant slug."),
        ("1abc", "Not a valid tenant slug."),
        ("alpha", "Already taken."),
    ],
)
def test_a_refused_slug_is_explained_on_the_form_and_nothing_is_created(platform_client, slug, message):
    before = (Client.objects.count(), Domain.objects.count())

    response = platform_client.post(PROVISION_URL, {"slug": slug, "name": "Whatever",
                                                    "admin_email": "owner@whatever.test", "plan": "free"})

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html  # next to the slug field
    assert re.search(r'role="alert">\s*<div class="errornote', html)  # and the service's reason on top
    assert 'id="owner-password"' not in html
    assert (Client.objects.count(), Domain.objects.count()) == before


def test_a_taken_domain_is_explained_on_the_slug(platform_client):
    # A domain can exist without a tenant of that slug (e.g. a vanity host pointing at alpha).
    Domain.objects.create(domain="delta.localhost", tenant=Client.objects.get(schema_name="alpha"))

    response = platform_client.post(PROVISION_URL, {"slug": "delta", "name": "Delta",
                                                    "admin_email": "owner@delta.test", "plan": "free"})

    assert "This domain is already in use." in response.content.decode()
    assert not Client.objects.filter(schema_name="delta").exists()
    assert not schema_exists("delta")


def test_an_invalid_email_is_refused_before_the_service_runs(platform_client):
    response = platform_client.post(PROVISION_URL, {"slug": "epsilon", "name": "Epsilon",
                                                    "admin_email": "not-an-email", "plan": "free"})

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not Client.objects.filter(schema_name="epsilon").exists()


def test_staff_without_the_permission_cannot_provision(db):
    with schema_context("public"):
        User.objects.create_user(email="viewer@platform.test", password=STAFF_PASSWORD, is_staff=True)
    client = _admin_login("localhost", "viewer@platform.test", STAFF_PASSWORD, prefix="/platform-admin/")

    assert client.get(PROVISION_URL).status_code == 403
    response = client.post(PROVISION_URL, {"slug": "zeta", "name": "Zeta", "admin_email": "o@zeta.test",
                                           "plan": "free"})
    assert response.status_code == 403
    assert not Client.objects.filter(schema_name="zeta").exists()


def test_anonymous_visitors_are_sent_to_the_platform_login(db):
    response = DjangoClient(HTTP_HOST="localhost").get(PROVISION_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/platform-admin/login/")
