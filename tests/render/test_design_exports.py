"""Real exports of Figma, Sketch, Inkscape and an icon set (tests/render/design_exports/, sources
and licences in its README), turned into templates as a catalog team would (corpus.json: layer
attributes on one or two elements, nothing else): every one is accepted, drawn within tolerance
of resvg or librsvg, and its layers take a spec's values (issue 27, "Measured")."""

import json
from fractions import Fraction

import pytest

from bench import fidelity
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.raster import rasterize
from renderfarm_dagster.render.template import parse_template

MANIFEST = json.loads((fidelity.CORPUS / "corpus.json").read_text())["files"]


@pytest.fixture(scope="module")
def figures():
    return fidelity.corpus_figures()


@pytest.mark.parametrize("name", MANIFEST)
def test_each_export_is_accepted_and_drawn_within_tolerance_of_an_independent_renderer(
    name, figures
):
    assert "refused" not in figures[name], figures[name]
    assert figures[name]["within"], figures[name]


WITH_COLOUR_LAYERS = [
    name
    for name, entry in MANIFEST.items()
    if any(layer["layer"] == "color" for layer in entry["layers"])
]


@pytest.mark.parametrize("name", WITH_COLOUR_LAYERS)
def test_the_colour_layers_a_catalog_team_added_take_a_specs_colour(name):
    entry = MANIFEST[name]
    data = fidelity.templated((fidelity.CORPUS / name).read_bytes(), entry["layers"])
    template = parse_template(data, name, "corpus")
    colours = [layer["id"] for layer in entry["layers"] if layer["layer"] == "color"]
    size = (256, round(256 * template.design_height / template.design_width))

    def drawn(values):
        laid_out = layout(template, values, Fraction(*size))
        return rasterize(laid_out.svg, *size, dict(template.embedded_images), laid_out.outlines)

    recoloured = {layer: LayerValue(color="#00ff00") for layer in colours}
    assert drawn({}).tobytes() != drawn(recoloured).tobytes()


def test_the_report_gives_a_figure_per_tool(figures):
    rows = "\n".join(fidelity.corpus_report(figures))
    for tool in ("Figma", "Sketch", "Inkscape", "icon set"):
        assert tool in rows
