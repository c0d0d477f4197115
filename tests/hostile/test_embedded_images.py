"""Bitmaps embedded in a template (a logo, a texture), as design tools export them (issue 27, point
1): drawn, and checked as photos are, since a template is untrusted input (point 4): their type,
their pixels counted before anything is decoded, the right way up, in sRGB."""

import base64
import io

import pytest
from PIL import Image

from renderfarm_dagster.catalog.preview import template_previews
from renderfarm_dagster.catalog.templates import TemplateSource
from renderfarm_dagster.render.embedded_images import MAX_EMBEDDED_PIXELS
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.template import parse_template

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:rf="urn:renderfarm:template:1" viewBox="0 0 200 200">\n'
    '<rect width="200" height="200" fill="#ffffff"/>\n'
)
BAND = '<rect id="band" rf:layer="color" y="180" width="200" height="20" fill="#2a9d8f"/>\n'


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def with_image(data: bytes, mime: str = "image/png", attribute: str = "xlink:href") -> bytes:
    uri = f"data:{mime};base64," + base64.b64encode(data).decode()
    return (
        HEAD
        + f'<image x="50" y="50" width="100" height="50" {attribute}="{uri}"/>\n'
        + BAND
        + "</svg>"
    ).encode()


def preview_of(document: bytes) -> Image.Image:
    template = parse_template(document, "templates/t.svg", "t")
    data = template_previews(TemplateSource("t", document, template, False))["t.png"]
    return Image.open(io.BytesIO(data)).convert("RGB")


@pytest.mark.parametrize(
    ("image_format", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_an_embedded_bitmap_is_drawn(image_format, mime):
    logo = Image.new("RGB", (40, 20), (200, 30, 40))
    preview = preview_of(with_image(encoded(logo, image_format), mime, attribute="href"))
    red, green, blue = preview.getpixel((100, 75))
    assert abs(red - 200) < 8 and green < 40 and blue < 50
    assert preview.getpixel((10, 10)) == (255, 255, 255)


def test_an_embedded_jpeg_stored_sideways_is_drawn_the_right_way_up():
    # 20 x 40 stored, its left half blue; EXIF orientation 6 turns it clockwise: upright it is
    # 40 x 20, its top half blue.
    stored = Image.new("RGB", (20, 40), (20, 40, 200))
    stored.paste((200, 30, 40), (10, 0, 20, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    preview = preview_of(with_image(encoded(stored, "JPEG", exif=exif), "image/jpeg"))
    top, bottom = preview.getpixel((100, 60)), preview.getpixel((100, 90))
    assert top[2] > 150 and bottom[0] > 150


def test_an_embedded_image_whose_bytes_are_not_its_type_is_refused_at_its_line():
    jpeg = encoded(Image.new("RGB", (8, 8), "red"), "JPEG")
    with pytest.raises(TemplateError) as refused:
        parse_template(with_image(jpeg, "image/png"), "templates/t.svg", "t")
    (problem,) = refused.value.problems
    assert (problem.line, problem.element) == (3, "image")
    assert "is a JPEG image, but its extension says PNG" in problem.message


def test_an_embedded_image_bomb_is_refused_from_its_header_before_decoding():
    # 5,000 x 5,000 pixels of one colour: a few kilobytes, 100 MB once decoded.
    bomb = encoded(Image.new("L", (5000, 5000)), "PNG", optimize=True)
    assert len(bomb) < 100_000
    with pytest.raises(TemplateError) as refused:
        parse_template(with_image(bomb), "templates/t.svg", "t")
    (problem,) = refused.value.problems
    assert f"over the limit of {MAX_EMBEDDED_PIXELS:,}" in problem.message


def test_embedded_base64_that_does_not_decode_is_refused():
    document = HEAD + '<image width="9" height="9" href="data:image/png;base64,abc"/>\n</svg>'
    with pytest.raises(TemplateError, match="embedded image: bad base64"):
        parse_template(document.encode(), "templates/t.svg", "t")
