"""Image files for the branding tests, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, PngImagePlugin


def png(size: tuple[int, int] = (64, 32), *, text: dict[str, str] | None = None, color: str = "#ff0000") -> bytes:
    image = Image.new("RGBA", size, color)
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    output = io.BytesIO()
    image.save(output, format="PNG", pnginfo=info)
    return output.getvalue()


def logo_mark(size: tuple[int, int] = (120, 48)) -> bytes:
    """A logo that shows on any top bar: a white plate with a teal mark and a bar."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=height // 4, fill="#ffffff")
    draw.ellipse((height // 6, height // 6, height * 5 // 6, height * 5 // 6), fill="#0f766e")
    draw.rectangle((height, height * 2 // 5, width - height // 4, height * 3 // 5), fill="#f59e0b")
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def jpeg_with_exif(size: tuple[int, int] = (80, 40)) -> bytes:
    image = Image.new("RGB", size, "#00aa00")
    exif = Image.Exif()
    exif[0x013B] = "Secret Photographer"  # Artist
    exif[0x0112] = 6  # Orientation: rotated 90° clockwise
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif.tobytes())
    return output.getvalue()


def of_format(image_format: str, size: tuple[int, int] = (16, 16)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, "#123456").save(output, format=image_format)
    return output.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
