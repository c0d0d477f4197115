"""Property-based tests: whatever a spec file holds, the parser answers with a spec or a
SpecError, and any text the parser accepts renders as text."""

import json
import string

import defusedxml.ElementTree as SafeET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderfarm_dagster.catalog.templates import bundled_names
from renderfarm_dagster.render.raster import rasterize
from renderfarm_dagster.spec import SpecError, parse_spec
from tests.conftest import SMALL_SPEC, svg_of
from tests.hostile.corpus import encoded, with_field
from tests.hostile.test_hostile_specs import DRAWING_ELEMENTS, SVG_NS

# No wall-clock deadline (a shared machine is noisy); a hang still fails through the suite's
# own timeout. The example counts keep this file to a few seconds.
PARSER = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RENDERER = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)


def leaf_paths(doc, prefix=()):
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from leaf_paths(value, (*prefix, index))
    else:
        yield prefix


SPEC_LEAVES = list(leaf_paths(SMALL_SPEC))


def assert_answered(data: bytes) -> None:
    """A spec, or a SpecError whose every problem names a JSON path and says something."""
    try:
        parse_spec(data, "property.json")
    except SpecError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.path == "$" or problem.path[0] in string.ascii_letters + "_["
            assert problem.message.strip()


@PARSER
@given(st.binary(max_size=4000))
def test_any_bytes_get_a_spec_or_a_spec_error(data):
    assert_answered(data)


@PARSER
@given(json_values)
def test_any_json_document_gets_a_spec_or_a_spec_error(document):
    assert_answered(json.dumps(document).encode())


@PARSER
@given(st.sampled_from(SPEC_LEAVES), json_values)
def test_a_valid_spec_with_any_value_anywhere_gets_a_spec_or_a_spec_error(path, value):
    assert_answered(encoded(with_field(path, value)))


drawable_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=200,
).filter(str.strip)


@RENDERER
@given(
    template=st.sampled_from(bundled_names()),
    title=drawable_text,
    label=drawable_text,
    badge=drawable_text,
)
def test_any_text_the_parser_accepts_is_drawn_as_text(template, title, label, badge):
    doc = with_field(("template",), template)
    doc = with_field(("title",), title, doc)
    doc = with_field(("variants", 0, "label"), label, doc)
    doc = with_field(("variants", 0, "badge"), badge, doc)
    spec = parse_spec(encoded(doc), "property.json").spec
    svg = svg_of(spec, "red")
    root = SafeET.fromstring(svg, forbid_dtd=True)
    assert {element.tag.removeprefix(SVG_NS) for element in root.iter()} <= DRAWING_ELEMENTS
    rasterize(svg, 48, 48)
