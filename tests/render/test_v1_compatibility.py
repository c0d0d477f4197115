"""Version 1 specs render from the bundled template files as they did from the Python templates.

The reference is the Python drawing code those templates replaced (tests/render/
legacy_templates.py). The stated tolerance: per output, at most 0.5% of pixels differ by more
than 16/255 in any channel, and the mean absolute difference is under 1/255. (Measured when the
files were made: identical pixels for every example.)

Since text is set by Pango with kerning and fallback fonts (issue 17), a line can hold a few
more characters than the letter-by-letter measure of the Python templates fitted, so the text
layers' boxes (and the shapes that hug them) are left out of the comparison; text layout has
its own tests (tests/render/test_typeset.py).
"""

from fractions import Fraction

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from renderfarm_dagster.catalog.templates import bundled_template
from renderfarm_dagster.render.kinds import KINDS
from renderfarm_dagster.render.kinds.text import TextLayer
from renderfarm_dagster.render.raster import rasterize
from renderfarm_dagster.spec import parse_spec
from tests.conftest import V1_EXAMPLES, spec_bytes, svg_of
from tests.render.legacy_templates import TEMPLATES, VariantContent

MAX_DIFFERING_SHARE = 0.005
MAX_MEAN_DIFFERENCE = 1.0
SIZES = [(Fraction(1), 500, 500), (Fraction(8, 3), 800, 300), (Fraction(2, 3), 400, 600)]


def difference(spec, variant_id: str, aspect: Fraction, width: int, height: int):
    new = rasterize(svg_of(spec, variant_id, aspect), width, height)
    legacy_svg = TEMPLATES[spec.template].svg(VariantContent.from_spec(spec, variant_id), aspect)
    old = rasterize(legacy_svg, width, height)
    delta = ImageChops.difference(new, old).convert("L")
    outside_text = text_mask(spec.template, aspect, width, height)
    delta = ImageChops.multiply(delta, outside_text)
    compared = ImageStat.Stat(outside_text).sum[0] / 255
    differing = sum(delta.histogram()[17:]) / compared
    return differing, ImageStat.Stat(delta).sum[0] / compared


def text_mask(template_name: str, aspect: Fraction, width: int, height: int):
    """White where pixels are compared: everywhere but the text layers' boxes (with their
    padding, which the badge's pill takes)."""
    template = bundled_template(template_name).template
    x0, y0, view_width, _ = template.view_box(aspect)
    scale = width / view_width
    mask = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(mask)
    for layer in template.layers.values():
        if isinstance(layer, TextLayer):
            margin = layer.padding + 4
            box = layer.box
            draw.rectangle(
                [
                    (box.x - margin - x0) * scale,
                    (box.y - margin - y0) * scale,
                    (box.x + box.width + margin - x0) * scale,
                    # Lines below the box's top grow downwards with the flow.
                    (box.y + box.height + margin - y0) * scale,
                ],
                fill=0,
            )
    return mask


def specs():
    for path in sorted(V1_EXAMPLES.glob("*.json")):
        spec = parse_spec(path.read_bytes(), path.name).spec
        assert spec.spec_version == 1
        yield path.name, spec


@pytest.mark.parametrize(("name", "spec"), list(specs()))
def test_every_example_variant_renders_within_tolerance_of_the_python_templates(name, spec):
    for template in ("product-card", "banner"):
        spec = spec.model_copy(update={"template": template})
        for variant in spec.variants:
            for aspect, width, height in SIZES:
                differing, mean = difference(spec, variant.variant_id, aspect, width, height)
                where = f"{name} on {template}, {variant.variant_id} at {width}x{height}"
                assert differing <= MAX_DIFFERING_SHARE and mean < MAX_MEAN_DIFFERENCE, (
                    where,
                    differing,
                    mean,
                )


@pytest.mark.parametrize("template", ["product-card", "banner"])
def test_optional_fields_long_text_and_shrinking_stay_within_tolerance(spec_doc, template):
    spec_doc["template"] = template
    spec_doc["title"] = "An unusually long product title that has to wrap and shrink to fit " * 2
    spec_doc["subtitle"] = "A subtitle long enough to need its second line, and then some more"
    spec_doc["variants"][1]["badge"] = "Limited edition colourway"
    del spec_doc["price"]
    spec_doc["variants"][2]["price"] = {"amount": "1234567.89", "currency": "CHF"}
    spec_doc["variants"][0]["title"] = "Short"
    spec = parse_spec(spec_bytes(spec_doc), "x").spec
    for variant in spec.variants:
        for aspect, width, height in SIZES:
            differing, mean = difference(spec, variant.variant_id, aspect, width, height)
            assert differing <= MAX_DIFFERING_SHARE and mean < MAX_MEAN_DIFFERENCE, (
                variant.variant_id,
                width,
                height,
                differing,
                mean,
            )


def test_every_version_1_template_is_a_bundled_file_with_the_layers_version_1_sets(spec_doc):
    from typing import get_args

    from renderfarm_dagster.catalog.templates import bundled_names, bundled_template
    from renderfarm_dagster.spec import ProductSpecV1

    names = get_args(ProductSpecV1.model_fields["template"].annotation)
    assert set(names) <= set(bundled_names())
    spec = parse_spec(spec_bytes(spec_doc), "v1.json").spec
    for name in names:
        layers = bundled_template(name).template.layers
        for variant in spec.variants:
            for layer_id, value in spec.layer_values(variant.variant_id).items():
                assert layer_id in layers, (name, layer_id)
                kind = KINDS[layers[layer_id].kind]
                assert set(value.fields) <= set(kind.values), (name, layer_id)
