"""Brand fonts uploaded at fonts/<file>.ttf|otf: checked on arrival, used by family name in
templates, part of what a product's render depends on."""

import json

import pytest

from renderfarm_dagster.catalog.fonts import uploaded_fonts
from renderfarm_dagster.catalog.product_inputs import load_inputs
from renderfarm_dagster.catalog.templates import submit_template
from renderfarm_dagster.defs.spec_sensor import spec_inbox_sensor
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.fonts import MAX_FONT_BYTES
from renderfarm_dagster.spec import parse_spec
from tests.conftest import EXAMPLES
from tests.daemon import SensorDriver
from tests.defs.test_input_changes import lookbook_spec, partitions
from tests.fonts import brand_font

LOOKBOOK = (EXAMPLES / "templates" / "lookbook.svg").read_bytes()
# The lookbook with its title in the brand's family, DejaVu Sans as the template's own fallback.
BRANDED = LOOKBOOK.replace(
    b'rf:required="true" font-family="DejaVu Sans"',
    b'rf:required="true" font-family="\'Acme Sans\', DejaVu Sans"',
)
PHOTO = (EXAMPLES / "assets" / "summit-jacket" / "studio.jpg").read_bytes()


@pytest.fixture
def driver(instance, storage, messaging):
    return SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})


@pytest.fixture
def branded(storage):
    """Acme Sans (regular and bold), the lookbook in it, two products using it."""
    objects = storage.objects()
    objects.put("fonts/acme-sans-regular.ttf", brand_font(), "font/ttf")
    objects.put("fonts/acme-sans-bold.ttf", brand_font(bold=True), "font/ttf")
    objects.put("templates/lookbook.svg", BRANDED, "image/svg+xml")
    objects.put("assets/jacket.jpg", PHOTO, "image/jpeg")
    for product_id in ("acme-a", "acme-b"):
        objects.put(
            f"specs/{product_id}.json",
            lookbook_spec(product_id, "assets/jacket.jpg"),
            "application/json",
        )
    return objects


def test_a_template_in_a_brand_font_renders_with_its_glyphs(storage, branded):
    assert BRANDED != LOOKBOOK
    spec = parse_spec(branded.get("specs/acme-a.json"), "acme-a").spec
    inputs = load_inputs(spec, branded)
    assert [font.key for font in inputs.fonts] == [
        "fonts/acme-sans-bold.ttf",
        "fonts/acme-sans-regular.ttf",
    ]
    # What a product depends on: the fonts too, by sha256.
    assert inputs.sha256s()["fonts/acme-sans-bold.ttf"] == inputs.fonts[0].face.sha256
    from renderfarm_dagster.catalog.rendering import variant_job
    from renderfarm_dagster.render.layout import layout
    from renderfarm_dagster.render.typeset import font_set

    job = variant_job(inputs, "one", {"assets/jacket.jpg": PHOTO})
    laid_out = layout(inputs.template.template, job.layers, 1, font_set(job.fonts))
    title = laid_out.text["title"]
    assert title.text == "acme-a"
    # The title is bold: Acme Sans Bold, the uploaded file's bytes; the "-" it lacks comes
    # from the template's next family, DejaVu Sans.
    brand, fallback = sorted(title.fonts, key=lambda path: "dejavu" in path.lower())
    with open(brand, "rb") as file:
        assert file.read() == brand_font(bold=True)
    assert fallback.endswith("DejaVuSans-Bold.ttf")
    assert [run.font for run in title.runs] == [brand, fallback, brand]


def test_a_changed_brand_font_changes_the_fingerprint_and_requests_its_products(driver, branded):
    assert partitions(driver.tick(), driver) == ["acme-a", "acme-b"]
    spec = parse_spec(branded.get("specs/acme-a.json"), "acme-a").spec
    before = load_inputs(spec, branded).fingerprint("one", spec.outputs[0])

    branded.put("fonts/acme-sans-bold.ttf", brand_font(bold=True, advance=700), "font/ttf")
    changed = driver.tick()
    assert partitions(changed, driver) == ["acme-a", "acme-b"]
    assert load_inputs(spec, branded).fingerprint("one", spec.outputs[0]) != before
    assert driver.tick().run_requests == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<svg>not a font</svg>", "not a TrueType or OpenType font"),
        (brand_font()[:300], "do not parse"),
        (b"OTTO" + b"\0" * 64, "missing font tables"),
        (b"\0\1\0\0" + b"\0" * (MAX_FONT_BYTES + 1), "over the"),
    ],
    ids=["not-a-font", "truncated", "no-tables", "too-large"],
)
def test_a_bad_font_upload_is_rejected_with_the_reason(driver, storage, data, reason):
    objects = storage.objects()
    objects.put("fonts/broken.ttf", data, "font/ttf")
    assert driver.tick().run_requests == []
    assert objects.head("fonts/broken.ttf") is None
    assert objects.get("rejected/fonts/broken.ttf") == data
    report = json.loads(objects.get("rejected/fonts/broken.ttf.error.json"))
    assert report["source"] == "fonts/broken.ttf"
    assert reason in report["problems"][0], report


def test_a_second_file_for_the_same_family_and_weight_is_rejected(driver, storage):
    objects = storage.objects()
    objects.put("fonts/acme-sans-regular.ttf", brand_font(), "font/ttf")
    driver.tick()
    objects.put("fonts/acme-sans-copy.ttf", brand_font(advance=500), "font/ttf")
    driver.tick()
    report = json.loads(objects.get("rejected/fonts/acme-sans-copy.ttf.error.json"))
    assert (
        'fonts/acme-sans-regular.ttf already provides "Acme Sans" (regular)'
        in (report["problems"][0])
    )
    assert list(uploaded_fonts(objects).by_key) == ["fonts/acme-sans-regular.ttf"]


def test_a_template_naming_a_family_nobody_uploaded_is_rejected_with_the_name(storage, driver):
    objects = storage.objects()
    with pytest.raises(TemplateError) as refused:
        submit_template(objects, BRANDED, "lookbook.svg", "lookbook")
    (problem,) = refused.value.problems
    assert problem.line == 14 and problem.element == "text"
    assert 'font family "Acme Sans" is neither bundled' in problem.message
    # Uploaded straight to the bucket, the sensor rejects it the same way.
    objects.put("templates/lookbook.svg", BRANDED, "image/svg+xml")
    driver.tick()
    report = json.loads(objects.get("rejected/templates/lookbook.svg.error.json"))
    assert 'font family "Acme Sans"' in report["errors"][0]["message"]
    # With the font uploaded first, the same template is accepted.
    objects.put("fonts/acme-sans-bold.ttf", brand_font(bold=True), "font/ttf")
    _, stored = submit_template(objects, BRANDED, "lookbook.svg", "lookbook")
    assert stored


def test_a_product_whose_brand_font_was_removed_fails_naming_the_family(storage, branded):
    branded.delete("fonts/acme-sans-regular.ttf")
    branded.delete("fonts/acme-sans-bold.ttf")
    spec = parse_spec(branded.get("specs/acme-a.json"), "acme-a").spec
    from renderfarm_dagster.catalog.product_inputs import MissingInputError

    with pytest.raises(MissingInputError) as missing:
        load_inputs(spec, branded)
    assert 'font family "Acme Sans" is neither bundled' in str(missing.value)
