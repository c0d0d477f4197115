"""Template sets (render/layouts.py): one layout per shape, each output drawn from the layout
nearest its aspect or the one it names, the layouts held to the same layers, and a changed
layout re-rendering only the outputs drawn from it."""

import io
import json
import re

import pytest
from PIL import Image

from renderfarm_dagster.catalog.inbox import submit_spec
from renderfarm_dagster.catalog.product_inputs import load_inputs, plan
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.catalog.templates import (
    bundled_template,
    load_template,
    submit_template,
)
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.spec import SpecError, parse_spec
from renderfarm_dagster.storage import OutputCheckpoint

BACKDROP = (0x12, 0x34, 0x56)
# One design per shape, each a full-bleed colour of its own, with the same two layers.
LAYOUTS = {
    "main": (1000, 1000, "#ff0000"),
    "portrait": (1000, 1250, "#00ff00"),
    "story": (1080, 1920, "#0000ff"),
    "landscape": (1910, 1000, "#ffff00"),
}
CHANNEL_SIZES = {"square": (1080, 1080), "feed": (1080, 1350), "story": (1080, 1920)}
CHANNEL_SIZES["link"] = (1200, 628)


def layout_svg(width: int, height: int, colour: str, *, layers: str | None = None) -> bytes:
    layers = (
        layers
        if layers is not None
        else (
            f'<text id="title" rf:layer="text" rf:box="40 40 {width - 80} 120" '
            'font-family="DejaVu Sans" font-size="60">Title</text>'
            f'<rect id="swatch" rf:layer="color" x="40" y="{height - 140}" width="100" '
            'height="100" fill="#000000"/>'
        )
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:rf="urn:renderfarm:template:1" '
        f'viewBox="0 0 {width} {height}" rf:backdrop="#123456">'
        f'<rect width="{width}" height="{height}" fill="{colour}"/>{layers}</svg>'
    ).encode()


@pytest.fixture
def card_set(storage):
    objects = storage.objects()
    for layout, (width, height, colour) in LAYOUTS.items():
        submit_template(objects, layout_svg(width, height, colour), layout, "card", layout)
    return objects


def channel_spec(**output_options) -> dict:
    return {
        "spec_version": 2,
        "product_id": "shoe",
        "template": "card",
        "layers": {"title": {"text": "Trail Runner"}},
        "variants": [{"variant_id": "red", "layers": {"swatch": {"color": "#d62828"}}}],
        "outputs": [
            {"name": name, "width": width, "height": height, "format": "png", **output_options}
            for name, (width, height) in CHANNEL_SIZES.items()
        ],
    }


def rendered(objects, doc) -> dict[str, Image.Image]:
    spec = parse_spec(json.dumps(doc).encode(), "spec").spec
    template = load_template(objects, "card")
    return {
        output.output_name: Image.open(io.BytesIO(output.data)).convert("RGB")
        for output in render_spec_variant(spec, "red", template=template)
    }


def corners(image: Image.Image) -> set[tuple[int, int, int]]:
    right, bottom = image.width - 1, image.height - 1
    return {image.getpixel(point) for point in [(0, 0), (right, 0), (right, bottom), (0, bottom)]}


def test_each_channel_is_drawn_from_its_own_layout_without_margins(card_set):
    images = rendered(card_set, channel_spec())
    expected = {"square": "main", "feed": "portrait", "story": "story", "link": "landscape"}
    for output, layout in expected.items():
        colour = LAYOUTS[layout][2]
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        # Every corner is the layout's own full-bleed colour: no backdrop margin anywhere.
        assert corners(images[output]) == {rgb}, output
        assert images[output].size == CHANNEL_SIZES[output]


def test_an_output_naming_a_layout_is_drawn_from_it_with_margins_where_the_shapes_differ(
    card_set,
):
    images = rendered(card_set, channel_spec(layout="portrait"))
    # The square output: the 4:5 layout whole, centred, backdrop left and right.
    assert corners(images["square"]) == {BACKDROP}
    assert images["square"].getpixel((540, 540)) == (0, 255, 0)


def test_a_shape_beyond_the_tolerance_gets_the_nearest_layout_whole_with_margins(card_set):
    doc = channel_spec()
    doc["outputs"] = [{"name": "banner", "width": 1600, "height": 600, "format": "png"}]
    (image,) = rendered(card_set, doc).values()
    # 8:3 is nearest 1.91:1, 28% away: the landscape layout whole, with backdrop bands.
    assert corners(image) == {BACKDROP}
    assert image.getpixel((800, 300)) == (255, 255, 0)


def test_a_spec_naming_a_layout_the_set_lacks_is_refused_at_its_path(card_set):
    doc = channel_spec()
    doc["outputs"][2]["layout"] = "reel"
    with pytest.raises(SpecError, match=r"outputs\[2\]\.layout.*no layout 'reel'.*main, landscape"):
        submit_spec(card_set, json.dumps(doc).encode(), "spec.json")


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            '<text id="title" rf:layer="text" rf:box="40 40 900 120" font-size="60">T</text>',
            'layout "story" has no layer "swatch" (a color layer in the main layout)',
        ),
        (
            '<text id="title" rf:layer="text" rf:box="40 40 900 120" font-size="60">T</text>'
            '<text id="swatch" rf:layer="text" rf:box="40 200 900 120" font-size="60">S</text>',
            'layout "story": layer "swatch" is a text layer here and a color layer in the main',
        ),
        (
            '<text id="title" rf:layer="text" rf:box="40 40 900 120" font-size="60">T</text>'
            '<rect id="swatch" rf:layer="color" width="10" height="10" fill="#000000"/>'
            '<rect id="extra" rf:layer="color" width="10" height="10" fill="#000000"/>',
            'layout "story": layer "extra" is not in the main layout',
        ),
    ],
    ids=["missing", "other-kind", "added"],
)
def test_a_layout_whose_layers_differ_is_refused_naming_layout_and_layer(storage, layers, message):
    objects = storage.objects()
    submit_template(objects, layout_svg(1000, 1000, "#ff0000"), "card.svg", "card")
    story = layout_svg(1080, 1920, "#0000ff", layers=layers)
    with pytest.raises(TemplateError, match=re.escape(message)) as raised:
        submit_template(objects, story, "card.story.svg", "card", "story")
    assert raised.value.source == "card.story.svg"
    assert objects.head("templates/card.story.svg") is None
    # Stored anyway (a sync that bypasses validation): the set is refused where it is used.
    objects.put("templates/card.story.svg", story, "image/svg+xml")
    with pytest.raises(TemplateError, match=re.escape(message)) as raised:
        load_template(objects, "card")
    assert raised.value.source == "templates/card.story.svg"


def test_changing_one_layout_re_renders_only_the_outputs_drawn_from_it(card_set, storage):
    spec = parse_spec(json.dumps(channel_spec()).encode(), "spec").spec
    checkpoints = storage.checkpoints()
    inputs = load_inputs(spec, card_set)
    for output in spec.outputs:
        key = f"renders/shoe/red/{output.name}.png"
        info = card_set.put(key, b"stored", "image/png")
        checkpoints.record(
            [
                OutputCheckpoint(
                    variant_id="red",
                    output_name=output.name,
                    format="png",
                    width=output.width,
                    height=output.height,
                    fingerprint=inputs.fingerprint("red", output),
                    product_id="shoe",
                    key=key,
                    sha256=info.sha256,
                    size=info.size,
                    run_id="run-1",
                )
            ]
        )
    assert plan(inputs, card_set, checkpoints)[0] == {}
    story = layout_svg(1080, 1920, "#0000ff").replace(b"Title", b"Titles")
    submit_template(card_set, story, "card.story.svg", "card", "story")
    todo, _ = plan(load_inputs(spec, card_set), card_set, checkpoints)
    assert todo == {"red": ("story",)}


def test_the_bundled_templates_have_a_layout_per_channel():
    for name in ("product-card", "banner"):
        layouts = bundled_template(name).layouts
        assert {"portrait", "story", "landscape"} <= set(layouts.layouts)
        for width, height in CHANNEL_SIZES.values():
            assert layouts.choose(width, height).fills, (name, width, height)
