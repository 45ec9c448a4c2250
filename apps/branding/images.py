"""Logo uploads: verified with Pillow and re-encoded, so what is stored and served is pixels only.

Re-encoding drops everything but the picture: EXIF (camera, GPS), XMP, text chunks, ICC profiles, and any
payload appended after the image data. SVG is refused outright: it is a document that can carry scripts,
and the logo is served from the tenant's own origin.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_LOGO_BYTES = 512 * 1024
# Refused before decoding (a small file can declare a huge canvas: a decompression bomb).
MAX_LOGO_PIXELS = 4096 * 4096
# The top bar shows the logo about 40 px tall; 512 px covers high-density screens and offer graphics.
MAX_LOGO_SIDE = 512
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class LogoError(ValueError):
    """The upload cannot be a logo; ``code`` says why (too_large, svg, unreadable, format, dimensions)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanLogo:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def logo_clean(data: bytes) -> CleanLogo:
    """The logo re-encoded in its own format (PNG, JPEG or WebP), turned upright per its EXIF orientation and
    scaled down to fit 512×512. Refuses (LogoError) more than 512 KB, SVG, anything Pillow cannot verify and
    decode, other formats (GIF, BMP, TIFF...) and canvases over 16 megapixels."""
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError("too_large")
    if _looks_like_svg(data):
        raise LogoError("svg")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                width, height = probe.size
                probe.verify()  # structure and checksums; the image is unusable afterwards
            if image_format not in FORMATS:
                raise LogoError("format")
            if width * height > MAX_LOGO_PIXELS or not width or not height:
                raise LogoError("dimensions")
            with Image.open(io.BytesIO(data)) as source:
                source.load()  # truncated pixel data fails here
                image = ImageOps.exif_transpose(source)
    except LogoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise LogoError("unreadable") from exc
    # Palette and single-colour transparency live in ``info``, which is dropped below: make it an alpha channel.
    if image.mode == "P" or "transparency" in image.info:
        image = image.convert("RGBA")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.thumbnail((MAX_LOGO_SIDE, MAX_LOGO_SIDE), Image.Resampling.LANCZOS)
    image.info = {}  # nothing carried over: no ICC profile, EXIF or text chunks in the output
    output = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(output, format="JPEG", quality=90, optimize=True)
    elif image_format == "WEBP":
        image.convert("RGBA" if "A" in image.getbands() else "RGB").save(
            output, format="WEBP", quality=90, method=4)
    else:
        image.save(output, format="PNG", optimize=True)
    cleaned = output.getvalue()
    return CleanLogo(data=cleaned, content_type=FORMATS[image_format], width=image.width, height=image.height,
                     sha256=hashlib.sha256(cleaned).hexdigest())
