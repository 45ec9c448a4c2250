"""WCAG 2.1 colour contrast: relative luminance, contrast ratio, and the readable colours derived from a
tenant's brand colours. Pure functions on ``#rrggbb`` strings (no database, no Django)."""

from __future__ import annotations

import re

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE, BLACK = "#ffffff", "#000000"
# WCAG 2.1 AA: normal text needs 4.5:1 against its background (1.4.3).
AA_TEXT = 4.5
# app.css's page and card backgrounds in each colour scheme: a link in the brand's colour sits on these.
LIGHT_BACKGROUNDS = ("#ffffff", "#f9fafb")
DARK_BACKGROUNDS = ("#1f2937", "#111827")


def _rgb(color: str) -> tuple[int, int, int]:
    if not HEX_COLOR.match(color or ""):
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def relative_luminance(color: str) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour (0 black .. 1 white)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05) with L1 the lighter: 1 (same) .. 21 (black on white)."""
    a, b = relative_luminance(first), relative_luminance(second)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def best_text_color(background: str) -> str:
    """White or black, whichever reads better on ``background``. One of the two always reaches at least
    4.58:1 (they tie where the background's luminance is about 0.18), so this never fails AA."""
    return WHITE if contrast_ratio(WHITE, background) >= contrast_ratio(BLACK, background) else BLACK


def _mix(color: str, towards: str, amount: float) -> str:
    a, b = _rgb(color), _rgb(towards)
    return _hex(tuple(x + (y - x) * amount for x, y in zip(a, b, strict=True)))  # type: ignore[arg-type]


def readable_on(color: str, backgrounds: tuple[str, ...], *, towards: str, minimum: float = AA_TEXT) -> str:
    """``color`` itself when it reaches ``minimum`` on every background, else the first mix of it towards
    ``towards`` (black for light backgrounds, white for dark ones) that does, in 5 % steps: the brand's hue
    kept as far as contrast allows."""
    for step in range(21):
        candidate = _mix(color, towards, step / 20)
        if all(contrast_ratio(candidate, background) >= minimum for background in backgrounds):
            return candidate
    return towards
