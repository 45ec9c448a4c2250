"""Offer graphics: a branded PNG per redemption offer, and the sanitiser for SVG illustrations.

The PNG is drawn with Pillow: the tenant's colours and logo, the prize's name, its points, and an icon
chosen from the prize's words (English, Portuguese and Spanish). Nothing here touches the database or
storage; :mod:`apps.tlp.services.graphics` stores the result.
"""

from __future__ import annotations

import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 800, 450
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
)
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

# icon -> words that choose it (accents removed, lower case; a word matches by prefix)
ICON_WORDS: dict[str, tuple[str, ...]] = {
    "plane": ("vacation", "vacaci", "travel", "trip", "viagem", "viaje", "viaj", "flight", "voo", "vuelo", "cabo",
              "hotel", "cruise", "cruzeiro", "crucero", "resort", "holiday", "ferias", "beach", "praia", "playa"),
    "ticket": ("ticket", "concert", "show", "ingresso", "entrada", "boleto", "cinema", "cine", "movie", "filme",
               "pelicula", "festival", "game", "jogo", "partido", "theatre", "theater", "teatro", "event"),
    "screen": ("tv", "television", "televis", "smart", "monitor", "screen", "tela", "pantalla", "tablet",
               "laptop", "notebook", "computer", "computador", "console", "playstation", "xbox"),
    "phone": ("phone", "smartphone", "iphone", "celular", "telefone", "telefono", "mobile", "movil"),
    "car": ("car", "carro", "coche", "auto", "vehicle", "veiculo", "moto", "bike", "bicicleta", "fuel",
            "gasolina", "combustivel"),
    "cup": ("coffee", "cafe", "dinner", "jantar", "cena", "restaurant", "restaurante", "meal", "refeicao",
            "comida", "wine", "vinho", "vino", "spa", "experience", "experiencia"),
    "card": ("voucher", "gift card", "giftcard", "card", "cartao", "tarjeta", "cash", "dinheiro", "dinero",
             "bonus", "bono", "credit", "credito", "discount", "desconto", "descuento", "vale"),
    "trophy": ("trophy", "trofeu", "trofeo", "award", "premio", "prize", "medal", "medalha", "medalla",
               "champion", "campeao", "campeon"),
}
DEFAULT_ICON = "gift"


def _plain(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch))


def icon_for(text: str) -> str:
    """The icon whose words appear in ``text`` (a prize's name and description); "gift" otherwise. Phrases
    first, then whole words, then word beginnings ("viagem" → "viag…" is travel)."""
    plain = _plain(text)
    words = re.findall(r"[a-z0-9]+", plain)
    for icon, keys in ICON_WORDS.items():
        if any(" " in key and key in plain for key in keys):
            return icon
    for word in words:
        for icon, keys in ICON_WORDS.items():
            if word in keys:
                return icon
    for word in words:
        for icon, keys in ICON_WORDS.items():
            if any(len(key) >= 4 and word.startswith(key) for key in keys):
                return icon
    return DEFAULT_ICON


def _rgb(color: str, fallback: str) -> tuple[int, int, int]:
    value = color if HEX_COLOR.match(color or "") else fallback
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c_ = c / 255
        return c_ / 12.92 if c_ <= 0.03928 else ((c_ + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
          width: int, max_lines: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        while lines[-1] and draw.textlength(lines[-1] + "…", font=font) > width:
            lines[-1] = lines[-1][:-1]
        lines[-1] += "…"
    return lines


def _draw_icon(draw: ImageDraw.ImageDraw, icon: str, cx: int, cy: int, r: int, color: tuple[int, int, int]) -> None:
    """A simple line icon of radius ``r`` centred on (cx, cy)."""
    w = max(4, r // 8)
    if icon == "plane":
        draw.polygon([(cx - r, cy + r // 6), (cx + r, cy - r // 3), (cx + r // 2, cy + r // 8)], fill=color)
        draw.polygon([(cx - r // 4, cy), (cx + r // 6, cy + r), (cx + r // 3, cy + r // 8)], fill=color)
        draw.polygon([(cx - r // 4, cy - r // 20), (cx - r // 2, cy - r * 3 // 4), (cx + r // 5, cy - r // 6)],
                     fill=color)
    elif icon == "ticket":
        box = (cx - r, cy - r // 2, cx + r, cy + r // 2)
        draw.rounded_rectangle(box, radius=r // 6, outline=color, width=w)
        for dy in range(-r // 2 + w * 2, r // 2 - w, w * 2):
            draw.line([(cx + r // 3, cy + dy), (cx + r // 3, cy + dy + w)], fill=color, width=w // 2 + 1)
        draw.regular_polygon((cx - r // 3, cy, r // 4), 5, fill=color)
    elif icon == "screen":
        draw.rounded_rectangle((cx - r, cy - r * 2 // 3, cx + r, cy + r // 2), radius=r // 10, outline=color, width=w)
        draw.line([(cx, cy + r // 2), (cx, cy + r * 3 // 4)], fill=color, width=w)
        draw.line([(cx - r // 2, cy + r * 3 // 4), (cx + r // 2, cy + r * 3 // 4)], fill=color, width=w)
    elif icon == "phone":
        draw.rounded_rectangle((cx - r // 2, cy - r, cx + r // 2, cy + r), radius=r // 5, outline=color, width=w)
        draw.ellipse((cx - w, cy + r * 3 // 4 - w, cx + w, cy + r * 3 // 4 + w), fill=color)
    elif icon == "car":
        draw.rounded_rectangle((cx - r, cy - r // 6, cx + r, cy + r // 2), radius=r // 6, outline=color, width=w)
        draw.polygon([(cx - r * 2 // 3, cy - r // 6), (cx - r // 3, cy - r * 2 // 3), (cx + r // 3, cy - r * 2 // 3),
                      (cx + r * 2 // 3, cy - r // 6)], outline=color, width=w)
        for x in (cx - r // 2, cx + r // 2):
            draw.ellipse((x - r // 5, cy + r // 3, x + r // 5, cy + r * 2 // 3 + w), fill=color)
    elif icon == "cup":
        draw.rounded_rectangle((cx - r * 2 // 3, cy - r // 2, cx + r // 3, cy + r * 2 // 3), radius=r // 6,
                               outline=color, width=w)
        draw.arc((cx + r // 6, cy - r // 4, cx + r * 3 // 4, cy + r * 3 // 8), -90, 90, fill=color, width=w)
        for x in (cx - r // 3, cx - r // 12):
            draw.arc((x - r // 8, cy - r, x + r // 8, cy - r * 5 // 8), 90, 270, fill=color, width=w // 2 + 1)
    elif icon == "card":
        draw.rounded_rectangle((cx - r, cy - r * 2 // 3, cx + r, cy + r * 2 // 3), radius=r // 8, outline=color,
                               width=w)
        draw.rectangle((cx - r, cy - r // 3, cx + r, cy - r // 3 + w * 2), fill=color)
        draw.line([(cx - r * 2 // 3, cy + r // 3), (cx - r // 6, cy + r // 3)], fill=color, width=w)
    elif icon == "trophy":
        draw.pieslice((cx - r * 2 // 3, cy - r * 4 // 3, cx + r * 2 // 3, cy + r // 3), 0, 180, fill=color)
        draw.arc((cx - r, cy - r * 3 // 4, cx - r // 3, cy), 90, 270, fill=color, width=w)
        draw.arc((cx + r // 3, cy - r * 3 // 4, cx + r, cy), -90, 90, fill=color, width=w)
        draw.rectangle((cx - w, cy + r // 3, cx + w, cy + r * 2 // 3), fill=color)
        draw.rectangle((cx - r // 2, cy + r * 2 // 3, cx + r // 2, cy + r * 2 // 3 + w * 2), fill=color)
    else:  # gift
        draw.rectangle((cx - r, cy - r // 4, cx + r, cy + r), outline=color, width=w)
        draw.rectangle((cx - r - w, cy - r // 2, cx + r + w, cy - r // 4), fill=color)
        draw.line([(cx, cy - r // 2), (cx, cy + r)], fill=color, width=w)
        draw.ellipse((cx - r // 2, cy - r, cx, cy - r // 2), outline=color, width=w)
        draw.ellipse((cx, cy - r, cx + r // 2, cy - r // 2), outline=color, width=w)


def offer_graphic_render(*, prize_name: str, points: int, points_label: str = "points", primary_color: str = "",
                         accent_color: str = "", logo: bytes | None = None, icon: str | None = None,
                         description: str = "") -> bytes:
    """A PNG (800×450) for a redemption offer. ``logo`` is an image file's bytes (PNG/JPEG/...); an unreadable
    logo is left out rather than failing the graphic."""
    primary = _rgb(primary_color, "#1d4ed8")
    accent = _rgb(accent_color, "#f59e0b")
    image = Image.new("RGB", (WIDTH, HEIGHT), primary)
    draw = ImageDraw.Draw(image)
    darker = _mix(primary, (0, 0, 0), 0.35)
    for y in range(HEIGHT):  # vertical gradient
        draw.line([(0, y), (WIDTH, y)], fill=_mix(primary, darker, y / HEIGHT))
    draw.polygon([(WIDTH * 0.62, HEIGHT), (WIDTH, HEIGHT * 0.38), (WIDTH, HEIGHT)], fill=_mix(accent, darker, 0.25))
    text_color = (255, 255, 255) if _luminance(primary) < 0.45 else (17, 24, 39)

    cx, cy, r = 170, HEIGHT // 2, 112
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255))
    draw.ellipse((cx - r + 8, cy - r + 8, cx + r - 8, cy + r - 8), outline=accent, width=6)
    _draw_icon(draw, icon or icon_for(f"{prize_name} {description}"), cx, cy, 62, primary)

    left, width = 320, WIDTH - 320 - 40
    title_font = _font(40)
    lines = _wrap(draw, prize_name.strip() or "—", title_font, width, 3)
    y = 120 if len(lines) < 3 else 80
    for line in lines:
        draw.text((left, y), line, font=title_font, fill=text_color)
        y += 50
    y += 16
    points_text = f"{points:,}".replace(",", "\u202f")
    points_font = _font(64)
    draw.text((left, y), points_text, font=points_font, fill=accent)
    label_x = left + draw.textlength(points_text, font=points_font) + 14
    draw.text((label_x, y + 26), points_label, font=_font(28), fill=text_color)

    if logo:
        try:
            mark = Image.open(io.BytesIO(logo))
            mark.load()
            mark = mark.convert("RGBA")
            mark.thumbnail((160, 64))
            plate = Image.new("RGBA", (mark.width + 20, mark.height + 16), (255, 255, 255, 230))
            plate.alpha_composite(mark, (10, 8))
            image.paste(plate, (WIDTH - plate.width - 24, 24), plate)
        except (OSError, ValueError, Image.DecompressionBombError):
            pass

    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()


# ------------------------------------------------------------------------------------------ SVG sanitiser
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ALLOWED_ELEMENTS = frozenset({
    "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "defs",
    "linearGradient", "radialGradient", "stop", "title", "desc", "clipPath", "mask", "use", "symbol", "pattern",
})
FORBIDDEN_VALUE = re.compile(r"javascript:|vbscript:|data:|expression\s*\(|@import|url\s*\(\s*['\"]?(?!#)",
                             re.IGNORECASE)
MAX_SVG_BYTES = 200_000


class UnsafeSVGError(ValueError):
    """The text is not an SVG document we can make safe (not XML, has a DOCTYPE or entities, too large)."""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


def svg_sanitize(svg: str) -> str:
    """The SVG with everything active or external removed: scripts, ``foreignObject`` and any element not on
    the allow list, ``on*`` handlers, links that leave the document (``href`` other than ``#id``), and
    ``url(...)``/``javascript:``/``data:`` values. Refuses DOCTYPEs and entities outright (entity bombs)."""
    if len(svg.encode()) > MAX_SVG_BYTES:
        raise UnsafeSVGError("the SVG is too large")
    if re.search(r"<!DOCTYPE|<!ENTITY", svg, re.IGNORECASE):
        raise UnsafeSVGError("DOCTYPE and entity declarations are not allowed")
    try:
        root = ET.fromstring(svg)  # noqa: S314 - no DOCTYPE/entities can reach the parser (checked above)
    except ET.ParseError as exc:
        raise UnsafeSVGError(f"not well-formed XML: {exc}") from exc
    if _local(root.tag) != "svg":
        raise UnsafeSVGError("the document is not an SVG")
    _clean_element(root)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="unicode")


def _clean_element(element: ET.Element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str) or _local(child.tag) not in ALLOWED_ELEMENTS:
            element.remove(child)  # script, style, foreignObject, a, image, iframe, comments…
            continue
        _clean_element(child)
    for name in list(element.attrib):
        local = _local(name).lower()
        value = element.attrib[name]
        external_link = local == "href" and not value.strip().startswith("#")
        if local.startswith("on") or external_link or FORBIDDEN_VALUE.search(value):
            del element.attrib[name]
    if element.text and _local(element.tag) not in ("text", "tspan", "title", "desc"):
        element.text = None
