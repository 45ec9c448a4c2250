"""apps/tlp/views.py: the offer graphics TLP links to, served on the tenant's host without a session; only
that tenant's, only images, cached for good."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.tlp.services.graphics import offer_graphic_store, offer_svg_store, tlp_branding_get

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def test_a_stored_graphic_is_served_to_anyone_with_its_address_and_cached_for_good(web_client):
    path, url, _icon = offer_graphic_store(campaign_key="c-1", prize_id="cabo", name="Viagem para Cabo",
                                           points=50_000, branding=tlp_branding_get(), base_url="http://x.test")
    response = web_client().get(urlsplit(url).path)  # no session: TLP fetches it like this
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    with default_storage.open(path, "rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert web_client().post(urlsplit(url).path).status_code == 405


def test_an_svg_is_served_sandboxed(web_client):
    _path, url = offer_svg_store(campaign_key="c-1", prize_id="tv", svg=SVG, base_url="http://x.test")
    response = web_client().get(urlsplit(url).path)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy


def test_another_tenants_host_does_not_serve_it(web_client):
    _path, url, _icon = offer_graphic_store(campaign_key="c-1", prize_id="tv", name="TV", points=10,
                                            branding=tlp_branding_get(), base_url="http://x.test")
    assert web_client(host="beta.localhost").get(urlsplit(url).path).status_code == 404


@pytest.mark.parametrize("path", [
    "/media/tlp/graphics/alpha/c-1/missing-0000.png",  # not stored
    "/media/tlp/graphics/alpha/../alpha/c-1/x.png",  # a way out of the folder
    "/media/tlp/graphics/alpha/c-1/page.html",  # not an image
    "/media/tlp/graphics/alpha/c-1/sub/x.png",  # deeper than a graphic is kept
    "/media/tlp/graphics/beta/c-1/x.png",  # another tenant's folder
])
def test_anything_else_below_the_folder_is_not_found(web_client, path):
    default_storage.save("tlp/graphics/alpha/c-1/page.html", ContentFile(b"<script>"))
    assert web_client().get(path).status_code == 404
