"""A template's own text, <text> with <tspan> runs as design tools write it, set by Pango like the
layers (issue 27, point 1): none reaches cairosvg's toy text API, runs follow SVG's text layout,
and a family the catalog lacks is named with the file to upload."""

from fractions import Fraction

import pytest
import resvg_py

from bench.fidelity import over_white, within_tolerance
from renderfarm_dagster.catalog.fonts import brand_families
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.raster import rasterize
from renderfarm_dagster.render.template import parse_template

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:rf="urn:renderfarm:template:1" '
    'width="400" height="200" viewBox="0 0 400 200">\n'
)
# As Figma, Inkscape and Illustrator write headings: runs in <tspan>s, styles in classes,
# style="" and attributes, positions on the runs.
DESIGN = (
    HEAD + "<style>.heading { font-size: 30px; font-weight: bold; fill: #1d3557 }</style>\n"
    '<text class="heading" x="200" y="60" text-anchor="middle" font-family="DejaVu Sans">'
    'Summer <tspan style="fill:#e63946">Sale</tspan></text>\n'
    '<text font-family="DejaVu Sans" font-size="12pt" fill="#333333" xml:space="preserve">'
    '<tspan x="20" y="120">Line one</tspan><tspan x="20" y="145">Line  two</tspan></text>\n'
    '<text x="380" y="185" text-anchor="end" font-family="DejaVu Sans" font-size="1.25em">'
    "  collapsed \n   spaces  </text>\n</svg>"
)


def laid_out(document: str, size=(400, 200)):
    template = parse_template(document.encode(), "templates/t.svg", "t")
    return layout(template, {}, Fraction(*size))


def drawn(document: str, size=(400, 200)):
    result = laid_out(document, size)
    return rasterize(result.svg, *size, outlines=result.outlines)


def drawn_by_resvg(document: str, size=(400, 200)):
    png = resvg_py.svg_to_bytes(svg_string=document, width=size[0], height=size[1])
    return over_white(bytes(png), size)


def test_no_text_reaches_cairosvgs_text_api():
    result = laid_out(DESIGN)
    assert b"<text" not in result.svg and b"<tspan" not in result.svg
    assert [run.text for run in result.static_text] == [
        "Summer ",
        "Sale",
        "Line one",
        "Line  two",
        "collapsed spaces",
    ]


def test_sizes_resolve_as_css_does():
    sizes = [run.size for run in laid_out(DESIGN).static_text]
    assert sizes == [30, 30, 16, 16, 20]  # px; 12pt = 16px; 1.25em of the 16px default


@pytest.mark.parametrize("size", [(400, 200), (1200, 600)])
def test_static_text_is_drawn_as_resvg_draws_it(size):
    assert within_tolerance(drawn(DESIGN, size), drawn_by_resvg(DESIGN, size))


def test_anchors_align_each_chunk():
    result = laid_out(DESIGN)
    image = rasterize(result.svg, 400, 200, outlines=result.outlines)
    heading = image.crop((0, 30, 400, 65)).convert("L").point(lambda v: 255 if v < 128 else 0)
    left, _, right, _ = heading.getbbox()
    assert abs((left + right) / 2 - 200) <= 2  # middle
    footer = image.crop((0, 165, 400, 190)).convert("L").point(lambda v: 255 if v < 128 else 0)
    assert abs(footer.getbbox()[2] - 380) <= 2  # end


def test_each_character_of_a_position_list_starts_a_chunk():
    document = (
        HEAD + '<text x="10 100 200" y="50" font-family="DejaVu Sans" font-size="20">abcd</text>'
        "\n</svg>"
    )
    runs = laid_out(document).static_text
    assert [run.text for run in runs] == ["a", "b", "cd"]


def test_a_family_the_catalog_lacks_is_named_with_the_file_to_upload():
    document = DESIGN.replace('font-family="DejaVu Sans" font-size="12pt"', 'font-family="Inter"')
    with pytest.raises(TemplateError) as refused:
        parse_template(document.encode(), "templates/t.svg", "t")
    (problem,) = refused.value.problems
    assert (problem.line, problem.element) == (4, "tspan")
    assert problem.missing_font == "fonts/inter-regular.ttf"
    assert "Type > Create Outlines" in problem.message


def test_a_generic_family_is_drawn_in_the_bundled_fonts():
    document = DESIGN.replace('font-family="DejaVu Sans"', 'font-family="serif"')
    parse_template(document.encode(), "templates/t.svg", "t")


def test_a_brand_family_of_the_templates_own_text_is_loaded_to_render_it():
    document = DESIGN.replace('font-family="DejaVu Sans" font-size="12pt"', 'font-family="Inter"')
    template = parse_template(document.encode(), "templates/t.svg", "t", brand_families=None)
    assert brand_families(template) == {"Inter"}


def test_a_negative_or_huge_font_size_is_drawn_without_failing():
    document = (
        HEAD + '<text x="10" y="50" font-size="-5" font-family="DejaVu Sans">a<tspan '
        'font-size="1e12">b</tspan></text>\n</svg>'
    )
    runs = laid_out(document).static_text
    assert [run.size for run in runs] == [16, 10_000]


# As Figma writes a text layer: white-space pre, letter spacing in em, a run per line.
FIGMA_TEXT = (
    HEAD + '<text fill="#1D3557" xml:space="preserve" style="white-space: pre" '
    'font-family="DejaVu Sans" font-size="24" letter-spacing="0.1em">'
    '<tspan x="20" y="60">Spaced out</tspan></text>\n'
    '<text font-family="DejaVu Sans" font-size="20" word-spacing="12" x="20" y="150">'
    "wide word gaps</text>\n</svg>"
)


def test_letter_and_word_spacing_are_drawn_as_resvg_draws_them():
    assert within_tolerance(drawn(FIGMA_TEXT), drawn_by_resvg(FIGMA_TEXT))
    result = laid_out(FIGMA_TEXT)
    unspaced = laid_out(FIGMA_TEXT.replace("0.1em", "0").replace('word-spacing="12"', ""))
    assert result.static_text[0].widest > unspaced.static_text[0].widest + 20
    assert [run.text for run in result.static_text[1:]] == ["wide ", "word ", "gaps"]


# A sale price as catalog designs set it: the old price struck through, cents raised, a
# label centred on its line, an outlined heading.
PRICE_TAG = (
    HEAD + '<text x="20" y="60" font-family="DejaVu Sans" font-size="28" fill="#6c757d" '
    'text-decoration="line-through">€49<tspan baseline-shift="super" font-size="16">99</tspan>'
    "</text>\n"
    '<text x="200" y="60" font-family="DejaVu Sans" font-size="36" fill="#e63946">€39'
    '<tspan baseline-shift="super" font-size="20">99</tspan></text>\n'
    '<text x="200" y="120" font-family="DejaVu Sans" font-size="20" dominant-baseline="central" '
    'text-anchor="middle"><tspan text-decoration="underline">Only</tspan> this week</text>\n'
    '<text x="20" y="180" font-family="DejaVu Sans" font-size="40" font-weight="bold" '
    'fill="#f1faee" stroke="#1d3557" stroke-width="2">SALE</text>\n</svg>'
)


def test_decorations_baselines_and_strokes_are_drawn_as_resvg_draws_them():
    ours = drawn(PRICE_TAG)
    assert within_tolerance(ours, drawn_by_resvg(PRICE_TAG))
    # Not by chance: without them the drawing differs.
    plain = PRICE_TAG
    for feature in (
        ' text-decoration="line-through"',
        ' baseline-shift="super"',
        ' dominant-baseline="central"',
        ' stroke="#1d3557" stroke-width="2"',
    ):
        plain = plain.replace(feature, "")
    without = laid_out(plain)
    assert not within_tolerance(rasterize(without.svg, 400, 200, outlines=without.outlines), ours)


def test_bolder_and_lighter_step_from_the_inherited_weight():
    document = (
        HEAD + '<text x="10" y="50" font-family="DejaVu Sans" font-weight="bold">a'
        '<tspan font-weight="lighter">b</tspan><tspan font-weight="bolder">c</tspan></text>\n'
        '<text x="10" y="90" font-family="DejaVu Sans">d<tspan font-weight="bolder">e</tspan>'
        "</text>\n</svg>"
    )
    fonts = [run.runs[0].font.rsplit("/", 1)[-1] for run in laid_out(document).static_text]
    bold = [font.startswith("DejaVuSans-Bold") for font in fonts]
    # bold; lighter than bold is normal; bolder than bold is 900 (bold's face); normal; bold.
    assert bold == [True, False, True, False, True], fonts


@pytest.mark.parametrize("adjust", ["spacing", "spacingAndGlyphs"])
def test_text_length_spreads_or_stretches_the_text_to_its_length(adjust):
    document = (
        HEAD + '<text x="20" y="100" font-family="DejaVu Sans" font-size="40" textLength="300" '
        f'lengthAdjust="{adjust}">Text</text>\n</svg>'
    )
    result = laid_out(document)
    image = rasterize(result.svg, 400, 200, outlines=result.outlines)
    ink = image.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()
    assert abs((ink[2] - ink[0]) - 300) <= 8, ink  # the ink spans the length, less side bearings
    assert within_tolerance(image, drawn_by_resvg(document))


@pytest.mark.parametrize(
    "text",
    [
        '<text x="20" y="120" font-size="60" rotate="0 15 -15 30">Text</text>',
        '<text x="20" y="120" font-size="60" dx="0 8 16" dy="0 -10 10">AVAV</text>',
    ],
)
def test_characters_turned_or_moved_one_by_one_keep_their_kerning(text):
    document = HEAD + text.replace("<text ", '<text font-family="DejaVu Sans" ') + "\n</svg>"
    assert within_tolerance(drawn(document), drawn_by_resvg(document))


def test_font_kerning_none_sets_the_text_without_the_fonts_kerning():
    kerned = laid_out(HEAD + '<text font-family="DejaVu Sans" font-size="60">AVA</text></svg>')
    unkerned = laid_out(
        HEAD + '<text font-family="DejaVu Sans" font-size="60" style="font-kerning:none">AVA'
        "</text></svg>"
    )
    assert unkerned.static_text[0].widest > kerned.static_text[0].widest + 2


def test_a_gradient_spans_the_whole_text_measured_on_its_glyph_cells():
    document = (
        HEAD + '<linearGradient id="g"><stop offset="0" stop-color="#e63946"/>'
        '<stop offset="1" stop-color="#1d3557"/></linearGradient>\n'
        '<text x="200" y="120" font-family="DejaVu Sans" font-size="64" font-weight="bold" '
        'text-anchor="middle" fill="url(#g)">Big <tspan font-size="48">Sale</tspan></text>\n'
        "</svg>"
    )
    assert within_tolerance(drawn(document), drawn_by_resvg(document))
