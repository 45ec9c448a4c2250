"""The stylesheet and theme derived from the branding (apps/branding/selectors.py)."""

from __future__ import annotations

from apps.branding.contrast import contrast_ratio
from apps.branding.selectors import branding_get, branding_logo, branding_stylesheet, branding_theme, branding_version
from apps.branding.services import branding_update
from tests.branding.images import png


def test_without_branding_the_theme_is_the_default_look(tenant):
    assert branding_get() is None and branding_logo() is None
    theme = branding_theme(branding=None)
    assert (theme.primary, theme.on_primary, theme.accent) == ("#1d4ed8", "#ffffff", "#f59e0b")


def test_the_stylesheet_sets_the_variables_and_its_version_follows_every_change(tenant):
    branding = branding_update(primary_color="#ffcc00", accent_color="#0f766e")
    css = branding_stylesheet(branding=branding)
    assert "--brand: #ffcc00;" in css and "--brand-contrast: #000000;" in css and "--accent: #0f766e;" in css
    assert "--accent-contrast: #ffffff;" in css and "prefers-color-scheme: dark" in css
    theme = branding_theme(branding=branding)
    assert contrast_ratio(theme.link_light, "#f9fafb") >= 4.5 and contrast_ratio(theme.link_dark, "#1f2937") >= 4.5
    assert f"--brand-strong: {theme.link_light};" in css and f"--brand-strong: {theme.link_dark};" in css

    before = branding_version(branding=branding)
    with_logo = branding_update(primary_color="#ffcc00", accent_color="#0f766e", logo=png())
    assert branding_version(branding=with_logo) != before
    recoloured = branding_update(primary_color="#ffcd00", accent_color="#0f766e")
    assert len({before, branding_version(branding=with_logo), branding_version(branding=recoloured)}) == 3
    assert branding_get().logo_sha256 and "logo" in branding_get().get_deferred_fields()
    assert branding_logo().data == with_logo.logo
