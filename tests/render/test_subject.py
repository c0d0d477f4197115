"""Photos placed by their subject (render/subject.py, photo.fit_photo): the product is found in
an off-centre photo and lands centred, filling the stated share of its box; a photo without a
plain background is cropped around what draws the eye; hostile photos fall back to contain."""

import io
import json

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.render import subject as subject_module
from renderfarm_dagster.render.photo import decode_photo, fit_photo
from renderfarm_dagster.render.subject import find_subject
from renderfarm_dagster.spec import SpecError, parse_spec
from tests.conftest import spec_bytes
from tests.images import cut_out, encoded

BOX = (600, 450)
PADDING = 0.1
PRODUCT_COLOUR = (30, 60, 140)


def cut_out_png() -> bytes:
    """A product at the right of a transparent 1200 x 900 photo, with a soft shadow."""
    photo = cut_out(1200, 900, (760, 120, 1080, 760), PRODUCT_COLOUR)
    shadow = Image.new("L", photo.size, 0)
    ImageDraw.Draw(shadow).ellipse((740, 740, 1100, 790), fill=60)
    photo.putalpha(ImageChops.lighter(photo.getchannel("A"), shadow))
    return encoded(photo, "PNG")


def white_sweep_jpeg() -> bytes:
    """A product at the bottom left of a studio shot: a white sweep that greys a little
    towards the floor, camera grain, JPEG."""
    sweep = Image.linear_gradient("L").resize((1600, 1200)).point(lambda v: 255 - v // 16)
    photo = Image.merge("RGB", (sweep, sweep, sweep))
    ImageDraw.Draw(photo).rounded_rectangle((180, 520, 620, 1120), radius=40, fill=PRODUCT_COLOUR)
    grain = Image.effect_noise(photo.size, 30).convert("RGB")
    return encoded(Image.blend(photo, grain, 0.04), "JPEG", quality=90)


def scene_jpeg() -> bytes:
    """No plain background and no cut-out: sky over a meadow, trees at both edges, and one
    red flower off-centre."""
    scene = Image.new("RGB", (1200, 800), (120, 170, 230))
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, 420, 1200, 800), fill=(70, 140, 60))
    for x in (0, 180, 1020):
        draw.ellipse((x - 80, 120, x + 120, 520), fill=(30, 80, 40))
    draw.ellipse((880, 520, 960, 600), fill=(230, 20, 30))
    texture = Image.effect_noise(scene.size, 50).filter(ImageFilter.GaussianBlur(1)).convert("RGB")
    return encoded(Image.blend(scene, texture, 0.15), "JPEG", quality=90)


def v2_spec(photo: dict) -> bytes:
    """A version 2 spec of one variant on product-card, its photo layer set to `photo`."""
    return spec_bytes(
        {
            "spec_version": 2,
            "product_id": "test-shoe",
            "template": "product-card",
            "layers": {"title": {"text": "Test Shoe"}, "photo": photo},
            "variants": [{"variant_id": "red", "layers": {"primary": {"color": "#d62828"}}}],
            "outputs": [{"name": "hero", "width": 320, "height": 320, "format": "png"}],
        }
    )


def subject_box(fitted: Image.Image, background: tuple | None) -> tuple[int, int, int, int]:
    """Where the product is in a fitted box: its pixels, found by their colour."""
    rgb = fitted.convert("RGB")
    target = Image.new("RGB", rgb.size, PRODUCT_COLOUR)
    mask = ImageChops.difference(rgb, target).convert("L").point(lambda v: 255 if v < 40 else 0)
    if fitted.mode == "RGBA":
        opaque = fitted.getchannel("A").point(lambda v: 255 if v > 200 else 0)
        mask = ImageChops.multiply(mask, opaque)
    box = mask.getbbox()
    assert box is not None, "the product is not in the box"
    return box


def placed(data: bytes, key: str, **options) -> tuple[Image.Image, object]:
    subject = find_subject(data, key)
    photo = decode_photo(data, key, BOX)
    fit = options.pop("fit", "subject")
    return fit_photo(photo, *BOX, fit, None, subject, **options), subject


@pytest.mark.parametrize(
    ("key", "make", "found_by"),
    [
        ("assets/cut-out.png", cut_out_png, "alpha"),
        ("assets/sweep.jpg", white_sweep_jpeg, "background"),
    ],
)
def test_an_off_centre_product_lands_centred_filling_the_share_asked(key, make, found_by):
    fitted, subject = placed(make(), key, padding=PADDING)
    assert subject.found_by == found_by
    left, top, right, bottom = subject_box(fitted, subject.background)
    width, height = BOX
    # Centred on the box, within 2% of its size.
    assert abs((left + right) / 2 - width / 2) <= 0.02 * width
    assert abs((top + bottom) / 2 - height / 2) <= 0.02 * height
    # It fills the box less its padding on the side it reaches first, within 2% of the box.
    room = (width * (1 - 2 * PADDING), height * (1 - 2 * PADDING))
    fills = max((right - left) / room[0], (bottom - top) / room[1])
    assert abs(fills - 1) * max(room) <= 0.02 * max(width, height), fills
    # The studio shot is extended with its own sweep where the photo ends: no hard edge.
    if found_by == "background":
        assert fitted.getpixel((2, 2))[3] == 255


def test_an_anchor_aligns_the_product_in_its_padded_box():
    fitted, _ = placed(cut_out_png(), "assets/cut-out.png", padding=PADDING, anchor=(0.5, 1.0))
    _, _, _, bottom = subject_box(fitted, None)
    assert abs(bottom - BOX[1] * (1 - PADDING)) <= 0.02 * BOX[1]


def test_cover_without_a_focal_point_centres_on_the_subject_not_the_photo():
    data = encoded(cut_out(1200, 900, (680, 200, 920, 700), PRODUCT_COLOUR), "PNG")
    portrait = (300, 450)  # the photo is wider: cover crops its sides
    photo = decode_photo(data, "assets/x.png", portrait)
    fitted = fit_photo(photo, *portrait, "cover", None, find_subject(data, "assets/x.png"))
    left, _, right, _ = subject_box(fitted, None)
    assert abs((left + right) / 2 - portrait[0] / 2) <= 0.02 * portrait[0]
    # The geometric centre would have cut the product at the box's right edge.
    centred = fit_photo(photo, *portrait, "cover", (0.5, 0.5))
    assert subject_box(centred, None)[2] >= portrait[0] - 1


def test_a_photo_without_a_clear_subject_is_cropped_around_what_draws_the_eye():
    data = scene_jpeg()
    subject = find_subject(data, "assets/scene.jpg")
    assert subject.found_by == "attention" and subject.box is None
    fitted, _ = placed(data, "assets/scene.jpg", fit="cover")
    red = Image.new("RGB", fitted.size, (230, 20, 30))
    flower = (
        ImageChops.difference(fitted.convert("RGB"), red)
        .convert("L")
        .point(lambda v: 255 if v < 60 else 0)
    )
    assert flower.getbbox() is not None, "the crop lost the flower"
    # With fit "subject" there is no box to fill: the whole photo, as contain.
    whole, _ = placed(data, "assets/scene.jpg")
    assert whole.getchannel("A").getbbox() == (0, 25, 600, 425)  # 1200x800 in 600x450


@pytest.mark.parametrize(
    ("key", "image", "note"),
    [
        ("assets/clear.png", Image.new("RGBA", (300, 300), (0, 0, 0, 0)), "transparent"),
        ("assets/white.jpg", Image.new("RGB", (300, 300), "white"), "background colour"),
        ("assets/dot.png", Image.new("RGB", (1, 1), "red"), "too small"),
    ],
)
def test_a_photo_with_nothing_to_find_is_contained_with_a_warning(key, image, note):
    data = encoded(image, "PNG" if key.endswith(".png") else "JPEG")
    subject = find_subject(data, key)
    assert subject.found_by == "none" and note in subject.note
    spec = parse_spec(v2_spec({"image": key, "fit": "subject"}), "test").spec
    (output, *_) = render_spec_variant(spec, "red", photos={key: data})
    assert output.photo_warnings == {
        "photo": f"{key}: no subject found ({subject.note}): placed whole (contain)"
    }


def test_the_search_depends_on_the_bytes_alone():
    data = white_sweep_jpeg()
    first = find_subject(data, "assets/a.jpg")
    subject_module._found.clear()
    assert find_subject(data, "assets/a.jpg") == first
    assert json.loads(json.dumps(first.to_manifest()))["box"] == [round(v, 4) for v in first.box]


def test_a_spec_sets_padding_and_anchor_within_their_ranges():
    parse_spec(v2_spec({"fit": "subject", "padding": 0.2, "anchor": [0.5, 1]}), "test")
    with pytest.raises(SpecError, match=r"layers\.photo\.padding"):
        parse_spec(v2_spec({"fit": "subject", "padding": 0.6}), "test")
    with pytest.raises(SpecError, match=r"layers\.photo\.anchor"):
        parse_spec(v2_spec({"fit": "subject", "anchor": [0.5, 2]}), "test")


def test_a_spec_places_a_photo_by_its_subject_through_the_whole_render():
    key = "assets/cut-out.png"
    spec = parse_spec(v2_spec({"image": key, "fit": "subject", "padding": 0.1}), "test").spec
    (output, *_) = render_spec_variant(spec, "red", photos={key: cut_out_png()})
    assert output.photo_warnings == {}
    with Image.open(io.BytesIO(output.data)) as image:
        assert image.size == (spec.outputs[0].width, spec.outputs[0].height)
