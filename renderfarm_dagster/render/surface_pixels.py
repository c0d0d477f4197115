"""Pixels of cairo surfaces (ARGB32: premultiplied B, G, R, A in memory on the little-endian
machines the farm runs on) for the drawing cairosvg leaves to the farm (render/svg_filters.py,
render/svg_masking.py): blank surfaces, cairo's compositing, and views for Pillow and libvips."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import cairocffi
import pyvips
from PIL import Image

if sys.byteorder != "little":  # cairo's ARGB32 is B,G,R,A in memory only on little-endian
    raise ImportError("render/surface_pixels.py reads cairo's pixels as little-endian B,G,R,A")


# SVG's and CSS's blend modes as cairo's operators (the same formulas, on premultiplied pixels).
BLEND_MODES = {
    "normal": cairocffi.OPERATOR_OVER,
    "multiply": cairocffi.OPERATOR_MULTIPLY,
    "screen": cairocffi.OPERATOR_SCREEN,
    "overlay": cairocffi.OPERATOR_OVERLAY,
    "darken": cairocffi.OPERATOR_DARKEN,
    "lighten": cairocffi.OPERATOR_LIGHTEN,
    "color-dodge": cairocffi.OPERATOR_COLOR_DODGE,
    "color-burn": cairocffi.OPERATOR_COLOR_BURN,
    "hard-light": cairocffi.OPERATOR_HARD_LIGHT,
    "soft-light": cairocffi.OPERATOR_SOFT_LIGHT,
    "difference": cairocffi.OPERATOR_DIFFERENCE,
    "exclusion": cairocffi.OPERATOR_EXCLUSION,
    "hue": cairocffi.OPERATOR_HSL_HUE,
    "saturation": cairocffi.OPERATOR_HSL_SATURATION,
    "color": cairocffi.OPERATOR_HSL_COLOR,
    "luminosity": cairocffi.OPERATOR_HSL_LUMINOSITY,
}


def _srgb_to_linear(value: int) -> int:
    c = value / 255
    c = c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return round(c * 255)


def _linear_to_srgb(value: int) -> int:
    c = value / 255
    c = c * 12.92 if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
    return round(c * 255)


# Eight-bit tables, as resvg converts: colour channels mapped, alpha (the fourth band) kept.
TO_LINEAR = [_srgb_to_linear(v) for v in range(256)] * 3 + list(range(256))
TO_SRGB = [_linear_to_srgb(v) for v in range(256)] * 3 + list(range(256))


def blank(width: int, height: int) -> cairocffi.ImageSurface:
    return cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, width, height)


def paint(target, image, x: float, y: float, operator=cairocffi.OPERATOR_OVER) -> None:
    context = cairocffi.Context(target)
    context.set_operator(operator)
    context.set_source_surface(image, x, y)
    context.paint()
    target.flush()


def composited(bottom, top, operator) -> cairocffi.ImageSurface:
    """`top` drawn onto a copy of `bottom` with a cairo operator (Porter-Duff or blend mode:
    cairo's are those of SVG's feComposite and feBlend, on premultiplied pixels)."""
    result = blank(bottom.get_width(), bottom.get_height())
    paint(result, bottom, 0, 0, cairocffi.OPERATOR_SOURCE)
    paint(result, top, 0, 0, operator)
    return result


def pillow_view(surface) -> Image.Image:
    """The surface's bytes as a Pillow image: channels B, G, R and premultiplied A, for work
    that treats the three colour channels alike."""
    surface.flush()
    size_ = (surface.get_width(), surface.get_height())
    return Image.frombuffer("RGBA", size_, bytes(surface.get_data()), "raw", "RGBA", 0, 1)


def from_pillow(image: Image.Image) -> cairocffi.ImageSurface:
    data = bytearray(image.tobytes())
    return cairocffi.ImageSurface.create_for_data(
        data, cairocffi.FORMAT_ARGB32, image.width, image.height, image.width * 4
    )


def converted(surface, table: list[int]) -> cairocffi.ImageSurface:
    """The surface's colours through `table` (sRGB to linearRGB or back), on unpremultiplied
    values."""
    surface.flush()
    premultiplied = Image.frombuffer(
        "RGBa",
        (surface.get_width(), surface.get_height()),
        bytes(surface.get_data()),
        "raw",
        "RGBa",
        0,
        1,
    )
    return from_pillow(premultiplied.convert("RGBA").point(table).convert("RGBa"))


def vips_rgba(surface) -> pyvips.Image:
    """The surface as an R, G, B, A float image, premultiplied, 0-255."""
    surface.flush()
    bgra = pyvips.Image.new_from_memory(
        bytes(surface.get_data()), surface.get_width(), surface.get_height(), 4, "uchar"
    )
    return bgra[2].bandjoin([bgra[1], bgra[0], bgra[3]]).cast("float")


def from_vips_rgba(image: pyvips.Image) -> cairocffi.ImageSurface:
    """A premultiplied R, G, B, A float image back as a cairo surface (rounded and clamped)."""
    rgba = (image + 0.5).cast("uchar")
    bgra = rgba[2].bandjoin([rgba[1], rgba[0], rgba[3]])
    data = bytearray(bgra.write_to_memory())
    return cairocffi.ImageSurface.create_for_data(
        data, cairocffi.FORMAT_ARGB32, image.width, image.height, image.width * 4
    )


@contextmanager
def drawing_onto(surface, context: cairocffi.Context) -> Iterator[None]:
    """cairosvg's `surface` drawing onto `context` for the block (a group, a tile, a coverage,
    a scratch path), then onto its own again."""
    own, surface.context = surface.context, context
    try:
        yield
    finally:
        surface.context = own
