"""What validation accepts, the renderer draws (issue 27, point 5): a template cairosvg cannot draw
(a reference cycle, a value it cannot parse, a negative dash) is refused when
validated, at its element and line; one that still fails at a real size fails the products using
it with a reason, never their run; `renderfarm preview` reports it and goes on."""

import io
import json

import pytest
from PIL import Image

from renderfarm_dagster.cli import main
from renderfarm_dagster.render.errors import RenderInputError, TemplateError
from renderfarm_dagster.render.template import parse_template
from tests.hostile.test_hostile_templates import HEAD

BAND = '<rect id="band" rf:layer="color" width="100" height="10" fill="#2a9d8f"/>\n'

# name -> (document, the problem's line, its element, a fragment of its message)
UNDRAWABLE = {
    "pattern filled with itself": (
        HEAD + '<pattern id="p" width="10" height="10" patternUnits="userSpaceOnUse">\n'
        '<rect width="5" height="5" fill="url(#p)"/></pattern>\n'
        '<rect width="100" height="100" fill="url(#p)"/>\n' + BAND + "</svg>",
        3,
        "rect",
        "reference cycle (#p -> #p)",
    ),
    "mask masked by itself": (
        HEAD + '<mask id="m">\n<rect width="50" height="50" fill="white" mask="url(#m)"/>'
        '</mask>\n<rect width="100" height="100" mask="url(#m)"/>\n' + BAND + "</svg>",
        3,
        "rect",
        "reference cycle (#m -> #m)",
    ),
    "clip path clipped by itself": (
        HEAD + '<clipPath id="c">\n<rect width="50" height="50" clip-path="url(#c)"/>'
        '</clipPath>\n<rect width="100" height="100" clip-path="url(#c)"/>\n' + BAND + "</svg>",
        3,
        "rect",
        "reference cycle (#c -> #c)",
    ),
    "marker with itself as marker": (
        HEAD + '<marker id="k" markerWidth="4" markerHeight="4">\n'
        '<path d="M0 0 L4 2 L0 4z" marker-start="url(#k)"/></marker>\n'
        '<path d="M10 10 L90 90" stroke="black" marker-start="url(#k)"/>\n' + BAND + "</svg>",
        3,
        "path",
        "reference cycle (#k -> #k)",
    ),
    "opacity as a percentage": (
        HEAD + '<rect width="100" height="100" fill="#336699" opacity="50%"/>\n' + BAND + "</svg>",
        2,
        "rect",
        "cannot be drawn (ValueError",
    ),
    "negative dash": (
        HEAD + '<line x1="0" y1="50" x2="100" y2="50" stroke="black" '
        'stroke-dasharray="5 -2"/>\n' + BAND + "</svg>",
        2,
        "line",
        "cannot be drawn (CairoError",
    ),
    "colour in a space without a conversion to sRGB": (
        HEAD + '<rect width="100" height="100" fill="lab(50% 40 59)"/>\n' + BAND + "</svg>",
        2,
        "rect",
        "is in a colour space that cannot be drawn",
    ),
    "length in vmin": (
        HEAD + '<rect width="50vmin" height="50" fill="#336699"/>\n' + BAND + "</svg>",
        2,
        "rect",
        "cannot be drawn (ValueError",
    ),
}


@pytest.mark.parametrize("name", UNDRAWABLE)
def test_a_template_the_renderer_cannot_draw_is_refused_at_its_element(name):
    document, line, element, fragment = UNDRAWABLE[name]
    with pytest.raises(TemplateError) as refused:
        parse_template(document.encode(), "templates/x.svg", "x")
    (problem,) = refused.value.problems
    assert (problem.line, problem.element) == (line, element), refused.value
    assert fragment in problem.message, refused.value


def test_a_long_reference_cycle_is_named_briefly():
    count = 1_900  # two elements each: within the element limit
    chain = "".join(
        f'<pattern id="p{i}" width="4" height="4"><rect width="2" height="2" '
        f'fill="url(#p{(i + 1) % count})"/></pattern>\n'
        for i in range(count)
    )
    document = HEAD + chain + "</svg>"
    with pytest.raises(TemplateError) as refused:
        parse_template(document.encode(), "templates/x.svg", "x")
    (problem,) = refused.value.problems
    assert "reference cycle (#" in problem.message and " ... " in problem.message
    assert len(problem.message) < 200


def test_a_template_that_fails_only_at_a_real_size_fails_its_product_not_its_run(spec_doc):
    """Validation draws a template once, small; a failure at a real size is the template's, so
    the render reports it as a bad input with the template's name."""
    import renderfarm_dagster.render.variant as variant
    from renderfarm_dagster.spec import parse_spec
    from tests.conftest import spec_bytes
    from tests.render.test_render import render_spec_variant

    spec = parse_spec(spec_bytes(spec_doc), "test").spec

    def failing(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    original = variant.rasterize
    variant.rasterize = failing
    try:
        with pytest.raises(RenderInputError) as failed:
            render_spec_variant(spec, "red")
    finally:
        variant.rasterize = original
    assert failed.value.key == f"template {spec.template}"
    assert "cannot be drawn at 160x160: ZeroDivisionError" in failed.value.reason


def test_validate_and_preview_report_each_undrawable_template_and_go_on(tmp_path, capsys):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "a-loop.svg").write_text(UNDRAWABLE["pattern filled with itself"][0])
    (folder / "b-dash.svg").write_text(UNDRAWABLE["negative dash"][0])
    (folder / "c-good.svg").write_text(HEAD + BAND + "</svg>")
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{folder / 'a-loop.svg'}: line 3, <rect>: a reference cycle" in err
    assert f"{folder / 'b-dash.svg'}: line 2, <line>: cannot be drawn (CairoError" in err
    assert main(["preview", "--out", str(tmp_path / "out"), str(folder)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert (tmp_path / "out" / "c-good.png").is_file()
    assert not (tmp_path / "out" / "a-loop.png").exists()


def test_the_rejection_report_of_an_undrawable_upload_names_the_element(tmp_path):
    document, line, element, _ = UNDRAWABLE["negative dash"]
    with pytest.raises(TemplateError) as refused:
        parse_template(document.encode(), "templates/x.svg", "x")
    report = json.loads(json.dumps(refused.value.to_report()))
    assert report["errors"][0]["line"] == line and report["errors"][0]["element"] == element


def test_gradients_inheriting_from_each_other_in_a_cycle_are_drawn():
    """cairosvg follows a gradient's href chain without recursing: such a cycle draws (as
    resvg's suite expects, the gradients fall back to what they define themselves)."""
    document = (
        HEAD + '<linearGradient id="a" xlink:href="#b"/>\n'
        '<linearGradient id="b" href="#a"><stop offset="0" stop-color="red"/></linearGradient>\n'
        '<rect width="100" height="100" fill="url(#a)"/>\n' + BAND + "</svg>"
    )
    parse_template(document.encode(), "templates/x.svg", "x")


def test_a_design_smaller_than_any_output_is_previewed_at_the_smallest_output_size():
    from renderfarm_dagster.catalog.preview import template_previews
    from renderfarm_dagster.catalog.templates import TemplateSource

    document = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:rf="urn:renderfarm:template:1" '
        b'viewBox="0 0 8 4"><rect width="8" height="4" fill="#336699"/>'
        b'<rect id="dot" rf:layer="color" width="2" height="2" fill="#e63946"/></svg>'
    )
    template = parse_template(document, "templates/icon.svg", "icon")
    preview = template_previews(TemplateSource("icon", document, template, False))["icon.png"]
    assert Image.open(io.BytesIO(preview)).size == (16, 16)


@pytest.mark.parametrize(
    ("element", "fix"),
    [
        (
            '<filter id="f"><feTurbulence baseFrequency="0.1"/></filter>',
            "Figma: Flatten, or export that layer as a PNG and embed it",
        ),
        (
            '<foreignObject width="1" height="1"/>',
            "Figma writes it for a 'Background blur' effect, which cannot be drawn",
        ),
        (
            '<switch><foreignObject width="1" height="1"/></switch>',
            "'Preserve Illustrator Editing Capabilities'",
        ),
    ],
)
def test_a_refusal_says_what_to_do_in_the_design_tool(element, fix):
    with pytest.raises(TemplateError) as refused:
        parse_template((HEAD + element + "\n" + BAND + "</svg>").encode(), "t.svg", "t")
    assert all(fix in problem.message for problem in refused.value.problems), refused.value


def test_a_missing_font_is_named_with_the_file_to_upload():
    document = (
        HEAD + '<text id="t" rf:layer="text" rf:box="0 0 100 20" font-family="Miriam Libre" '
        'font-size="12" font-weight="bold">x</text>\n</svg>'
    )
    with pytest.raises(TemplateError) as refused:
        parse_template(document.encode(), "t.svg", "t")
    (problem,) = refused.value.problems
    assert "upload it first, as fonts/miriam-libre-bold.ttf (or .otf)" in problem.message
