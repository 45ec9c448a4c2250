"""Writes of the tenant's branding (owners and admins, through the branding settings page)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.branding.contrast import AA_TEXT, HEX_COLOR, contrast_ratio
from apps.branding.images import MAX_LOGO_BYTES, LogoError, logo_clean
from apps.branding.models import Branding
from apps.branding.selectors import text_on
from apps.core.errors import ApplicationError

MAX_DISPLAY_NAME = 100


def _logo_message(code: str) -> str:
    messages = {
        "too_large": _("Logo: the file is larger than %(kb)d KB.") % {"kb": MAX_LOGO_BYTES // 1024},
        "svg": _("Logo: SVG files are not accepted (they can carry scripts). Upload a PNG, JPEG or WebP image."),
        "format": _("Logo: only PNG, JPEG and WebP images are accepted."),
        "dimensions": _("Logo: the image is too large (16 megapixels at most)."),
    }
    return messages.get(code, _("Logo: the file is not a readable image."))


@transaction.atomic
def branding_update(*, primary_color: str, accent_color: str, display_name: str = "",
                    text_on_primary: str = Branding.TextOnPrimary.AUTO, logo: bytes | None = None,
                    logo_remove: bool = False, actor: Any = None) -> Branding:
    """Save the tenant's branding (creating it the first time). Colours are ``#rrggbb``; the text on the
    primary colour must reach WCAG 2.1 AA (4.5:1), which the automatic choice always does; the logo is a PNG,
    JPEG or WebP of 512 KB at most, re-encoded (see ``apps.branding.images``); no logo keeps the current one,
    ``logo_remove`` drops it (and ignores one given with it). Refuses (400) with every field's problem at
    once, and then saves nothing."""
    errors: dict[str, list[str]] = {}
    display_name = (display_name or "").strip()
    if len(display_name) > MAX_DISPLAY_NAME:
        errors["display_name"] = [_("Display name: %(max)d characters at most.") % {"max": MAX_DISPLAY_NAME}]
    colours = {"primary_color": (primary_color or "").strip(), "accent_color": (accent_color or "").strip()}
    labels = {"primary_color": _("Primary colour"), "accent_color": _("Accent colour")}
    for field, value in colours.items():
        if not HEX_COLOR.match(value):
            errors[field] = [_("%(field)s: write it as #rrggbb, for example #1d4ed8.") % {"field": labels[field]}]
    if text_on_primary not in Branding.TextOnPrimary.values:
        errors["text_on_primary"] = [_("Text on the primary colour: choose one of the options.")]
    elif "primary_color" not in errors:
        text = text_on(primary_color=colours["primary_color"], text_on_primary=text_on_primary)
        ratio = contrast_ratio(text, colours["primary_color"])
        if ratio < AA_TEXT:
            errors["primary_color"] = [_(
                "Primary colour: %(text)s text on %(color)s has a contrast of %(ratio).2f:1, below the 4.5:1 "
                "that WCAG 2.1 AA requires. Choose a darker or lighter colour, or automatic text colour."
            ) % {"text": Branding.TextOnPrimary(text_on_primary).label, "color": colours["primary_color"],
                 "ratio": ratio}]
    cleaned = None
    if logo is not None and not logo_remove:
        try:
            cleaned = logo_clean(logo)
        except LogoError as exc:
            errors["logo"] = [_logo_message(exc.code)]
    if errors:
        raise ApplicationError(_("The branding was not saved: correct the fields below."), code="invalid",
                               fields=errors)

    # get_or_create: two first saves at once end with one row (the loser re-reads the winner's).
    branding, _created = Branding.objects.select_for_update().get_or_create(singleton=True)
    branding.display_name = display_name
    branding.primary_color = colours["primary_color"].lower()
    branding.accent_color = colours["accent_color"].lower()
    branding.text_on_primary = text_on_primary
    branding.updated_by = actor if getattr(actor, "pk", None) else None
    if logo_remove:
        branding.logo, branding.logo_content_type, branding.logo_sha256 = None, "", ""
        branding.logo_width = branding.logo_height = None
    elif cleaned is not None:
        branding.logo, branding.logo_content_type = cleaned.data, cleaned.content_type
        branding.logo_sha256, branding.logo_width, branding.logo_height = cleaned.sha256, cleaned.width, cleaned.height
    branding.save()
    return branding
