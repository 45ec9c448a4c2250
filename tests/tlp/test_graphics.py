"""Offer graphics (Pillow) and the SVG sanitiser."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from apps.tlp.graphics import UnsafeSVGError, icon_for, offer_graphic_render, svg_sanitize


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def _logo(color: tuple[int, int, int]) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (120, 60), color).save(output, format="PNG")
    return output.getvalue()


def test_renders_a_png_in_the_tenant_colours():
    png = offer_graphic_render(prize_name="Vacation to Cabo", points=50000, primary_color="#0f766e",
                               accent_color="#f59e0b")
    image = _image(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.size == (800, 450)
    assert image.getpixel((5, 0)) == (15, 118, 110)  # the top-left corner is the primary colour
    colors = {color for _count, color in image.getcolors(maxcolors=1 << 20)}
    assert (245, 158, 11) in colors  # the points are drawn in the accent colour


def test_the_prize_points_and_logo_change_the_picture():
    base = _image(offer_graphic_render(prize_name="Concert Tickets", points=100000))
    other_name = _image(offer_graphic_render(prize_name="Smart TV", points=100000))
    with_logo = _image(offer_graphic_render(prize_name="Concert Tickets", points=100000, logo=_logo((255, 0, 0))))
    assert base.tobytes() != other_name.tobytes()
    assert with_logo.getpixel((800 - 24 - 70, 24 + 38)) == (255, 0, 0)
    assert base.getpixel((800 - 24 - 70, 24 + 38)) != (255, 0, 0)


def test_an_unreadable_logo_or_bad_colour_does_not_break_the_graphic():
    image = _image(offer_graphic_render(prize_name="Gift", points=10, logo=b"not an image", primary_color="red"))
    assert image.getpixel((5, 0)) == (29, 78, 216)  # the default blue


@pytest.mark.parametrize(("name", "icon"), [
    ("Vacation to Cabo", "plane"),
    ("Viagem para Cancún", "plane"),
    ("Concert Tickets", "ticket"),
    ("Ingressos para o show", "ticket"),
    ('Smart TV 55"', "screen"),
    ("Celular novo", "phone"),
    ("Jantar no restaurante", "cup"),
    ("Gift card $50", "card"),
    ("Tarjeta de regalo", "card"),
    ("Troféu de campeão", "trophy"),
    ("Mystery box", "gift"),
])
def test_the_icon_follows_the_prize_words(name, icon):
    assert icon_for(name) == icon


def test_the_sanitiser_removes_everything_active_or_external():
    dirty = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
        viewBox="0 0 10 10" onload="alert(1)">
      <script>alert(1)</script>
      <style>@import url(https://evil.example/x.css);</style>
      <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
      <defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>
      <a href="https://evil.example"><rect width="1" height="1"/></a>
      <image href="https://evil.example/pixel.png"/>
      <use xlink:href="#g"/>
      <use href="https://evil.example/sprite.svg#x"/>
      <rect width="5" height="5" fill="url(#g)" onclick="steal()" style="fill: url(https://evil.example/f)"/>
      <circle cx="5" cy="5" r="2" fill="javascript:alert(1)"/>
      <text x="1" y="9">Cabo</text>
    </svg>"""
    clean = svg_sanitize(dirty)
    for forbidden in ("script", "alert", "onload", "onclick", "foreignObject", "evil.example", "style",
                      "javascript", "<a ", "<image"):
        assert forbidden not in clean, forbidden
    assert 'fill="url(#g)"' in clean
    assert 'href="#g"' in clean
    assert "Cabo" in clean and "<circle" in clean and "linearGradient" in clean


@pytest.mark.parametrize("svg", [
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
    "<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>",
    "<html><body/></html>",
    "<svg xmlns='http://www.w3.org/2000/svg'>" + "<g/>" * 60000 + "</svg>",
])
def test_the_sanitiser_refuses_what_it_cannot_make_safe(svg):
    with pytest.raises(UnsafeSVGError):
        svg_sanitize(svg)
