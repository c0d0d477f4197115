"""Draw the example catalog's product photos (renderfarm_dagster/examples/assets/).

The project makes its own photos so that the examples need no licensed images and each one
exercises a part of the photo path a real catalog hits:

- trail-runner-2/<colour>.png: a shaded shoe cut out on a transparent background, with a
  soft half-transparent shadow (alpha over the template's background);
- summit-jacket/studio.jpg: stored on its side with EXIF orientation 6, as a phone camera
  writes it (rendering must turn it upright);
- nordlicht-thermobecher/studio.jpg: encoded in Display P3 with the profile embedded (rendering
  must convert it to sRGB, or the colours shift).

Run `make example-photos` after changing a drawing; the files are committed.
"""

from __future__ import annotations

import io
import struct
import sys
from pathlib import Path

from PIL import Image, ImageCms, ImageDraw, ImageFilter

ASSETS = Path(__file__).resolve().parent.parent / "renderfarm_dagster" / "examples" / "assets"
# Drawn at this multiple of the final size, then reduced: smooth edges without antialiasing.
SUPERSAMPLE = 2
EXIF_ORIENTATION = 0x0112

# Display P3's primaries adapted to the ICC's D50 illuminant (as in Apple's Display P3 profile).
DISPLAY_P3_D50 = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))
D50 = (0.9642, 1.0, 0.8249)
# The trail shoe's colourways, as its spec's variants name them.
SHOE_COLOURS = {
    "red": "#d62828",
    "blue": "#1d4e89",
    "green": "#2d6a4f",
    "black": "#2b2b2b",
    "sand": "#c2a878",
}


def matrix_profile(description: str, primaries, white=D50) -> bytes:
    """A minimal ICC v2 RGB display profile: primaries, white point and the sRGB tone curve
    (Display P3 uses it), which LittleCMS reads like any camera's or editor's profile."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(values) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(v) for v in values)

    def srgb_curve(points: int = 1024) -> bytes:
        def decode(v: float) -> float:
            return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

        samples = [round(decode(i / (points - 1)) * 65535) for i in range(points)]
        return b"curv\0\0\0\0" + struct.pack(f">I{points}H", points, *samples)

    ascii = description.encode("ascii") + b"\0"
    desc = (
        b"desc\0\0\0\0"
        + struct.pack(">I", len(ascii))
        + ascii
        + struct.pack(">II", 0, 0)
        + struct.pack(">HB", 0, 0)
        + bytes(67)
    )
    curve = srgb_curve()
    tags = [
        (b"desc", desc),
        (b"cprt", b"text\0\0\0\0No copyright, use freely\0"),
        (b"wtpt", xyz(white)),
        (b"rXYZ", xyz(primaries[0])),
        (b"gXYZ", xyz(primaries[1])),
        (b"bXYZ", xyz(primaries[2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + bytes(-len(data) % 4)
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)  # perceptual
        + b"".join(s15(v) for v in D50)
        + bytes(48)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def vertical_shade(size: tuple[int, int], top: int, bottom: int) -> Image.Image:
    """An 'L' ramp from `top` to `bottom`, for light falling from above."""
    return (
        Image.linear_gradient("L")
        .resize(size)
        .point(lambda v: round(top + (bottom - top) * v / 255))
    )


def horizontal_shade(size: tuple[int, int]) -> Image.Image:
    """Light on a cylinder from the left: dark edges, a highlight left of centre."""
    ramp = [round(110 + 145 * max(0.0, 1 - abs(x / 255 - 0.35) * 1.9)) for x in range(256)]
    strip = Image.new("L", (256, 1))
    strip.putdata(ramp)
    return strip.resize(size, Image.Resampling.BILINEAR)


def shaded(mask: Image.Image, colour: str, shade: Image.Image) -> Image.Image:
    """`colour` where `mask` is set, multiplied by `shade` (255 keeps the colour)."""
    base = Image.new("RGB", mask.size, colour)
    dark = Image.new("RGB", mask.size, "black")
    layer = Image.composite(base, dark, shade).convert("RGBA")
    layer.putalpha(mask)
    return layer


def shoe(colour: str, size=(1200, 800)) -> Image.Image:
    w, h = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))

    def scaled(points):
        return [(x * w, y * h) for x, y in points]

    shadow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow).ellipse(scaled([(0.12, 0.80), (0.92, 0.93)]), fill=110)
    shadow = shadow.filter(ImageFilter.GaussianBlur(18 * SUPERSAMPLE))
    canvas.alpha_composite(shaded(shadow, "#000000", Image.new("L", (w, h), 255)))

    upper = Image.new("L", (w, h), 0)
    ImageDraw.Draw(upper).polygon(
        scaled(
            [
                (0.10, 0.70),
                (0.14, 0.46),
                (0.30, 0.38),
                (0.42, 0.20),
                (0.58, 0.18),
                (0.64, 0.36),
                (0.80, 0.50),
                (0.93, 0.60),
                (0.94, 0.74),
            ]
        ),
        fill=255,
    )
    upper = upper.filter(ImageFilter.GaussianBlur(1.5 * SUPERSAMPLE))
    canvas.alpha_composite(shaded(upper, colour, vertical_shade((w, h), 255, 150)))

    sole = Image.new("L", (w, h), 0)
    ImageDraw.Draw(sole).rounded_rectangle(
        scaled([(0.08, 0.70), (0.96, 0.82)]), radius=0.05 * h, fill=255
    )
    canvas.alpha_composite(shaded(sole, "#f4f1ea", vertical_shade((w, h), 255, 190)))

    draw = ImageDraw.Draw(canvas)
    for i in range(5):
        x = 0.44 + 0.045 * i
        draw.line(
            scaled([(x, 0.28 + 0.05 * i), (x + 0.07, 0.25 + 0.05 * i)]),
            fill="#fbfbfb",
            width=5 * SUPERSAMPLE,
        )
    draw.line(scaled([(0.10, 0.76), (0.95, 0.76)]), fill="#3a3a3a", width=4 * SUPERSAMPLE)
    return canvas.resize(size, Image.Resampling.LANCZOS)


def studio_backdrop(size: tuple[int, int]) -> Image.Image:
    return Image.composite(
        Image.new("RGB", size, "#fafafa"),
        Image.new("RGB", size, "#d9d9de"),
        vertical_shade(size, 255, 0),
    )


def jacket(size=(1000, 1250)) -> Image.Image:
    w, h = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    image = studio_backdrop((w, h)).convert("RGBA")

    def scaled(points):
        return [(x * w, y * h) for x, y in points]

    body = Image.new("L", (w, h), 0)
    ImageDraw.Draw(body).polygon(
        scaled(
            [
                (0.38, 0.12),
                (0.62, 0.12),
                (0.86, 0.26),
                (0.94, 0.78),
                (0.82, 0.80),
                (0.76, 0.42),
                (0.76, 0.90),
                (0.24, 0.90),
                (0.24, 0.42),
                (0.18, 0.80),
                (0.06, 0.78),
                (0.14, 0.26),
            ]
        ),
        fill=255,
    )
    image.alpha_composite(shaded(body, "#2a9d8f", vertical_shade((w, h), 255, 140)))
    draw = ImageDraw.Draw(image)
    draw.line(scaled([(0.5, 0.13), (0.5, 0.90)]), fill="#1b1b1b", width=6 * SUPERSAMPLE)
    draw.polygon(scaled([(0.38, 0.12), (0.5, 0.22), (0.62, 0.12)]), fill="#1f6f66")
    return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def thermos(size=(1000, 1000)) -> Image.Image:
    w, h = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    image = studio_backdrop((w, h)).convert("RGBA")
    body = Image.new("L", (w, h), 0)
    ImageDraw.Draw(body).rounded_rectangle(
        (0.36 * w, 0.24 * h, 0.64 * w, 0.86 * h), radius=0.04 * w, fill=255
    )
    image.alpha_composite(shaded(body, "#e63946", horizontal_shade((w, h))))
    lid = Image.new("L", (w, h), 0)
    ImageDraw.Draw(lid).rounded_rectangle(
        (0.35 * w, 0.14 * h, 0.65 * w, 0.25 * h), radius=0.03 * w, fill=255
    )
    image.alpha_composite(shaded(lid, "#2b2d42", horizontal_shade((w, h))))
    return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88, optimize=True, **options)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def photos() -> dict[str, bytes]:
    """Every example photo, by its path under assets/."""
    upright = jacket()
    # Stored as a phone held sideways writes it: the pixels on their side, and orientation 6
    # ("rotate 90 degrees clockwise to display").
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    sideways = upright.transpose(Image.Transpose.ROTATE_90)

    p3_profile = matrix_profile("Display P3 (renderfarm example)", DISPLAY_P3_D50)
    to_p3 = ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"),
        ImageCms.ImageCmsProfile(io.BytesIO(p3_profile)),
        "RGB",
        "RGB",
    )
    in_p3 = ImageCms.applyTransform(thermos(), to_p3)
    return {
        **{
            f"trail-runner-2/{name}.png": png(shoe(colour)) for name, colour in SHOE_COLOURS.items()
        },
        "summit-jacket/studio.jpg": jpeg(sideways, exif=exif.tobytes()),
        "nordlicht-thermobecher/studio.jpg": jpeg(in_p3, icc_profile=p3_profile),
    }


def main() -> int:
    for path, data in photos().items():
        target = ASSETS / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"{target.relative_to(ASSETS.parent.parent.parent)}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
