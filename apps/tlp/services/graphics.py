"""Offer graphics in media storage: render (apps.tlp.graphics), store, and point TLP's offers at them."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from apps.branding.selectors import branding_get, branding_logo, branding_theme
from apps.core.errors import ApplicationError, NotFoundError
from apps.tenants.selectors import tenant_base_url
from apps.tlp.graphics import HEX_COLOR, UnsafeSVGError, icon_for, offer_graphic_render, svg_sanitize
from apps.tlp.models import TLPEntity
from apps.tlp.selectors import tlp_entity_list
from apps.tlp.services.outbox import tlp_outbox_enqueue

MAX_LOGO_BYTES = 1_000_000
GRAPHICS_DIR = "tlp/graphics"


@dataclass(frozen=True)
class Branding:
    primary_color: str
    accent_color: str
    logo: bytes | None


@dataclass(frozen=True)
class OfferGraphic:
    prize_id: str
    name: str
    points: int
    icon: str
    path: str
    image_url: str
    offer_id: str | None
    offer_update_queued: bool


def _color(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not HEX_COLOR.match(value):
        raise ApplicationError(_("Colours are written as #rrggbb."), code="invalid",
                               fields={field: [_("Use a hex colour such as #1d4ed8.")]})
    return value.lower()


def _logo_check(logo: bytes) -> None:
    if len(logo) > MAX_LOGO_BYTES:
        raise ApplicationError(_("The logo is too large (1 MB at most)."), code="invalid",
                               fields={"logo": [_("1 MB at most.")]})
    try:
        with Image.open(io.BytesIO(logo)) as image:
            image.verify()
            if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise ApplicationError(_("The logo must be a PNG, JPEG, GIF or WebP image."), code="invalid",
                                       fields={"logo": [_("Unsupported image format.")]})
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ApplicationError(_("The logo is not a readable image."), code="invalid",
                               fields={"logo": [_("Not a readable image.")]}) from exc


def tlp_branding_get() -> Branding:
    """The look of TLP's offer graphics: the tenant's branding (``apps.branding``: its colours and logo), or
    the product's defaults when it was never set. One brand for the console, the dashboards and TLP."""
    theme = branding_theme(branding=branding_get())  # the defaults, when it was never set
    logo = branding_logo()
    return Branding(theme.primary, theme.accent, logo.data if logo is not None else None)


def tlp_branding_for(*, primary_color: str | None = None, accent_color: str | None = None,
                     logo: bytes | None = None) -> Branding:
    """The branding of one generation of graphics: the tenant's, with the colours and logo given in its place.
    Nothing is saved: the tenant's own branding is changed in its settings, with their checks. Refuses (400)
    a colour that is not #rrggbb or a logo that is not a readable image."""
    primary = _color(primary_color, "primary_color")
    accent = _color(accent_color, "accent_color")
    if logo is not None:
        _logo_check(logo)
    current = tlp_branding_get()
    return Branding(primary or current.primary_color, accent or current.accent_color,
                    logo if logo is not None else current.logo)


def media_absolute_url(*, path: str, base_url: str | None = None) -> str:
    """An absolute http(s) URL for a stored file: TLP needs one for ``imageUrl``."""
    url = default_storage.url(path)
    if url.startswith(("http://", "https://")):
        return url
    base = (base_url or getattr(settings, "TLP_PUBLIC_BASE_URL", "") or "").rstrip("/")
    if not base:
        base = tenant_base_url() or "http://localhost"
    return f"{base}{url}"


def _segment(value: str, length: int) -> str:
    """A campaign key or prize id as one safe path segment (letters, digits, ``-`` and ``_``)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in value)[:length] or "-"


@dataclass(frozen=True)
class GraphicFile:
    name: str
    content_type: str


GRAPHIC_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}


def offer_graphic_find(*, path: str) -> GraphicFile | None:
    """A stored offer graphic of this tenant by its path below ``/media/tlp/graphics/<schema>/`` (what the
    offers' ``imageUrl`` names), or None: another tenant's, another kind of file, or one not stored."""
    parts = path.split("/")
    if (len(parts) != 3 or parts[0] != connection.schema_name or any(part in ("", ".", "..") for part in parts)
            or any(part != _segment(part, len(part)) for part in parts[:2])):
        return None
    suffix = parts[2][parts[2].rfind("."):] if "." in parts[2] else ""
    stem = parts[2][:-len(suffix)] if suffix else parts[2]
    name = f"{GRAPHICS_DIR}/{path}"
    if suffix not in GRAPHIC_TYPES or stem != _segment(stem, len(stem)) or not default_storage.exists(name):
        return None
    return GraphicFile(name, GRAPHIC_TYPES[suffix])


def offer_graphic_store(*, campaign_key: str, prize_id: str, name: str, points: int, branding: Branding,
                        base_url: str | None = None, points_label: str | None = None,
                        description: str = "") -> tuple[str, str, str]:
    """Render and store the graphic of one prize; the same inputs give the same file (not stored twice).
    Returns (storage path, absolute URL, icon)."""
    label = points_label or _("points")
    icon = icon_for(f"{name} {description}")
    digest = hashlib.sha256("\n".join([
        name, str(points), label, icon, branding.primary_color, branding.accent_color,
        hashlib.sha256(branding.logo or b"").hexdigest(),
    ]).encode()).hexdigest()[:16]
    path = f"{GRAPHICS_DIR}/{connection.schema_name}/{_segment(campaign_key, 80)}/{_segment(prize_id, 60)}-{digest}.png"
    if not default_storage.exists(path):
        png = offer_graphic_render(prize_name=name, points=points, points_label=label,
                                   primary_color=branding.primary_color, accent_color=branding.accent_color,
                                   logo=branding.logo, icon=icon, description=description)
        path = default_storage.save(path, ContentFile(png))
    return path, media_absolute_url(path=path, base_url=base_url), icon


def offer_svg_store(*, campaign_key: str, prize_id: str, svg: str, base_url: str | None = None) -> tuple[str, str]:
    """Sanitise an SVG illustration (e.g. one Claude proposed) and store it; refuses (400) unusable SVG."""
    try:
        clean = svg_sanitize(svg)
    except UnsafeSVGError as exc:
        raise ApplicationError(_("The SVG illustration cannot be used."), code="invalid",
                               fields={"svg": [str(exc)]}) from exc
    digest = hashlib.sha256(clean.encode()).hexdigest()[:16]
    path = f"{GRAPHICS_DIR}/{connection.schema_name}/{_segment(campaign_key, 80)}/{_segment(prize_id, 60)}-{digest}.svg"
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(clean.encode()))
    return path, media_absolute_url(path=path, base_url=base_url)


def tlp_offer_graphics_generate(*, campaign_key: str, prizes: Sequence[dict[str, Any]] | None = None,
                                base_url: str | None = None, primary_color: str | None = None,
                                accent_color: str | None = None, logo: bytes | None = None,
                                points_label: str | None = None) -> list[OfferGraphic]:
    """A graphic per prize (``{"id", "name", "points_cost"}``; default: the campaign's provisioned redemption
    offers). Offers already in TLP get their ``imageUrl`` updated through the outbox. Refuses (404) a campaign
    with neither prizes given nor redemption offers provisioned."""
    branding = tlp_branding_for(primary_color=primary_color, accent_color=accent_color, logo=logo)
    prefix = f"campaign:{campaign_key}:prize:"
    provisioned = {entity.local_ref[len(prefix):]: entity for entity in
                   tlp_entity_list(kind=TLPEntity.Kind.REDEMPTION_OFFER, local_ref_prefix=prefix)}
    if prizes is None:
        prizes = [{"id": prize_id, "name": entity.data.get("name", prize_id),
                   "points_cost": int(entity.data.get("points", 0))} for prize_id, entity in provisioned.items()]
    if not prizes:
        raise NotFoundError(_("This campaign has no prizes to draw: give them, or provision the campaign first."),
                            code="no_prizes")
    results = []
    with transaction.atomic():
        for prize in prizes:
            prize_id, name, points = str(prize["id"]), str(prize["name"]), int(prize["points_cost"])
            path, url, icon = offer_graphic_store(campaign_key=campaign_key, prize_id=prize_id, name=name,
                                                  points=points, branding=branding, base_url=base_url,
                                                  points_label=points_label)
            entity = provisioned.get(prize_id)
            queued = False
            if entity is not None and entity.data.get("image_url") != url:
                row = tlp_outbox_enqueue(
                    operation="offer_update",
                    payload={"offer_kind": TLPEntity.Kind.REDEMPTION_OFFER, "offer_ref": entity.local_ref,
                             "fields": {"image_url": url}},
                    member_key=f"campaign:{campaign_key}",
                    idempotency_key=f"offer-image:{entity.local_ref}:{hashlib.sha256(url.encode()).hexdigest()[:16]}",
                    source_type="tlp.graphic", source_id=entity.local_ref,
                )
                queued = row is not None
                entity.data = {**entity.data, "image_url": url, "image_path": path}
                entity.save(update_fields=["data", "updated_at"])
            results.append(OfferGraphic(prize_id=prize_id, name=name, points=points, icon=icon, path=path,
                                        image_url=url, offer_id=entity.tlp_id if entity else None,
                                        offer_update_queued=queued))
    return results
