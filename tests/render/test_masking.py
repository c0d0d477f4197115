"""Masks, clip paths and blend modes as designers use them, drawn as SVG says (issue 27, point 2)
where plain cairosvg does not: each within the fidelity tolerance of resvg."""

from fractions import Fraction

import pytest
import resvg_py

from bench.fidelity import over_white, within_tolerance
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.raster import rasterize
from renderfarm_dagster.render.template import parse_template

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:rf="urn:renderfarm:template:1" '
    'width="200" height="200" viewBox="0 0 200 200">\n'
)
PHOTO_LIKE = (
    '<linearGradient id="sky"><stop offset="0" stop-color="#457b9d"/>'
    '<stop offset="1" stop-color="#e63946"/></linearGradient>\n'
    '<rect width="200" height="200" fill="url(#sky)"/>\n'
)

DESIGNS = {
    # A fade to white at the bottom: a luminance mask of a white-to-black gradient.
    "luminance fade": (
        '<linearGradient id="fade" x2="0" y2="1"><stop offset="0" stop-color="white"/>'
        '<stop offset="1" stop-color="black"/></linearGradient>\n'
        '<mask id="m"><rect width="200" height="200" fill="url(#fade)"/></mask>\n'
        '<g mask="url(#m)">' + PHOTO_LIKE + "</g>"
    ),
    "alpha mask": (
        '<mask id="m" style="mask-type:alpha"><circle cx="100" cy="100" r="70" '
        'fill="black" fill-opacity="0.6"/></mask>\n<g mask="url(#m)">' + PHOTO_LIKE + "</g>"
    ),
    "mask in bounding box units": (
        '<mask id="m" maskContentUnits="objectBoundingBox">'
        '<rect x="0.25" y="0.25" width="0.5" height="0.5" fill="white"/></mask>\n'
        '<rect x="40" y="40" width="120" height="120" fill="#2a9d8f" mask="url(#m)"/>'
    ),
    "even-odd clip": (
        '<clipPath id="c"><path d="M 100 15 l 50 160 l -130 -100 l 160 0 l -130 100 z" '
        'clip-rule="evenodd"/></clipPath>\n<g clip-path="url(#c)">' + PHOTO_LIKE + "</g>"
    ),
    "clip path on a clip path's child": (
        '<clipPath id="round"><circle cx="100" cy="100" r="60"/></clipPath>\n'
        '<clipPath id="c"><rect x="20" y="20" width="160" height="100" '
        'clip-path="url(#round)"/></clipPath>\n<g clip-path="url(#c)">' + PHOTO_LIKE + "</g>"
    ),
    "multiply": (
        PHOTO_LIKE + '<circle cx="100" cy="100" r="60" fill="#f4a261" '
        'style="mix-blend-mode:multiply"/>'
    ),
    "screen with opacity": (
        PHOTO_LIKE + '<circle cx="100" cy="100" r="60" fill="#2a9d8f" opacity="0.7" '
        'style="mix-blend-mode:screen"/>'
    ),
    # Not a presentation attribute: ignored, as in browsers.
    "blend mode as an attribute": (
        PHOTO_LIKE + '<circle cx="100" cy="100" r="60" fill="#2a9d8f" mix-blend-mode="screen"/>'
    ),
}


def drawn(document: str, size=(200, 200)):
    template = parse_template(document.encode(), "templates/t.svg", "t")
    laid_out = layout(template, {}, Fraction(*size))
    return rasterize(laid_out.svg, *size, outlines=laid_out.outlines)


@pytest.mark.parametrize("design", DESIGNS)
def test_drawn_as_resvg_draws_it(design):
    document = HEAD + DESIGNS[design] + "\n</svg>"
    png = bytes(resvg_py.svg_to_bytes(svg_string=document, width=200, height=200))
    assert within_tolerance(drawn(document), over_white(png, (200, 200)))


def test_a_design_blends_with_itself_never_with_the_backdrop_the_farm_adds():
    document = (
        HEAD.replace("<svg ", '<svg rf:backdrop="#336699" ')
        + '<rect x="50" y="50" width="100" height="100" fill="#f4a261" '
        'style="mix-blend-mode:multiply"/>\n</svg>'
    )
    image = drawn(document, (400, 200))  # a wider output: margins of backdrop
    assert image.getpixel((200, 100)) == (0xF4, 0xA2, 0x61)  # over nothing of the design
    assert image.getpixel((10, 100)) == (0x33, 0x66, 0x99)
