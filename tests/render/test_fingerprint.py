"""The fingerprint is a deliberate list of what changes pixels (render/fingerprint.py): every
field that draws is in it, and a field added at its default changes no fingerprint."""

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from renderfarm_dagster.catalog.product_inputs import ProductInputs
from renderfarm_dagster.catalog.rendering import variant_job
from renderfarm_dagster.catalog.templates import bundled_template
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.fingerprint import (
    FINGERPRINT_VERSION,
    OUTPUT_FIELDS,
    render_fingerprint,
)
from renderfarm_dagster.render.kinds import KINDS, photo_keys
from renderfarm_dagster.render.variant import render_variant
from renderfarm_dagster.spec import parse_spec
from renderfarm_dagster.spec_fields import OutputSpec
from tests.conftest import EXAMPLES
from tests.images import cut_out, encoded, marked

SPEC = parse_spec((EXAMPLES / "trail-runner-2.json").read_bytes(), "trail-runner-2").spec
VARIANT = "red-40"
PHOTOS = {
    key: (EXAMPLES / "assets" / Path(key).relative_to("assets")).read_bytes()
    for key in SPEC.photo_keys()
}
# Much wider than the photo box, with a block at each side: its crop shows where it was cut.
OTHER_PHOTO = encoded(marked(900, 300), "PNG")
OUTPUT = OutputSpec(name="card", width=160, height=160, format="jpeg")
WIDE = "assets/other.png"
CUT_OUT = "assets/cut-out.png"

# For every field a layer value or an output has: a change to it, on the layer it suits, from
# that layer's value in the base (or from `from`, where the base does not set what it needs).
LAYER_CHANGES = {
    "text": ("title", None, LayerValue(text="Another title")),
    "image": ("photo", None, LayerValue(image=WIDE)),
    "fit": ("photo", LayerValue(image=WIDE, fit="cover"), LayerValue(image=WIDE, fit="contain")),
    "focal": (
        "photo",
        LayerValue(image=WIDE, fit="cover", focal=(0.5, 0.5)),
        LayerValue(image=WIDE, fit="cover", focal=(0.0, 0.5)),
    ),
    "padding": (
        "photo",
        LayerValue(image=CUT_OUT, fit="subject"),
        LayerValue(image=CUT_OUT, fit="subject", padding=0.3),
    ),
    "anchor": (
        "photo",
        LayerValue(image=CUT_OUT, fit="subject"),
        LayerValue(image=CUT_OUT, fit="subject", anchor=(0.0, 1.0)),
    ),
    "color": ("primary", None, LayerValue(color="#00ff00")),
    "hidden": ("badge", None, LayerValue(text="New", hidden=True)),
}
OUTPUT_CHANGES = {
    "width": {"width": 200},
    "height": {"height": 200},
    "format": {"format": "png"},
    "quality": {"quality": 20},
    # The bundled product-card's story layout, instead of its main (square) one.
    "layout": {"layout": "story"},
}


def render(layers, output=OUTPUT):
    """The output's pixels and fingerprint, as a run computes them."""
    inputs = ProductInputs(SPEC, bundled_template(SPEC.template), {}, ())
    photos = {**PHOTOS, WIDE: OTHER_PHOTO, CUT_OUT: encoded(cut_out(), "PNG")}
    job = variant_job(inputs, VARIANT, {}, (output.name,))
    job = dataclasses.replace(
        job,
        layers=layers,
        photos={key: photos[key] for key in photo_keys(layers)},
        outputs=(output,),
        wanted=(output.name,),
        fingerprints={output.name: "not compared here"},
    )
    (rendered,) = render_variant(job)
    photo_sha256s = {key: f"sha-of-{key}" for key in photos}
    fingerprint = render_fingerprint("template", layers, photo_sha256s, output, {"r": "1"})
    return Image.open(io.BytesIO(rendered.data)).convert("RGB").tobytes(), fingerprint


BASE = SPEC.layer_values(VARIANT)


def test_every_layer_value_field_has_a_change_here():
    # A kind's new value field fails here until it has a change that shows it draws.
    value_fields = {name for kind in KINDS.values() for name in kind.values}
    assert set(LAYER_CHANGES) == value_fields | {"hidden"}


@pytest.mark.parametrize("field", sorted(LAYER_CHANGES))
def test_a_layer_field_that_changes_pixels_changes_the_fingerprint(field):
    layer, start, changed = LAYER_CHANGES[field]
    base = {**BASE, layer: start} if start else BASE
    before_pixels, before = render(base)
    after_pixels, after = render({**base, layer: changed})
    assert after_pixels != before_pixels, f"{field} should draw something"
    assert after != before


def test_every_output_field_but_its_name_is_in_the_fingerprint():
    assert set(OUTPUT_CHANGES) | {"name"} == set(OutputSpec.model_fields)
    assert set(OUTPUT_FIELDS) == set(OUTPUT_CHANGES)


@pytest.mark.parametrize("field", sorted(OUTPUT_CHANGES))
def test_an_output_field_that_changes_pixels_changes_the_fingerprint(field):
    before_pixels, before = render(BASE)
    output = OUTPUT.model_copy(update=OUTPUT_CHANGES[field])
    after_pixels, after = render(BASE, output)
    assert after_pixels != before_pixels, f"{field} should change the encoded pixels"
    assert after != before


def test_the_outputs_name_and_its_default_quality_draw_nothing_and_change_nothing():
    pixels, fingerprint = render(BASE)
    assert render(BASE, OUTPUT.model_copy(update={"name": "renamed"})) == (pixels, fingerprint)
    # JPEG's default quality given explicitly: the same encoding.
    assert render(BASE, OUTPUT.model_copy(update={"quality": 85})) == (pixels, fingerprint)


def test_an_optional_field_added_at_its_default_changes_no_fingerprint():
    class NewerOutputSpec(OutputSpec):
        background: str | None = None

    photo_sha256s = {key: "x" for key in PHOTOS}
    before = render_fingerprint("t", BASE, photo_sha256s, OUTPUT, {"r": "1"})
    # A value field some later kind might read (an outline), left unset.
    newer_layers = {
        name: LayerValue(hidden=value.hidden, outline=None, **value.fields)
        for name, value in BASE.items()
    }
    newer_output = NewerOutputSpec(**OUTPUT.model_dump())
    assert render_fingerprint("t", newer_layers, photo_sha256s, newer_output, {"r": "1"}) == (
        before
    )


def test_the_fingerprint_names_its_version():
    assert FINGERPRINT_VERSION == 2
    photo_sha256s = {key: "x" for key in PHOTOS}
    assert render_fingerprint("t", BASE, photo_sha256s, OUTPUT, {"r": "1"}) != render_fingerprint(
        "t", BASE, photo_sha256s, OUTPUT, {"r": "2"}
    )
