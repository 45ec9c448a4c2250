"""branding_update (apps/branding/services.py): what is saved, and every refusal leaving nothing written."""

from __future__ import annotations

import pytest

from apps.branding.models import Branding
from apps.branding.services import branding_update
from apps.core.errors import ApplicationError
from tests.branding.images import SVG, of_format, png


def test_the_first_save_creates_the_branding_and_the_next_updates_it(tenant, make_user):
    owner = make_user(role="owner")
    branding = branding_update(display_name="  Acme Sales ", primary_color="#0F766E", accent_color="#F59E0B",
                               logo=png(text={"Author": "x"}), actor=owner)
    assert (branding.display_name, branding.primary_color, branding.accent_color) == (
        "Acme Sales", "#0f766e", "#f59e0b")
    assert branding.logo_content_type == "image/png" and branding.logo_width == 64 and branding.updated_by == owner
    first_logo = branding.logo_sha256

    again = branding_update(primary_color="#111111", accent_color="#eeeeee")  # no logo given: kept
    assert Branding.objects.count() == 1 and again.pk == branding.pk
    assert again.logo_sha256 == first_logo and again.display_name == ""

    removed = branding_update(primary_color="#111111", accent_color="#eeeeee", logo=png(), logo_remove=True)
    assert removed.logo is None and removed.logo_sha256 == "" and removed.logo_width is None


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"primary_color": "blue"}, "primary_color", "Primary colour"),
    ({"primary_color": "#12345"}, "primary_color", "#rrggbb"),
    ({"accent_color": "#zzzzzz"}, "accent_color", "Accent colour"),
    ({"primary_color": "#ffcc00", "text_on_primary": "white"}, "primary_color", "4.5:1"),
    ({"primary_color": "#1d4ed8", "text_on_primary": "black"}, "primary_color", "Primary colour"),
    ({"text_on_primary": "purple"}, "text_on_primary", "Text on the primary colour"),
    ({"display_name": "x" * 101}, "display_name", "Display name"),
    ({"logo": SVG}, "logo", "SVG"),
    ({"logo": b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024)}, "logo", "512 KB"),
    ({"logo": png()[:50]}, "logo", "not a readable image"),
    ({"logo": of_format("GIF")}, "logo", "PNG, JPEG and WebP"),
])
def test_invalid_branding_is_refused_with_the_field_named_and_nothing_saved(tenant, fields, field, words):
    values = {"primary_color": "#1d4ed8", "accent_color": "#f59e0b", **fields}
    with pytest.raises(ApplicationError) as refused:
        branding_update(**values)
    assert refused.value.status_code == 400 and list(refused.value.fields) == [field]
    assert words in refused.value.fields[field][0]
    assert not Branding.objects.exists()


def test_every_problem_is_reported_at_once_and_an_existing_branding_is_left_alone(tenant):
    kept = branding_update(primary_color="#1d4ed8", accent_color="#f59e0b", logo=png())
    with pytest.raises(ApplicationError) as refused:
        branding_update(primary_color="nope", accent_color="#abc", logo=SVG)
    assert set(refused.value.fields) == {"primary_color", "accent_color", "logo"}
    current = Branding.objects.get()
    assert (current.primary_color, current.logo_sha256) == ("#1d4ed8", kept.logo_sha256)


def test_explicit_text_colours_that_reach_aa_are_accepted(tenant):
    assert branding_update(primary_color="#ffcc00", accent_color="#000000", text_on_primary="black")
    assert branding_update(primary_color="#1d4ed8", accent_color="#000000", text_on_primary="white")
