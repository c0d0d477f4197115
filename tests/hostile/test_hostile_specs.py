"""The hostile corpus (corpus.py): rendered harmlessly, or rejected at its JSON path."""

import io

import defusedxml.ElementTree as SafeET
import pytest
from PIL import Image

from renderfarm_dagster.catalog.inbox import submit_spec
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.catalog.templates import bundled_names
from renderfarm_dagster.spec import SpecError, parse_spec
from tests.conftest import SMALL_SPEC, layout_of
from tests.hostile.corpus import BROKEN, TEXT_FIELDS, TEXT_PAYLOADS, encoded, with_field

SVG_NS = "{http://www.w3.org/2000/svg}"
# What the templates draw with; anything else in an SVG came from a spec's text.
# What the bundled templates draw with (and their <title>): no element comes from a spec.
DRAWING_ELEMENTS = {"svg", "title", "rect", "circle", "ellipse", "path", "text", "tspan", "g"}


def hostile_spec(payload: str, template: str):
    doc = with_field(("template",), template)
    for path in TEXT_FIELDS:
        doc = with_field(path, f"{path[-1]} {payload}", doc)
    return parse_spec(encoded(doc), f"hostile/{template}.json").spec


@pytest.mark.parametrize("template", bundled_names())
@pytest.mark.parametrize("payload", sorted(TEXT_PAYLOADS))
def test_hostile_text_in_every_field_stays_text(payload, template):
    spec = hostile_spec(TEXT_PAYLOADS[payload], template)
    laid_out = layout_of(spec, "red")
    # defusedxml refuses DTDs, entities and external references: the SVG has none.
    root = SafeET.fromstring(laid_out.svg, forbid_dtd=True)
    tags = {element.tag.removeprefix(SVG_NS) for element in root.iter()}
    assert tags <= DRAWING_ELEMENTS, f"markup from the spec's text: {tags - DRAWING_ELEMENTS}"
    for element in root.iter():
        for name, value in element.attrib.items():
            assert "file:" not in value and "http" not in value, (element.tag, name, value)
            assert not name.startswith("on"), (element.tag, name)
    # The field is set as the characters given (whitespace runs collapsed) and drawn as
    # glyphs: no character of it reaches the document as markup.
    label = laid_out.text["label"]
    assert label.text == " ".join(f"label {TEXT_PAYLOADS[payload]}".split())
    assert label.runs and label.runs[0].glyphs
    assert b"passwd" not in laid_out.svg and b"169.254" not in laid_out.svg
    for output in render_spec_variant(spec, "red"):
        with Image.open(io.BytesIO(output.data)) as image:
            image.load()
            assert image.size == (output.width, output.height)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_spec_is_rejected_at_its_path_and_nothing_stored_changes(name, tmp_path):
    from renderfarm_dagster.storage.local import LocalObjectStore

    case = BROKEN[name]
    objects = LocalObjectStore(tmp_path / "bucket")
    good = encoded(SMALL_SPEC)
    submit_spec(objects, good, "good.json")
    with pytest.raises(SpecError) as caught:
        submit_spec(objects, case.data(), f"hostile/{name}.json")
    found = {problem.path: problem.message for problem in caught.value.problems}
    assert case.path in found, found
    assert case.words in found[case.path], found
    assert str(caught.value).startswith(f"hostile/{name}.json: ")
    assert [s.key for s in objects.list("")] == ["specs/test-shoe.json"]
    assert objects.get("specs/test-shoe.json") == good
