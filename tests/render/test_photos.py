"""Product photos: orientation, colour management, alpha and fitting (the ways a photo can be
bad are in tests/hostile/test_hostile_photos.py)."""

import io

import pytest
from PIL import Image, ImageCms

from renderfarm_dagster.render.photo import decode_photo, fit_photo, inspect_photo
from tests.conftest import EXAMPLES
from tests.images import BLUE, RED, WHITE, close, encoded, marked
from tools.make_example_photos import matrix_profile

# Adobe RGB (1998) primaries adapted to D50, as in Adobe's profile.
ADOBE_RGB_D50 = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))

# How a camera stores an upright picture for each EXIF orientation: the stored pixels, turned
# by the transform that undoes what the orientation says to do for display.
STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", sorted(STORED_AS))
def test_exif_orientation_is_applied(orientation):
    upright = marked()
    transform = STORED_AS[orientation]
    stored = upright.transpose(transform) if transform is not None else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encoded(stored, "JPEG", quality=95, exif=exif.tobytes())
    assert (
        inspect_photo(data, "assets/p.jpg").width,
        inspect_photo(data, "assets/p.jpg").height,
    ) == (300, 200)
    decoded = decode_photo(data, "assets/p.jpg")
    assert decoded.size == (300, 200) and decoded.mode == "RGBA"
    assert close(decoded.getpixel((10, 10)), RED)
    assert close(decoded.getpixel((290, 190)), BLUE)


def test_the_example_jacket_stored_sideways_is_upright():
    data = (EXAMPLES / "assets" / "summit-jacket" / "studio.jpg").read_bytes()
    assert Image.open(io.BytesIO(data)).size == (1250, 1000)  # stored on its side
    assert decode_photo(data, "assets/summit-jacket/studio.jpg").size == (1000, 1250)


@pytest.mark.parametrize(
    ("description", "primaries"),
    [("Display P3", None), ("Adobe RGB (1998)", ADOBE_RGB_D50)],
)
def test_an_embedded_icc_profile_is_converted_to_srgb(description, primaries):
    if primaries is None:
        data = (EXAMPLES / "assets" / "nordlicht-thermobecher" / "studio.jpg").read_bytes()
        profile = Image.open(io.BytesIO(data)).info["icc_profile"]
        source = Image.open(io.BytesIO(data)).convert("RGB")
    else:
        profile = matrix_profile(description, primaries)
        source = Image.new("RGB", (64, 64), (40, 160, 90))
        data = encoded(source, "PNG", icc_profile=profile)
    decoded = decode_photo(data, "assets/p.png" if primaries else "assets/p.jpg")
    expected = ImageCms.profileToProfile(
        source,
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
        outputMode="RGB",
    )
    point = (source.width // 2, source.height // 2)
    assert decoded.getpixel(point)[:3] == expected.getpixel(point)
    # Wide-gamut values taken as sRGB would be visibly off: the conversion matters.
    assert not close(decoded.getpixel(point)[:3], source.getpixel(point), tolerance=6)


def test_alpha_is_kept_for_a_cut_out_product():
    data = (EXAMPLES / "assets" / "trail-runner-2" / "red.png").read_bytes()
    decoded = decode_photo(data, "assets/trail-runner-2/red.png")
    assert decoded.getpixel((5, 5))[3] == 0  # transparent around the shoe
    assert decoded.getpixel((600, 500))[3] == 255  # the shoe itself
    shadow = decoded.getpixel((600, 700))[3]
    assert 0 < shadow < 255  # the soft shadow is half transparent


def test_a_cut_out_shows_the_template_background_around_it():
    from renderfarm_dagster.catalog.rendering import render_spec_variant
    from renderfarm_dagster.spec import parse_spec

    spec = parse_spec((EXAMPLES / "trail-runner-2.json").read_bytes(), "trail").spec
    key = "assets/trail-runner-2/red.png"
    (hero,) = render_spec_variant(
        spec,
        "red-40",
        ["hero"],
        photos={key: (EXAMPLES / "assets/trail-runner-2/red.png").read_bytes()},
    )
    card = Image.open(io.BytesIO(hero.data)).convert("RGB")
    # The photo box's corner (product-card: box 100 60 800 500) is the card's white, not a
    # black or grey rectangle behind the cut-out.
    assert card.getpixel((105, 65)) == WHITE
    assert close(card.getpixel((500, 260)), (214, 40, 40), tolerance=60)  # the red upper


def test_cmyk_and_16_bit_photos_become_srgb():
    cmyk = encoded(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG", quality=95)
    assert close(decode_photo(cmyk, "assets/c.jpg").getpixel((20, 20))[:3], (255, 0, 0), 20)
    deep = Image.new("I;16", (40, 40), 40000)
    decoded = decode_photo(encoded(deep, "PNG"), "assets/grey16.png")
    assert decoded.mode == "RGBA" and close(decoded.getpixel((20, 20))[:3], (156, 156, 156), 2)


def test_a_large_jpeg_is_decoded_reduced_only_as_far_as_its_box_allows():
    big = encoded(marked(4000, 3000), "JPEG", quality=90)
    reduced = decode_photo(big, "assets/big.jpg", at_least=(900, 700))
    assert reduced.size == (1000, 750)  # libjpeg's 1/4 scale still covers the box
    full = decode_photo(big, "assets/big.jpg", at_least=(4000, 3000))
    assert full.size == (4000, 3000)  # a 4000 px output is never upscaled from a reduced copy


def test_cover_keeps_the_focal_point_and_contain_keeps_the_whole_photo():
    photo = decode_photo(encoded(marked(400, 200), "PNG"), "assets/m.png")
    top_left = fit_photo(photo, 100, 100, "cover", (0.0, 0.0))
    assert top_left.size == (100, 100) and close(top_left.getpixel((5, 5)), (*RED, 255))
    bottom_right = fit_photo(photo, 100, 100, "cover", (1.0, 1.0))
    assert close(bottom_right.getpixel((95, 95)), (*BLUE, 255))
    whole = fit_photo(photo, 100, 100, "contain", (0.5, 0.5))
    assert whole.getpixel((50, 10))[3] == 0  # transparent margin above the 100 x 50 photo
    assert close(whole.getpixel((3, 27)), (*RED, 255))
