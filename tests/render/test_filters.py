"""Filters as design tools write them, drawn (issue 27, point 2): each tool's drop shadow within
the fidelity tolerance of resvg, an independent renderer, and the bounds that keep a filter's
cost in hand."""

from fractions import Fraction

import pytest
import resvg_py
from PIL import Image

from bench.fidelity import over_white, within_tolerance
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.raster import rasterize
from renderfarm_dagster.render.svg_document import MAX_FILTERED_DRAWS
from renderfarm_dagster.render.template import parse_template

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:rf="urn:renderfarm:template:1" '
    'width="200" height="200" viewBox="0 0 200 200">\n'
    '<rect width="200" height="200" fill="#f1faee"/>\n'
)
CARD = '<rect x="40" y="40" width="120" height="80" rx="8" fill="#457b9d"/>\n'

# The drop shadow each tool exports for a card (as their exporters write them).
SHADOWS = {
    "figma": (
        '<g filter="url(#filter0_d_1_2)">' + CARD + "</g>\n<defs>\n"
        '<filter id="filter0_d_1_2" x="28" y="32" width="144" height="104" '
        'filterUnits="userSpaceOnUse" color-interpolation-filters="sRGB">\n'
        '<feFlood flood-opacity="0" result="BackgroundImageFix"/>\n'
        '<feColorMatrix in="SourceAlpha" type="matrix" '
        'values="0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 127 0" result="hardAlpha"/>\n'
        '<feOffset dy="4"/>\n<feGaussianBlur stdDeviation="6"/>\n'
        '<feComposite in2="hardAlpha" operator="out"/>\n'
        '<feColorMatrix type="matrix" values="0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0.35 0"/>\n'
        '<feBlend mode="normal" in2="BackgroundImageFix" result="effect1_dropShadow_1_2"/>\n'
        '<feBlend mode="normal" in="SourceGraphic" in2="effect1_dropShadow_1_2" result="shape"/>\n'
        "</filter>\n</defs>\n"
    ),
    "inkscape": (
        '<defs><filter style="color-interpolation-filters:sRGB" id="filter1" x="-0.2" '
        'y="-0.2" width="1.4" height="1.5">\n'
        '<feFlood flood-opacity="0.5" flood-color="rgb(0,0,0)" result="flood"/>\n'
        '<feComposite in="flood" in2="SourceGraphic" operator="in" result="composite1"/>\n'
        '<feGaussianBlur in="composite1" stdDeviation="5" result="blur"/>\n'
        '<feOffset dx="6" dy="6" result="offset"/>\n'
        '<feComposite in="SourceGraphic" in2="offset" operator="over" result="composite2"/>\n'
        "</filter></defs>\n" + CARD.replace("/>", ' style="filter:url(#filter1)"/>')
    ),
    "illustrator": (
        '<defs><filter id="AI_Shadow_1" filterUnits="objectBoundingBox" x="-20%" y="-20%" '
        'width="150%" height="150%">\n'
        '<feGaussianBlur in="SourceAlpha" result="blur" stdDeviation="4"/>\n'
        '<feOffset dx="7" dy="7" in="blur" result="offsetBlurredAlpha"/>\n'
        '<feMerge><feMergeNode in="offsetBlurredAlpha"/><feMergeNode in="SourceGraphic"/>'
        "</feMerge>\n</filter></defs>\n" + CARD.replace("/>", ' filter="url(#AI_Shadow_1)"/>')
    ),
    "drop-shadow primitive": (
        '<filter id="s"><feDropShadow dx="5" dy="8" stdDeviation="3" flood-color="#1d3557" '
        'flood-opacity="0.6"/></filter>\n' + CARD.replace("/>", ' filter="url(#s)"/>')
    ),
    "tint by blend and saturation": (
        '<filter id="t" color-interpolation-filters="sRGB">'
        '<feColorMatrix type="saturate" values="0.2" result="grey"/>'
        '<feFlood flood-color="#e63946" flood-opacity="0.7"/>'
        '<feBlend mode="multiply" in2="grey"/>'
        '<feComposite in2="SourceAlpha" operator="in"/></filter>\n'
        + CARD.replace("/>", ' filter="url(#t)"/>')
    ),
}


def drawn(document: str, size=(200, 200)) -> Image.Image:
    template = parse_template(document.encode(), "templates/t.svg", "t")
    laid_out = layout(template, {}, Fraction(*size))
    return rasterize(laid_out.svg, *size, outlines=laid_out.outlines)


def drawn_by_resvg(document: str, size=(200, 200)) -> Image.Image:
    png = bytes(resvg_py.svg_to_bytes(svg_string=document, width=size[0], height=size[1]))
    return over_white(png, size)


@pytest.mark.parametrize("tool", SHADOWS)
def test_each_tools_filter_is_drawn_as_resvg_draws_it(tool):
    document = HEAD + SHADOWS[tool] + "</svg>"
    ours = drawn(document)
    assert within_tolerance(ours, drawn_by_resvg(document))
    # Not the card alone: the filter changed what is drawn.
    without = drawn(HEAD + CARD + "</svg>")
    assert not within_tolerance(ours, without)


def test_a_shadow_is_drawn_at_every_output_size():
    document = HEAD + SHADOWS["illustrator"] + "</svg>"
    for size in ((100, 100), (600, 600)):
        assert within_tolerance(drawn(document, size), drawn_by_resvg(document, size))


def test_a_blur_at_the_limit_on_a_large_output_is_drawn():
    document = (
        HEAD + '<filter id="b" x="-1" y="-1" width="3" height="3">'
        '<feGaussianBlur stdDeviation="100"/></filter>\n'
        + CARD.replace("/>", ' filter="url(#b)"/>')
        + "</svg>"
    )
    image = drawn(document, (2000, 2000))
    # Spread thinly over the whole output, but drawn: the card's colour shows at its centre.
    assert image.getpixel((1000, 800)) != (0xF1, 0xFA, 0xEE)


def test_more_filtered_elements_than_the_limit_are_refused_at_the_element_that_passes_it():
    reused = '<use href="#shadowed"/>\n' * (MAX_FILTERED_DRAWS + 1)
    document = (
        HEAD + '<filter id="s"><feOffset dx="1"/></filter>\n'
        '<defs><rect id="shadowed" width="4" height="4" filter="url(#s)"/></defs>\n'
        + reused
        + "</svg>"
    )
    with pytest.raises(TemplateError) as refused:
        parse_template(document.encode(), "templates/t.svg", "t")
    (problem,) = refused.value.problems
    assert f"more than {MAX_FILTERED_DRAWS} filtered elements" in problem.message
    assert (problem.line, problem.element) == (4, "rect")  # the element filtered


def test_a_reference_to_a_filter_is_drawn_where_only_css_functions_are_refused():
    document = HEAD + CARD.replace("/>", ' filter="drop-shadow(2px 2px 2px black)"/>') + "</svg>"
    with pytest.raises(TemplateError) as refused:
        parse_template(document.encode(), "templates/t.svg", "t")
    (problem,) = refused.value.problems
    assert (problem.line, problem.element) == (3, "rect")
