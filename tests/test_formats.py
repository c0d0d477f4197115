"""Every output format of the registry (renderfarm_dagster/formats.py) encodes what it says, renders
through the whole path when a spec asks for it, and is documented as it is
(docs/templates-and-specs.md, "Output formats"). A new entry is proven here (docs/extending.md)."""

import dataclasses
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.spec import SpecError, parse_spec
from tests.conftest import spec_bytes

DOCS = Path(__file__).resolve().parent.parent / "docs" / "templates-and-specs.md"


def sample() -> Image.Image:
    """A rendition as the renderer hands it to an encoder: RGB, the backdrop painted."""
    image = Image.new("RGB", (64, 48), (200, 40, 30))
    image.paste((20, 60, 200), (8, 8, 40, 30))
    return image


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_encodes_a_file_pillow_decodes_as_that_format_and_size(name):
    output_format = FORMATS[name]
    quality = output_format.default_quality
    data = output_format.encode(sample(), quality)
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == output_format.pillow_format
        assert decoded.size == (64, 48)
    # No timestamp or other varying metadata: the same pixels give the same bytes.
    assert output_format.encode(sample(), quality) == data


@pytest.mark.parametrize("name", FORMATS)
def test_a_spec_asking_for_each_format_gets_it_under_its_extension(spec_doc, name):
    spec_doc["outputs"] = [{"name": "out", "width": 120, "height": 90, "format": name}]
    spec = parse_spec(spec_bytes(spec_doc), "test").spec
    (output,) = render_spec_variant(spec, "red")
    assert spec.outputs[0].extension == FORMATS[name].extension
    with Image.open(io.BytesIO(output.data)) as decoded:
        assert (decoded.format, decoded.size) == (FORMATS[name].pillow_format, (120, 90))


@pytest.mark.parametrize("name", FORMATS)
def test_quality_is_accepted_exactly_for_lossy_formats(spec_doc, name):
    spec_doc["outputs"] = [{"name": "out", "width": 120, "height": 90, "format": name}]
    spec_doc["outputs"][0]["quality"] = 70
    if FORMATS[name].lossless:
        with pytest.raises(SpecError, match=r"outputs\[0\]\.quality"):
            parse_spec(spec_bytes(spec_doc), "test")
    else:
        assert parse_spec(spec_bytes(spec_doc), "test").spec.outputs[0].quality == 70


def test_the_documented_formats_are_the_registry():
    section = DOCS.read_text().split("## Output formats", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `\.(\w+)` \| `([\w/]+)` \| ([^|]+) \|", section, re.M)
    documented = {
        name: (extension, content_type, "default" not in quality, quality)
        for name, extension, content_type, quality in rows
    }
    assert documented.keys() == FORMATS.keys(), f"{DOCS.name}'s format table is not FORMATS"
    for name, output_format in FORMATS.items():
        extension, content_type, lossless, quality = documented[name]
        assert (extension, content_type, lossless) == (
            output_format.extension,
            output_format.content_type,
            output_format.lossless,
        ), name
        if not output_format.lossless:
            assert f"default {output_format.default_quality}" in quality, name


def test_jpg_is_a_name_for_jpeg_stored_as_today(spec_doc):
    spec_doc["outputs"] = [
        {"name": "a", "width": 120, "height": 90, "format": "jpg"},
        {"name": "b", "width": 120, "height": 90, "format": "jpeg"},
    ]
    spec = parse_spec(spec_bytes(spec_doc), "test").spec
    assert [output.format for output in spec.outputs] == ["jpeg", "jpeg"]
    assert spec.outputs[0].extension == "jpg"
    # The same output under either name: the same fingerprint, no re-render.
    assert spec.outputs[0].model_dump(exclude={"name"}) == spec.outputs[1].model_dump(
        exclude={"name"}
    )


def test_an_unknown_format_names_every_accepted_name(spec_doc):
    spec_doc["outputs"] = [{"name": "a", "width": 120, "height": 90, "format": "heic"}]
    with pytest.raises(SpecError, match=r"outputs\[0\]\.format.*'avif'.*'jpg'.*not 'heic'"):
        parse_spec(spec_bytes(spec_doc), "test")


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("fault", ["truncated", "wrong size"])
def test_a_faulty_encoding_of_each_format_is_never_handed_over(spec_doc, monkeypatch, name, fault):
    from renderfarm_dagster.render import variant as variant_module
    from renderfarm_dagster.render.raster import EncodedOutputError

    spec_doc["outputs"] = [{"name": "out", "width": 120, "height": 90, "format": name}]
    spec = parse_spec(spec_bytes(spec_doc), "test").spec
    good = FORMATS[name]

    def faulty(image, quality):
        if fault == "truncated":
            data = good.encode(image, quality)
            return data[: len(data) // 3]
        return good.encode(image.resize((17, 17)), quality)

    monkeypatch.setitem(variant_module.FORMATS, name, dataclasses.replace(good, encode=faulty))
    with pytest.raises(EncodedOutputError, match=r"test-shoe/red/out: (is cut short|is 17x17)"):
        render_spec_variant(spec, "red")
