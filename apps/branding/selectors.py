"""Reads of the tenant's branding: the row, the colours pages use, the stylesheet and the logo."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from apps.branding.contrast import (
    BLACK,
    DARK_BACKGROUNDS,
    LIGHT_BACKGROUNDS,
    WHITE,
    best_text_color,
    readable_on,
)
from apps.branding.models import DEFAULT_ACCENT, DEFAULT_PRIMARY, Branding


@dataclass(frozen=True)
class Theme:
    """The colours a page uses, each readable where it is used (WCAG 2.1 AA, 4.5:1 for text)."""

    primary: str
    on_primary: str  # text on the primary colour (top bar, buttons)
    link_light: str  # the brand as text on app.css's light backgrounds
    link_dark: str  # ... and on its dark ones
    accent: str
    on_accent: str  # text on the accent colour (earned badges)


@dataclass(frozen=True)
class LogoFile:
    data: bytes
    content_type: str
    sha256: str


def branding_get() -> Branding | None:
    """The tenant's branding without the logo's bytes; None when it was never set (the default look)."""
    return Branding.objects.defer("logo").first()


def text_on(*, primary_color: str, text_on_primary: str) -> str:
    if text_on_primary == Branding.TextOnPrimary.WHITE:
        return WHITE
    if text_on_primary == Branding.TextOnPrimary.BLACK:
        return BLACK
    return best_text_color(primary_color)


def branding_theme(*, branding: Branding | None) -> Theme:
    primary = branding.primary_color if branding else DEFAULT_PRIMARY
    accent = branding.accent_color if branding else DEFAULT_ACCENT
    return Theme(
        primary=primary,
        on_primary=text_on(primary_color=primary, text_on_primary=branding.text_on_primary if branding else "auto"),
        link_light=readable_on(primary, LIGHT_BACKGROUNDS, towards=BLACK),
        link_dark=readable_on(primary, DARK_BACKGROUNDS, towards=WHITE),
        accent=accent,
        on_accent=best_text_color(accent),
    )


def branding_stylesheet(*, branding: Branding | None) -> str:
    """The CSS custom properties app.css and the pages read (``--brand``, ``--brand-contrast``,
    ``--brand-strong``, ``--accent``, ``--accent-contrast``). Loaded after app.css, so it wins over app.css's
    defaults in both colour schemes; only the link colour differs between them."""
    theme = branding_theme(branding=branding)
    return (
        "/* Tenant branding (generated from the branding settings). */\n"
        f":root {{ --brand: {theme.primary}; --brand-contrast: {theme.on_primary}; "
        f"--brand-strong: {theme.link_light}; --accent: {theme.accent}; --accent-contrast: {theme.on_accent}; }}\n"
        f"@media (prefers-color-scheme: dark) {{ :root {{ --brand-strong: {theme.link_dark}; }} }}\n"
    )


def branding_version(*, branding: Branding) -> str:
    """Changes whenever the stylesheet or the logo does: the cache-busting part of their URLs."""
    digest = hashlib.sha256(branding_stylesheet(branding=branding).encode())
    digest.update(branding.logo_sha256.encode())
    return digest.hexdigest()[:16]


def branding_logo() -> LogoFile | None:
    row = Branding.objects.filter(logo__isnull=False).values("logo", "logo_content_type", "logo_sha256").first()
    if row is None or not row["logo"]:
        return None
    return LogoFile(data=bytes(row["logo"]), content_type=row["logo_content_type"], sha256=row["logo_sha256"])
