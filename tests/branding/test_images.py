"""Logo cleaning (apps/branding/images.py): verified, re-encoded, metadata gone; SVG and the rest refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from apps.branding.images import MAX_LOGO_BYTES, LogoError, logo_clean
from tests.branding.images import SVG, jpeg_with_exif, of_format, png


def test_a_png_is_re_encoded_without_its_text_chunks():
    cleaned = logo_clean(png(text={"Author": "Jane Secret", "Comment": "internal"}))
    assert cleaned.content_type == "image/png" and (cleaned.width, cleaned.height) == (64, 32)
    assert b"Jane Secret" not in cleaned.data and b"tEXt" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.format == "PNG" and image.mode == "RGBA" and not image.text


def test_a_jpeg_loses_its_exif_after_being_turned_upright():
    cleaned = logo_clean(jpeg_with_exif((80, 40)))
    assert cleaned.content_type == "image/jpeg" and b"Secret Photographer" not in cleaned.data
    assert (cleaned.width, cleaned.height) == (40, 80)  # the orientation tag was applied, then dropped
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert not image.getexif()


def test_webp_is_accepted_and_large_logos_are_scaled_down():
    cleaned = logo_clean(of_format("WEBP", (1024, 256)))
    assert cleaned.content_type == "image/webp" and (cleaned.width, cleaned.height) == (512, 128)
    assert len(cleaned.sha256) == 64


@pytest.mark.parametrize(("data", "code"), [
    (SVG, "svg"),
    (b"  \n<svg xmlns='http://www.w3.org/2000/svg'/>", "svg"),
    (of_format("GIF"), "format"),
    (of_format("BMP"), "format"),
    (b"not an image at all", "unreadable"),
    (png()[:60], "unreadable"),  # truncated
    (b"\x00" * (MAX_LOGO_BYTES + 1), "too_large"),
])
def test_what_cannot_be_a_logo_is_refused(data, code):
    with pytest.raises(LogoError) as refused:
        logo_clean(data)
    assert refused.value.code == code


def test_a_small_file_declaring_a_huge_canvas_is_refused_before_decoding():
    bomb = io.BytesIO()
    Image.new("1", (5000, 5000)).save(bomb, format="PNG")  # ~3 KB on disk, 25 megapixels
    assert len(bomb.getvalue()) < MAX_LOGO_BYTES
    with pytest.raises(LogoError) as refused:
        logo_clean(bomb.getvalue())
    assert refused.value.code == "dimensions"
