import json

import pytest

from renderfarm_dagster.catalog.templates import bundled_template
from renderfarm_dagster.spec import MAX_SPEC_BYTES, SpecError, parse_spec, template_problems
from tests.conftest import spec_bytes


def problems(data: bytes) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(data, "specs/test.json")
    return {p.path: p.message for p in caught.value.problems}


def test_valid_spec_parses_with_defaults(spec_doc):
    parsed = parse_spec(spec_bytes(spec_doc), "x.json")
    assert parsed.spec.product_id == "test-shoe"
    assert [o.effective_quality for o in parsed.spec.outputs] == [None, 80, 85]
    assert len(parsed.sha256) == 64


def test_bundled_examples_are_valid_and_cover_the_brief():
    from tests.conftest import EXAMPLES, V1_EXAMPLES

    specs = [parse_spec(p.read_bytes(), str(p)).spec for p in sorted(EXAMPLES.glob("*.json"))]
    assert len(specs) >= 4
    assert sum(len(s.variants) for s in specs) >= 40
    # Both bundled templates, and one uploaded as a file (examples/templates/).
    assert {s.template for s in specs} == {"product-card", "banner", "lookbook"}
    assert {s.spec_version for s in specs} == {1, 2}
    assert {o.format for s in specs for o in s.outputs} == {"png", "webp", "jpeg"}
    photos = {key for s in specs for key in s.photo_keys()}
    assert {key.rsplit(".", 1)[1] for key in photos} == {"png", "jpg"}
    texts = [
        value.get("text")
        for s in specs
        for variant in s.variants
        for value in s.layer_values(variant.variant_id).values()
        if value.get("text")
    ]
    assert any(len(text) > 80 for text in texts)
    assert any(any(0x370 <= ord(c) < 0x500 for c in text) for text in texts)
    v1 = [parse_spec(p.read_bytes(), str(p)).spec for p in sorted(V1_EXAMPLES.glob("*.json"))]
    assert {s.spec_version for s in v1} == {1} and len(v1) == 4


def _set(doc, path, value):
    *parents, last = path
    target = doc
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value


_DELETE = object()
INVALID_CASES = [
    # (change, reported path, words in the message)
    ((("product_id",), "Trail Runner"), "product_id", "not a valid id"),
    ((("product_id",), "-leading-dash"), "product_id", "not a valid id"),
    ((("product_id",), "x" * 65), "product_id", "not a valid id"),
    ((("product_id",), "../etc/passwd"), "product_id", "not a valid id"),
    ((("product_id",), 42), "product_id", "must be a string"),
    ((("template",), "poster"), "template", "must be one of"),
    ((("title",), _DELETE), "title", "required"),
    ((("title",), "t" * 201), "title", "longer than 200"),
    ((("title",), "   "), "title", "blank"),
    ((("title",), "bell\u0007"), "title", "control character U+0007"),
    ((("subtitle",), ["not", "text"]), "subtitle", "must be a string"),
    ((("badge",), "line\nbreak"), "badge", "control character U+000A"),
    ((("price", "amount"), 89.0), "price.amount", "must be a string"),
    ((("price", "amount"), "89,00"), "price.amount", "decimal amount"),
    ((("price", "currency"), "euro"), "price.currency", "ISO 4217"),
    ((("price", "discount"), "10%"), "price.discount", "unknown field"),
    ((("variants",), []), "variants", "at least 1"),
    ((("variants", 1, "variant_id"), "Blue Large"), "variants[1].variant_id", "not a valid id"),
    ((("variants", 2, "colors", "primary"), "red"), "variants[2].colors.primary", "#rrggbb"),
    ((("variants", 2, "colors", "accent"), "#12345"), "variants[2].colors.accent", "#rrggbb"),
    ((("variants", 0, "colors", "accent"), _DELETE), "variants[0].colors.accent", "required"),
    ((("variants", 0, "label"), None), "variants[0].label", "must be a string"),
    ((("variants", 1, "sku"), "123"), "variants[1].sku", "unknown field"),
    ((("variants", 1, "price"), {"amount": "1"}), "variants[1].price.currency", "required"),
    ((("outputs",), []), "outputs", "at least 1"),
    ((("outputs", 0, "width"), 15), "outputs[0].width", "greater than or equal to 16"),
    ((("outputs", 0, "height"), 4097), "outputs[0].height", "less than or equal to 4096"),
    ((("outputs", 1, "width"), "600"), "outputs[1].width", "must be an integer"),
    ((("outputs", 1, "width"), True), "outputs[1].width", "must be an integer"),
    ((("outputs", 1, "format"), "gif"), "outputs[1].format", "must be one of"),
    ((("outputs", 1, "quality"), 0), "outputs[1].quality", "greater than or equal to 1"),
    ((("outputs", 2, "quality"), 101), "outputs[2].quality", "less than or equal to 100"),
    ((("outputs", 0, "quality"), 90), "outputs[0].quality", "does not apply to png"),
    ((("outputs", 2, "name"), "hero"), "outputs[2].name", "duplicate name 'hero'"),
    ((("variants", 2, "variant_id"), "red"), "variants[2].variant_id", "duplicate variant_id"),
    ((("surprise",), True), "surprise", "unknown field"),
    ((("spec_version",), "1"), "spec_version", "must be an integer"),
]


@pytest.mark.parametrize(("change", "path", "words"), INVALID_CASES)
def test_invalid_field_is_reported_at_its_path(spec_doc, change, path, words):
    _set(spec_doc, *change)
    found = problems(spec_bytes(spec_doc))
    assert path in found, found
    assert words in found[path]


def test_every_problem_is_reported_at_once(spec_doc):
    spec_doc["product_id"] = "Bad Id"
    spec_doc["variants"][1]["colors"]["primary"] = "blue"
    spec_doc["outputs"][0]["width"] = 9
    spec_doc["extra"] = 1
    assert set(problems(spec_bytes(spec_doc))) == {
        "product_id",
        "variants[1].colors.primary",
        "outputs[0].width",
        "extra",
    }


def test_too_many_variants_and_outputs(spec_doc):
    variant = spec_doc["variants"][0]
    spec_doc["variants"] = [{**variant, "variant_id": f"v{i}"} for i in range(501)]
    spec_doc["outputs"] = [{**spec_doc["outputs"][0], "name": f"o{i}"} for i in range(9)]
    found = problems(spec_bytes(spec_doc))
    assert "at most 500" in found["variants"]
    assert "at most 8" in found["outputs"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8 (byte 0, line 1 column 1)"),
        (b"[1, 2]", "must be a JSON object, not an array"),
        (b'"a string"', "must be a JSON object, not a string"),
        (b'{"spec_version": NaN}', "NaN is not a valid JSON number"),
        (b'{"spec_version": 1e999}', "out of range"),
        (b'{"spec_version": 3}', "unsupported version 3 (supported: 1, 2)"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_documents_that_are_not_specs(data, words):
    found = problems(data)
    assert any(words in message for message in found.values()), found


def test_numbers_a_spec_cannot_hold_are_reported_at_their_path(spec_doc):
    spec_doc["outputs"] = [{**spec_doc["outputs"][0], "name": f"o{i}"} for i in range(3)]
    text = json.dumps(spec_doc, indent=2)
    # Replace the third output's width only: the path must point at that one value.
    head, sep, tail = text.partition('"name": "o2"')
    tail = tail.replace(f'"width": {spec_doc["outputs"][0]["width"]}', '"width": NaN', 1)
    tail = tail.replace(f'"height": {spec_doc["outputs"][0]["height"]}', '"height": 1e400', 1)
    found = problems((head + sep + tail).encode())
    assert found == {
        "outputs[2].width": "NaN is not a valid JSON number",
        "outputs[2].height": "1e400 is out of range",
    }


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'{\n  "a": 1,\n  "b": [1, 2,]\n}', "line 3 column 14"),
        (b'{\n  "a": "unterminated\n}', "Invalid control character at line 2 column 21"),
        (b'{"a": 1}\n\n  trailing', "line 3 column 3"),
        (b'{\n  "title": "caf\xc3"\n}', "line 2 column 16"),
    ],
)
def test_syntax_errors_name_the_line_and_column(data, where):
    found = problems(data)
    assert where in found["$"], found


def test_oversized_file_is_rejected_before_parsing():
    found = problems(b" " * (MAX_SPEC_BYTES + 1))
    assert "over the 1048576 byte limit" in found["$"]


def test_duplicate_json_keys_are_reported_with_their_path(spec_doc):
    text = json.dumps(spec_doc)
    text = text.replace('"variant_id": "red"', '"variant_id": "red", "variant_id": "red2"', 1)
    found = problems(text.encode())
    assert "more than once" in found["variants[0].variant_id"]


def test_utf8_bom_is_accepted(spec_doc):
    assert parse_spec(b"\xef\xbb\xbf" + spec_bytes(spec_doc), "x").spec.product_id == "test-shoe"


def test_error_message_names_the_file_and_path(spec_doc):
    spec_doc["variants"][0]["colors"]["primary"] = "nope"
    with pytest.raises(SpecError) as caught:
        parse_spec(spec_bytes(spec_doc), "specs/test.json")
    assert str(caught.value) == "specs/test.json: variants[0].colors.primary: not a #rrggbb colour"
    assert caught.value.to_report()["errors"] == [
        {"path": "variants[0].colors.primary", "message": "not a #rrggbb colour"}
    ]


def test_the_documented_example_specs_and_template_are_valid():
    import re
    from pathlib import Path

    from renderfarm_dagster.render.template import parse_template

    page = Path(__file__).resolve().parent.parent / "docs" / "templates-and-specs.md"
    text = page.read_text()
    examples = [e for e in re.findall(r"```json\n(.*?)```", text, re.S) if "spec_version" in e]
    specs = [parse_spec(example.encode(), page.name).spec for example in examples]
    assert sorted((spec.spec_version, spec.product_id) for spec in specs) == [
        (1, "trail-runner-2"),
        (2, "thermobecher"),  # prices in each market's format
        (2, "trail-runner-2"),
    ]
    for spec in specs:
        assert template_problems(spec, bundled_template(spec.template).template) == []
    (template,) = re.findall(r"```xml\n(.*?)```", text, re.S)
    layers = parse_template(template.encode(), page.name, "lookbook").layers
    assert set(layers) == {"photo", "band", "kicker", "title", "swatch"}


def test_keys_that_are_not_plain_names_are_quoted_in_paths(spec_doc):
    spec_doc[""] = 1
    spec_doc["a.b"] = 2
    spec_doc["variants"][0]["x[0]"] = 3
    found = problems(spec_bytes(spec_doc))
    assert found['[""]'] == found['["a.b"]'] == "unknown field"
    assert found['variants[0]["x[0]"]'] == "unknown field"


# ---------------------------------------------------------------- spec version 2: layers


def v2_doc() -> dict:
    return {
        "spec_version": 2,
        "product_id": "trail",
        "template": "product-card",
        "layers": {
            "title": {"text": "Trail Runner"},
            "photo": {"image": "assets/trail/red.jpg", "fit": "cover", "focal": [0.5, 0.3]},
            "primary": {"color": "#d62828"},
        },
        "variants": [
            {"variant_id": "red", "layers": {"label": {"text": "Red"}}},
            {
                "variant_id": "blue",
                "layers": {
                    "label": {"text": "Blue"},
                    "photo": {"image": "assets/trail/blue.jpg"},
                    "primary": {"color": "#1d4e89"},
                    "badge": {"hidden": True},
                },
            },
        ],
        "outputs": [{"name": "hero", "width": 500, "height": 500, "format": "png"}],
    }


def test_a_variant_layer_setting_wins_field_by_field_over_the_products():
    spec = parse_spec(json.dumps(v2_doc()).encode(), "v2.json").spec
    blue = spec.layer_values("blue")
    # The variant's photo, with the product's fit and focal point.
    assert (blue["photo"].get("image"), blue["photo"].get("fit"), blue["photo"].get("focal")) == (
        "assets/trail/blue.jpg",
        "cover",
        (0.5, 0.3),
    )
    assert blue["primary"].get("color") == "#1d4e89" and blue["badge"].hidden is True
    assert spec.layer_values("red")["photo"].get("image") == "assets/trail/red.jpg"
    assert spec.photo_keys() == {"assets/trail/red.jpg", "assets/trail/blue.jpg"}
    assert template_problems(spec, bundled_template("product-card").template) == []


@pytest.mark.parametrize(
    ("setting", "value", "where", "words"),
    [
        ("layers.title", {"text": "x", "color": "#000000"}, "layers.title", "a layer is one kind"),
        ("variants.1.primary", {"color": "red"}, "variants[1].layers.primary.color", "#rrggbb"),
        ("layers.photo", {"image": "assets/../x.jpg"}, "layers.photo.image", "no '..'"),
        ("layers.photo", {"image": "https://a.example/a.jpg"}, "layers.photo.image", "assets/"),
        ("layers.photo", {"image": "assets/a.jpg", "focal": [0.5, 2]}, "layers.photo.focal[1]", ""),
        ("layers.photo", {"image": "assets/a.jpg", "fit": "stretch"}, "layers.photo.fit", "cover"),
        ("layers.Bad Name", {"text": "x"}, 'layers["Bad Name"]', "this key is not a layer id"),
        ("layers.title", {"text": "x", "font": "Comic"}, "layers.title.font", "unknown field"),
    ],
)
def test_a_bad_layer_setting_is_reported_at_its_path(setting, value, where, words):
    doc = v2_doc()
    if setting.startswith("variants."):
        _, index, name = setting.split(".")
        doc["variants"][int(index)]["layers"][name] = value
    else:
        doc["layers"][setting.removeprefix("layers.")] = value
    found = problems(json.dumps(doc).encode())
    assert where in found, found
    assert words in found[where], found


def test_layers_are_checked_against_the_template_naming_path_and_layer():
    doc = v2_doc()
    doc["layers"]["headline"] = {"text": "x"}
    doc["variants"][0]["layers"]["primary"] = {"text": "red"}
    del doc["layers"]["title"]
    spec = parse_spec(json.dumps(doc).encode(), "v2.json").spec
    problems = {
        (p.path, p.message)
        for p in template_problems(spec, bundled_template("product-card").template)
    }
    assert (
        "layers.headline",
        "template 'product-card' has no layer 'headline' (its layers: accent, badge, label, "
        "photo, price, primary, subtitle, title)",
    ) in problems
    assert (
        "variants[0].layers.primary",
        "sets text, but layer 'primary' of template 'product-card' is a color layer",
    ) in problems
    required = {path for path, message in problems if "'title' is required" in message}
    assert required == {"variants[0].layers", "variants[1].layers"}
