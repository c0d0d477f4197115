import dataclasses
import hashlib
import io
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from defusedxml import EntitiesForbidden
from PIL import Image

from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.render.contact_sheet import contact_sheet
from renderfarm_dagster.render.raster import ExternalResourceError, rasterize
from renderfarm_dagster.spec import parse_spec
from tests.conftest import bundled_job, layout_of, spec_bytes

SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = """<&>"' </text><image href="file:///etc/passwd"/>"""


def parsed(doc):
    return parse_spec(spec_bytes(doc), "test").spec


@pytest.mark.parametrize("template", ["product-card", "banner"])
def test_outputs_have_requested_format_and_dimensions(spec_doc, template):
    spec_doc["template"] = template
    spec_doc["outputs"].append({"name": "wide", "width": 200, "height": 100, "format": "png"})
    outputs = render_spec_variant(parsed(spec_doc), "red")
    assert [(o.output_name, o.width, o.height) for o in outputs] == [
        ("hero", 160, 160),
        ("listing", 96, 96),
        ("thumb", 48, 48),
        ("wide", 200, 100),
    ]
    for output in outputs:
        with Image.open(io.BytesIO(output.data)) as image:
            assert image.format == {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG"}[output.format]
            assert image.size == (output.width, output.height)


def sha(output) -> str:
    return hashlib.sha256(output.data).hexdigest()


def test_only_requested_outputs_are_rendered(spec_doc):
    outputs = render_spec_variant(parsed(spec_doc), "red", ["thumb"])
    assert [o.output_name for o in outputs] == ["thumb"]


def test_same_spec_gives_same_bytes_in_this_and_other_processes(spec_doc):
    spec = parsed(spec_doc)
    here = [sha(o) for o in render_spec_variant(spec, "red")]
    again = [sha(o) for o in render_spec_variant(spec, "red")]
    with RenderPool(workers=2) as pool:
        pooled = {
            variant_id: [sha(o) for o in outputs]
            for job, outputs in pool.render(
                [bundled_job(spec, "red"), bundled_job(spec, "blue", ("hero",))]
            )
            for variant_id in [job.variant_id]
        }
    assert here == again == pooled["red"]


def test_render_is_stable_across_interpreters(spec_doc):
    # A fresh interpreter has fresh hash seeds and font caches; bytes must not depend on them.
    code = (
        "import hashlib, sys, json; from renderfarm_dagster.spec import parse_spec;"
        "from renderfarm_dagster.catalog.rendering import render_spec_variant;"
        "s = parse_spec(sys.stdin.buffer.read(), 'x').spec;"
        "outputs = render_spec_variant(s, 'blue');"
        "print(' '.join(hashlib.sha256(o.data).hexdigest() for o in outputs))"
    )
    shas = (
        subprocess.run(
            [sys.executable, "-c", code],
            input=spec_bytes(spec_doc),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split()
    )
    assert shas == [sha(o) for o in render_spec_variant(parsed(spec_doc), "blue")]


@pytest.mark.parametrize("template", ["product-card", "banner"])
def test_every_text_field_reaches_the_document_only_as_glyph_outlines(spec_doc, template):
    spec_doc["template"] = template
    for field in ("title", "subtitle", "badge"):
        spec_doc[field] = f"{field} {HOSTILE}"
    spec_doc["variants"][0]["label"] = f"label {HOSTILE}"
    spec_doc["price"]["currency"] = "XYZ"
    spec = parsed(spec_doc)
    laid_out = layout_of(spec, "red")
    root = ET.fromstring(laid_out.svg)
    assert not root.findall(f".//{SVG_NS}image")
    assert not root.findall(f".//{SVG_NS}text")
    for field in ("title", "subtitle", "badge", "label"):
        # Set as the very characters given, and drawn: a glyph for each visible one.
        assert laid_out.text[field].text.startswith(f"{field} <&>\"'")
        assert sum(len(run.glyphs) for run in laid_out.text[field].runs) >= len(f"{field} <&>")
        group = root.find(f".//{SVG_NS}g[@id='{field}']")
        assert group.find(f"{SVG_NS}path").get("d")
    assert b"<image" not in laid_out.svg and b"passwd" not in laid_out.svg
    rasterize(laid_out.svg, 64, 64)  # and it still draws


@pytest.mark.parametrize(
    "reference",
    [
        '<image href="file:///etc/passwd" width="10" height="10"/>',
        '<image href="http://169.254.169.254/latest/meta-data" width="10" height="10"/>',
        '<image href="data:image/png;base64,iVBORw0KGgo=" width="10" height="10"/>',
        '<use href="file:///tmp/other.svg#x"/>',
    ],
)
def test_external_resources_are_refused(reference):
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{reference}</svg>'
    with pytest.raises(ExternalResourceError):
        rasterize(svg.encode(), 10, 10)


def test_xml_entities_are_refused():
    svg = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&x;</text></svg>'
    )
    # cairosvg parses with defusedxml, which refuses entity declarations outright.
    with pytest.raises(EntitiesForbidden):
        rasterize(svg, 10, 10)


def test_other_aspect_ratios_get_margins_not_distortion(spec_doc):
    spec_doc["outputs"] = [{"name": "wide", "width": 300, "height": 100, "format": "png"}]
    (output,) = render_spec_variant(parsed(spec_doc), "red")
    with Image.open(io.BytesIO(output.data)) as image:
        # The card is centred: both side margins show the backdrop colour.
        assert image.getpixel((5, 50)) == image.getpixel((294, 50))


def test_an_output_rendered_alone_has_the_bytes_it_has_in_a_full_render(spec_doc):
    # A resumed run renders only a variant's missing outputs; the bytes must not depend on it.
    spec_doc["outputs"] = [
        {"name": "hero", "width": 400, "height": 400, "format": "png"},
        {"name": "listing", "width": 200, "height": 200, "format": "webp"},
        {"name": "thumb", "width": 64, "height": 64, "format": "jpeg"},
        {"name": "banner", "width": 300, "height": 100, "format": "png"},
    ]
    spec = parsed(spec_doc)
    full = {o.output_name: sha(o) for o in render_spec_variant(spec, "red")}
    for name in full:
        (alone,) = render_spec_variant(spec, "red", [name])
        assert sha(alone) == full[name], name
    pair = {o.output_name: sha(o) for o in render_spec_variant(spec, "red", ["thumb", "banner"])}
    assert pair == {"thumb": full["thumb"], "banner": full["banner"]}


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunks.append(data[position + 4 : position + 8])
        position += 12 + length
    return chunks


def test_png_outputs_carry_pixels_and_resolution_only(spec_doc):
    (hero,) = render_spec_variant(parsed(spec_doc), "red", ["hero"])
    assert [c for c in png_chunks(hero.data) if c != b"IDAT"] == [b"IHDR", b"pHYs", b"IEND"]
    with Image.open(io.BytesIO(hero.data)) as image:
        assert image.mode == "RGB"
        assert round(image.info["dpi"][0]) == 96


def test_contact_sheet_tiles_every_image():
    def solid(size, colour):
        buffer = io.BytesIO()
        Image.new("RGB", size, colour).save(buffer, "JPEG")
        return buffer.getvalue()

    images = [solid((200, 200), "red")] * 8 + [solid((400, 150), "blue")]
    sheet = contact_sheet([("main", images)], tile=160, columns=8)
    with Image.open(io.BytesIO(sheet)) as full:
        # 8 columns and 2 rows of 160 px tiles with 8 px gaps around them.
        assert full.size == (8 * 168 + 8, 2 * 168 + 8)
        assert full.getpixel((8 + 80, 8 + 80))[0] > 200  # a red tile
        assert full.getpixel((8 + 168 + 80, 8 + 168 + 80)) == pytest.approx((255, 255, 255), abs=8)
        assert full.getpixel((8 + 80, 8 + 168 + 80))[2] > 200  # the banner, fitted and centred
    with pytest.raises(ValueError, match="at least one image"):
        contact_sheet([("main", [])])


def test_a_contact_sheet_has_a_headed_band_per_layout():
    def solid(size, colour):
        buffer = io.BytesIO()
        Image.new("RGB", size, colour).save(buffer, "PNG")
        return buffer.getvalue()

    squares = [solid((200, 200), "red")] * 3
    stories = [solid((90, 160), "blue")] * 3
    sheet = contact_sheet([("main", squares), ("story", stories)], tile=160, columns=8)
    with Image.open(io.BytesIO(sheet)) as full:
        heading = 160 // 6
        # 3 columns; two bands, each a heading and one row of tiles.
        assert full.size == (3 * 168 + 8, 8 + 2 * (heading + 168))
        assert full.getpixel((8 + 80, 8 + heading + 80))[0] > 200  # main: a red tile
        story_row = 8 + 2 * heading + 168
        assert full.getpixel((8 + 80, story_row + 80))[2] > 200  # story: a blue tile
        # The band's name is written in its heading.
        assert full.crop((8, 8, 80, 8 + heading)).convert("L").getextrema()[0] < 160


def test_an_output_that_does_not_decode_as_asked_is_never_handed_over(spec_doc, monkeypatch):
    from renderfarm_dagster.render import variant as variant_module
    from renderfarm_dagster.render.raster import EncodedOutputError

    spec = parsed(spec_doc)
    png = variant_module.FORMATS["png"]

    def wrong_size_png(image, quality):
        # An encoder fault: the right format, the wrong dimensions.
        return png.encode(image.resize((17, 17)), quality)

    faulty = dataclasses.replace(png, encode=wrong_size_png)
    monkeypatch.setitem(variant_module.FORMATS, "png", faulty)
    with pytest.raises(EncodedOutputError, match=r"test-shoe/red/hero: is 17x17, expected"):
        render_spec_variant(spec, "red")


def test_a_blank_rendition_fails_its_variant_as_a_bad_input_and_is_never_encoded(
    spec_doc, monkeypatch
):
    from renderfarm_dagster.render import variant as variant_module
    from renderfarm_dagster.render.errors import BlankRenditionError, RenderInputError

    spec = parsed(spec_doc)
    encoded = []
    monkeypatch.setattr(
        variant_module,
        "rasterize",
        lambda svg, width, height, images, outlines: Image.new("RGB", (width, height), "white"),
    )
    for name, output_format in list(variant_module.FORMATS.items()):
        counting = dataclasses.replace(output_format, encode=lambda *args: encoded.append(args))
        monkeypatch.setitem(variant_module.FORMATS, name, counting)
    with pytest.raises(BlankRenditionError) as raised:
        render_spec_variant(spec, "red")
    assert isinstance(raised.value, RenderInputError)
    assert raised.value.key == "variant red output hero"
    assert "renders blank (a single flat colour) from template" in raised.value.reason
    assert encoded == []


def test_glyph_outlines_are_drawn_from_cairos_path_not_parsed_again(spec_doc, monkeypatch):
    from renderfarm_dagster.render import raster

    spec_doc["variants"][0]["label"] = "سعر 89 · 日本語 · Größe"
    spec = parsed(spec_doc)
    laid_out = layout_of(spec, "red")
    assert laid_out.outlines and all(path for path in laid_out.outlines)
    parsed_paths = []
    parse = raster._parse_path

    def counting(surface, node):
        parsed_paths.append(node.get("d"))
        parse(surface, node)

    monkeypatch.setattr(raster, "_parse_path", counting)
    fast = rasterize(laid_out.svg, 300, 300, outlines=laid_out.outlines)
    # The template's own paths are parsed; no glyph outline is (cairosvg's TAGS entry for
    # <path> is still the one render/raster.py installs).
    assert not set(parsed_paths) & set(laid_out.outlines)
    parsed_paths.clear()
    slow = rasterize(laid_out.svg, 300, 300)
    assert set(laid_out.outlines) <= set(parsed_paths)
    # The same shape either way: the outline's points are the path data's integers.
    assert fast.tobytes() == slow.tobytes()


@pytest.mark.parametrize("variant_id", ["green-350-ar", "green-350-ja"])
def test_shaped_text_renders_the_same_bytes_in_a_fresh_interpreter(variant_id):
    # Fresh font maps, glyph caches and fontconfig scans: the bytes must not depend on them.
    from tests.conftest import EXAMPLES

    path = EXAMPLES / "nordlicht-thermobecher.json"
    photo = EXAMPLES / "assets" / "nordlicht-thermobecher" / "studio.jpg"
    code = (
        "import hashlib, sys; from renderfarm_dagster.spec import parse_spec;"
        "from renderfarm_dagster.catalog.rendering import render_spec_variant;"
        f"s = parse_spec(open({str(path)!r}, 'rb').read(), 'x').spec;"
        f"p = {{'assets/nordlicht-thermobecher/studio.jpg': open({str(photo)!r}, 'rb').read()}};"
        f"outputs = render_spec_variant(s, {variant_id!r}, photos=p);"
        "print(' '.join(hashlib.sha256(o.data).hexdigest() for o in outputs))"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    spec = parse_spec(path.read_bytes(), "x").spec
    here = render_spec_variant(
        spec, variant_id, photos={"assets/nordlicht-thermobecher/studio.jpg": photo.read_bytes()}
    )
    assert fresh.stdout.decode().split() == [sha(output) for output in here]
