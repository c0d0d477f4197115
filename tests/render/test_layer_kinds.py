"""Every layer kind keeps the contract of render/kinds/base.py: one module, registered once,
whose layers a template declares, a spec sets, the layout draws and a preview shows. A new kind
fails here until it has an example below (docs/extending.md)."""

import io
import itertools
import json
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from renderfarm_dagster.catalog.preview import template_previews
from renderfarm_dagster.catalog.templates import TemplateSource
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render import kinds
from renderfarm_dagster.render.kinds import KINDS
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.template import parse_template
from renderfarm_dagster.spec import SpecError, parse_spec, template_problems

# Per kind: an element declaring a layer "x" of it, and a spec's setting of that layer.
EXAMPLES = {
    "text": (
        '<text id="x" rf:layer="text" rf:box="10 10 180 40" font-size="24">Default</text>',
        {"text": "Set by the spec"},
    ),
    "image": (
        '<rect id="x" rf:layer="image" x="10" y="60" width="180" height="120" fill="#cccccc"/>',
        {"image": "assets/photo.png", "fit": "contain"},
    ),
    "color": (
        '<rect id="x" rf:layer="color" width="40" height="40" fill="#111111"/>',
        {"color": "#00ff00"},
    ),
}


def template_with(element: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:rf="urn:renderfarm:template:1" '
        'viewBox="0 0 200 200">\n<rect width="200" height="200" fill="#ffffff"/>\n'
        f"{element}\n</svg>"
    ).encode()


def spec_setting(setting: dict) -> bytes:
    return json.dumps(
        {
            "spec_version": 2,
            "product_id": "p",
            "template": "t",
            "layers": {"x": setting},
            "variants": [{"variant_id": "v"}],
            "outputs": [{"name": "o", "width": 200, "height": 200, "format": "png"}],
        }
    ).encode()


def test_every_kind_module_is_registered_once_and_has_an_example_here():
    modules = {
        path.stem
        for path in Path(kinds.__file__).parent.glob("*.py")
        if path.stem not in ("__init__", "base")
    }
    assert modules == set(KINDS) == set(EXAMPLES)
    settings = [name for kind in KINDS.values() for name in kind.settings]
    assert len(settings) == len(set(settings)) and "hidden" not in settings


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_kind_is_declared_set_laid_out_and_previewed(name):
    element, setting = EXAMPLES[name]
    kind = KINDS[name]
    data = template_with(element)
    template = parse_template(data, "templates/t.svg", "t")
    assert template.layers["x"].kind == name

    spec = parse_spec(spec_setting(setting), "specs/p.json").spec
    assert template_problems(spec, template) == []
    assert spec.layers["x"].kind == name
    value = spec.layer_values("v")["x"]
    assert value.fields and set(value.fields) <= set(kind.values)

    unset = layout(template, {}, Fraction(1)).svg
    assert layout(template, {"x": value}, Fraction(1)).svg != unset, "the setting should draw"
    hidden = layout(template, {"x": LayerValue(hidden=True)}, Fraction(1)).svg
    assert hidden != unset and b'id="x"' not in hidden

    preview = Image.open(
        io.BytesIO(template_previews(TemplateSource("t", data, template, False))["t.png"])
    )
    assert preview.size == (200, 200)


@pytest.mark.parametrize("first,second", list(itertools.combinations(sorted(EXAMPLES), 2)))
def test_a_setting_of_two_kinds_is_refused_at_its_path(first, second):
    setting = {**EXAMPLES[first][1], **EXAMPLES[second][1]}
    with pytest.raises(SpecError) as refused:
        parse_spec(spec_setting(setting), "specs/p.json")
    assert [p.path for p in refused.value.problems] == ["layers.x"]
    assert "a layer is one kind" in refused.value.problems[0].message


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_setting_of_another_kind_names_the_layers_kind(name):
    other = next(kind for kind in sorted(EXAMPLES) if kind != name)
    template = parse_template(template_with(EXAMPLES[name][0]), "templates/t.svg", "t")
    spec = parse_spec(spec_setting(EXAMPLES[other][1]), "specs/p.json").spec
    (problem,) = template_problems(spec, template)
    assert problem.path == "layers.x"
    assert f"sets {other}, but layer 'x' of template 't' is a {name} layer" in problem.message
