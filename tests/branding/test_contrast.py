"""WCAG 2.1 contrast arithmetic (apps/branding/contrast.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.branding.contrast import (
    BLACK,
    DARK_BACKGROUNDS,
    LIGHT_BACKGROUNDS,
    WHITE,
    best_text_color,
    contrast_ratio,
    readable_on,
    relative_luminance,
)

colours = st.integers(min_value=0, max_value=0xFFFFFF).map(lambda n: f"#{n:06x}")


@pytest.mark.parametrize(("first", "second", "ratio"), [
    (BLACK, WHITE, 21.0), (WHITE, WHITE, 1.0), ("#777777", WHITE, 4.48), ("#767676", WHITE, 4.54),
    ("#1d4ed8", WHITE, 6.70), ("#f59e0b", "#111827", 8.26),
])
def test_contrast_ratios_match_the_wcag_formula(first, second, ratio):
    assert contrast_ratio(first, second) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(second, first) == pytest.approx(ratio, abs=0.01)


def test_luminance_bounds_and_bad_input():
    assert relative_luminance(BLACK) == 0 and relative_luminance(WHITE) == pytest.approx(1)
    for bad in ("#fff", "1d4ed8", "#gggggg", "", "#1d4ed80"):
        with pytest.raises(ValueError):
            relative_luminance(bad)


@given(colours)
def test_the_automatic_text_colour_always_reaches_aa(background):
    text = best_text_color(background)
    assert text in (WHITE, BLACK)
    assert contrast_ratio(text, background) >= 4.5


@given(colours)
def test_the_derived_link_colours_are_readable_on_both_schemes(colour):
    light = readable_on(colour, LIGHT_BACKGROUNDS, towards=BLACK)
    dark = readable_on(colour, DARK_BACKGROUNDS, towards=WHITE)
    assert all(contrast_ratio(light, background) >= 4.5 for background in LIGHT_BACKGROUNDS)
    assert all(contrast_ratio(dark, background) >= 4.5 for background in DARK_BACKGROUNDS)


def test_a_readable_colour_is_kept_as_it_is():
    assert readable_on("#1d4ed8", LIGHT_BACKGROUNDS, towards=BLACK) == "#1d4ed8"
    assert readable_on("#ffcc00", LIGHT_BACKGROUNDS, towards=BLACK) != "#ffcc00"  # yellow text on white: darkened
