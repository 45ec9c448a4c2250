"""The branding pages (apps/branding/views.py): the settings form for owners and admins only, its errors, the
stylesheet and logo with their caching, the top bar wearing them, and each tenant's host serving its own."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.branding.models import Branding
from apps.branding.services import branding_update
from tests.branding.images import SVG, png
from tests.factories.accounts import UserFactory

SETTINGS = "/console/branding/"
VALID = {"display_name": "Acme Sales", "primary_color": "#0f766e", "accent_color": "#f59e0b",
         "text_on_primary": "auto"}


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_save_the_branding_and_every_page_wears_it(web_client, make_user, role):
    client = web_client(user=make_user(role=role))
    assert client.get(SETTINGS).status_code == 200
    response = client.post(SETTINGS, {**VALID, "logo": SimpleUploadedFile("logo.png", png(), "image/png")},
                           follow=True)
    assert response.status_code == 200 and "The branding was saved." in response.content.decode()
    html = response.content.decode()
    css_url = re.search(r'<link rel="stylesheet" href="(/branding\.css\?v=[0-9a-f]{16})">', html)
    logo_url = re.search(r'<img class="brand-logo" src="(/branding/logo\?v=[0-9a-f]{16})" alt="" width="64" '
                         r'height="32">', html)
    assert css_url and logo_url and "<span>Acme Sales</span>" in html
    css = client.get(css_url.group(1))
    assert "--brand: #0f766e;" in css.content.decode()
    assert client.get(logo_url.group(1)).content == Branding.objects.get().logo


@pytest.mark.parametrize("role", ["manager", "analyst", "participant"])
def test_other_roles_get_403_and_change_nothing(web_client, make_user, role):
    client = web_client(user=make_user(role=role))
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, VALID).status_code == 403
    assert not Branding.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(web_client):
    response = web_client().get(SETTINGS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(("fields", "field_id", "message"), [
    ({"primary_color": "#12"}, "id_primary_color", "Primary colour: write it as #rrggbb"),
    ({"primary_color": "#ffff00", "text_on_primary": "white"}, "id_primary_color", "below the 4.5:1"),
    ({"logo": SimpleUploadedFile("logo.svg", SVG, "image/svg+xml")}, "id_logo", "SVG files are not accepted"),
    ({"logo": SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * 600_000, "image/png")}, "id_logo", "512 KB"),
    ({"logo": SimpleUploadedFile("bad.png", b"\x89PNG\r\n\x1a\nbroken", "image/png")}, "id_logo",
     "not a readable image"),
])
def test_invalid_input_is_a_400_form_with_the_error_at_its_field_and_nothing_saved(web_client, make_user, fields,
                                                                                    field_id, message):
    client = web_client(user=make_user(role="owner"))
    response = client.post(SETTINGS, {**VALID, **fields})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary" role="alert"' in html and f'href="#{field_id}"' in html
    assert message in html and 'aria-invalid="true"' in html
    assert not Branding.objects.exists()


def test_the_stylesheet_and_logo_are_cached_by_version_and_etag(web_client, tenant):
    branding = branding_update(primary_color="#0f766e", accent_color="#f59e0b", logo=png())
    client = web_client()  # public on the tenant's host: the sign-in page wears them too
    css = client.get("/branding.css")
    assert css.status_code == 200 and css["Content-Type"] == "text/css; charset=utf-8"
    assert css["Cache-Control"] == "no-cache" and css["ETag"]
    assert client.get("/branding.css", HTTP_IF_NONE_MATCH=css["ETag"]).status_code == 304
    version = css["ETag"].strip('"')
    assert client.get(f"/branding.css?v={version}")["Cache-Control"] == "public, max-age=31536000, immutable"

    logo = client.get("/branding/logo")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert logo["ETag"] == f'"{branding.logo_sha256}"'
    assert client.get("/branding/logo", HTTP_IF_NONE_MATCH=logo["ETag"]).status_code == 304
    assert client.get(f"/branding/logo?v={branding.logo_sha256[:16]}")["Cache-Control"].endswith("immutable")
    assert client.post("/branding.css").status_code == 405


def test_without_branding_pages_keep_the_default_look(web_client, make_user):
    client = web_client(user=make_user(role="participant"))
    html = client.get("/").content.decode()
    assert "/branding.css" not in html and "brand-logo" not in html and "<span>Alpha</span>" in html
    assert client.get("/branding/logo").status_code == 404
    assert "--brand: #1d4ed8;" in client.get("/branding.css").content.decode()


def test_a_tenant_never_sees_another_tenants_branding(web_client, tenant):
    alpha = branding_update(display_name="Alpha Brand", primary_color="#7c2d12", accent_color="#f59e0b",
                            logo=png(color="#00ff00"))
    with schema_context("beta"):
        beta_user = UserFactory(role="owner")
        beta = web_client(host="beta.localhost", user=beta_user)
        assert beta.get("/branding/logo").status_code == 404
        assert beta.get(f"/branding/logo?v={alpha.logo_sha256[:16]}").status_code == 404
        css = beta.get("/branding.css").content.decode()
        assert "#7c2d12" not in css and "--brand: #1d4ed8;" in css
        page = beta.get("/").content.decode()
        assert "Alpha Brand" not in page and "/branding.css" not in page
        assert beta.get(SETTINGS).content.decode().count("#7c2d12") == 0
        assert not Branding.objects.exists()  # beta's schema has none
