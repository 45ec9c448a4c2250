"""Offer graphics wear the tenant's branding: one brand for the console, the dashboards and TLP."""

from __future__ import annotations

import pytest

from apps.branding.models import DEFAULT_ACCENT, DEFAULT_PRIMARY
from apps.branding.selectors import branding_get
from apps.branding.services import branding_update
from apps.core.errors import ApplicationError
from apps.tlp.services import tlp_branding_for
from apps.tlp.services.graphics import tlp_branding_get
from tests.branding.images import png


def test_without_a_branding_the_graphics_take_the_product_defaults(tenant):
    branding = tlp_branding_get()
    assert (branding.primary_color, branding.accent_color, branding.logo) == (DEFAULT_PRIMARY, DEFAULT_ACCENT, None)


def test_the_graphics_wear_the_tenants_colours_and_logo(tenant):
    saved = branding_update(primary_color="#0F766E", accent_color="#be123c", logo=png())
    branding = tlp_branding_get()
    assert (branding.primary_color, branding.accent_color) == ("#0f766e", "#be123c")
    assert branding.logo == bytes(saved.logo) and branding.logo  # the cleaned logo the console shows


def test_colours_given_for_one_generation_are_used_for_it_and_not_saved(tenant):
    branding_update(primary_color="#0f766e", accent_color="#be123c")
    branding = tlp_branding_for(accent_color="#22C55E")
    assert (branding.primary_color, branding.accent_color) == ("#0f766e", "#22c55e")
    assert branding_get().accent_color == "#be123c"
    assert tlp_branding_get().accent_color == "#be123c"


@pytest.mark.parametrize(("options", "field"), [({"primary_color": "teal"}, "primary_color"),
                                                ({"logo": b"not an image"}, "logo")])
def test_a_bad_colour_or_logo_for_a_generation_is_refused_with_its_field(tenant, options, field):
    with pytest.raises(ApplicationError) as caught:
        tlp_branding_for(**options)
    assert field in caught.value.fields
