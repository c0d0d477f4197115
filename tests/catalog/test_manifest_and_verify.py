import hashlib
import json

import pytest

from renderfarm_dagster.catalog.manifest import (
    IncompleteRenderError,
    Manifest,
    build_manifest,
    write_manifest,
)
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.product_inputs import load_inputs
from renderfarm_dagster.catalog.rendering import render_product
from renderfarm_dagster.catalog.verify import manifest_problems, stored_output_problems
from renderfarm_dagster.spec import parse_spec
from tests.conftest import spec_bytes
from tests.images import cut_out, encoded


@pytest.fixture
def rendered(spec_doc, storage):
    parsed = parse_spec(spec_bytes(spec_doc), "test")
    objects, checkpoints = storage.objects(), storage.checkpoints()
    with RenderPool(workers=1) as pool:
        render_product(parsed.spec, objects, checkpoints, pool, "run-1")
    return parsed, objects, checkpoints


def manifest_of(parsed, objects, checkpoints) -> Manifest:
    return build_manifest(parsed, load_inputs(parsed.spec, objects), checkpoints.read("test-shoe"))


def test_manifest_lists_every_output_deterministically(rendered):
    parsed, objects, checkpoints = rendered
    manifest = manifest_of(parsed, objects, checkpoints)
    assert manifest.spec_sha256 == parsed.sha256
    template = load_inputs(parsed.spec, objects).template
    assert (manifest.template.name, manifest.template.bundled) == ("product-card", True)
    assert manifest.template.sha256 == template.sha256 == hashlib.sha256(template.data).hexdigest()
    assert manifest.photos == {}
    assert set(manifest.renderer) == {
        "renderfarm-dagster",
        "cairosvg",
        "cairo",
        "pillow",
        "libvips",
        # The text stack (issue 17): what shapes, reorders, rasterises and finds the fonts.
        "pango",
        "harfbuzz",
        "fribidi",
        "freetype",
        "fontconfig",
        "bundled-fonts",
    }
    hero = manifest.variants[0].outputs[0]
    assert hero.key == "renders/test-shoe/red/hero.png"
    assert set(hero.model_dump()) == {"name", "key", "format", "width", "height", "bytes", "sha256"}
    assert manifest.to_bytes() == manifest_of(parsed, objects, checkpoints).to_bytes()
    # Written and read by the same model.
    assert Manifest.from_bytes(manifest.to_bytes()) == manifest
    assert manifest_problems(manifest, parsed.spec) == []
    assert stored_output_problems(manifest, objects) == ([], [])


def test_manifest_refuses_an_incomplete_render(rendered, spec_doc):
    _, objects, checkpoints = rendered
    spec_doc["variants"].append(
        {
            "variant_id": "pink",
            "label": "Pink",
            "colors": {"primary": "#ff99cc", "accent": "#000000"},
        }
    )
    with pytest.raises(IncompleteRenderError, match="pink/hero"):
        manifest_of(parse_spec(spec_bytes(spec_doc), "x"), objects, checkpoints)


def test_manifest_problems_name_variant_and_output(rendered):
    parsed, objects, checkpoints = rendered
    document = json.loads(manifest_of(parsed, objects, checkpoints).to_bytes())
    removed = document["variants"][1]["outputs"].pop(0)
    document["variants"][0]["outputs"].append({**removed, "name": "poster"})
    document["variants"][2]["outputs"][1]["width"] = 97
    manifest = Manifest.model_validate(document)
    assert manifest_problems(manifest, parsed.spec) == [
        "variant red output poster: not in the spec",
        "variant green output listing: manifest says ('webp', 97, 96), spec says ('webp', 96, 96)",
        "variant blue output hero: missing from the manifest",
    ]


def test_the_manifest_shows_the_subject_found_in_each_photo_placed_by_it(storage):
    objects, checkpoints = storage.objects(), storage.checkpoints()
    placed, contained = "assets/shoe/cut-out.png", "assets/shoe/whole.png"
    objects.put(placed, encoded(cut_out(400, 300, (240, 40, 360, 200)), "PNG"), "image/png")
    objects.put(contained, encoded(cut_out(400, 300), "PNG"), "image/png")
    doc = {
        "spec_version": 2,
        "product_id": "test-shoe",
        "template": "product-card",
        "layers": {"title": {"text": "Test Shoe"}},
        "variants": [
            {"variant_id": "a", "layers": {"photo": {"image": placed, "fit": "subject"}}},
            {"variant_id": "b", "layers": {"photo": {"image": contained, "fit": "contain"}}},
        ],
        "outputs": [{"name": "hero", "width": 160, "height": 160, "format": "png"}],
    }
    parsed = parse_spec(spec_bytes(doc), "test")
    with RenderPool(workers=1) as pool:
        render_product(parsed.spec, objects, checkpoints, pool, "run-1")
    inputs = load_inputs(parsed.spec, objects)
    published = write_manifest(parsed, inputs, objects, checkpoints)
    # Only the photo placed by its subject, with the box the renderer used (in fractions of
    # the photo) and how it was found.
    (entry,) = published.manifest.subjects.values()
    assert list(published.manifest.subjects) == [placed] and entry["found_by"] == "alpha"
    # Found on a 256 px copy: to within a pixel of that copy.
    assert entry["box"] == pytest.approx([240 / 400, 40 / 300, 360 / 400, 200 / 300], abs=0.005)
    assert entry["focus"] == pytest.approx([0.75, 0.4], abs=0.005)
    assert Manifest.from_bytes(published.manifest.to_bytes()) == published.manifest
    # A photo replaced since its render: no manifest from bytes that were not rendered.
    objects.put(placed, encoded(cut_out(400, 300, (0, 0, 100, 100)), "PNG"), "image/png")
    with pytest.raises(IncompleteRenderError, match=f"{placed}: changed since it was rendered"):
        write_manifest(parsed, inputs, objects, checkpoints)


def test_a_layout_that_places_a_photo_by_its_subject_puts_it_in_the_manifest(storage):
    from renderfarm_dagster.catalog.templates import submit_template

    objects, checkpoints = storage.objects(), storage.checkpoints()

    def layout(width: int, height: int, fit: str) -> bytes:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:rf="urn:renderfarm:template:1" '
            f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" '
            f'fill="#eeeeee"/><rect id="photo" rf:layer="image" rf:fit="{fit}" x="10" y="10" '
            f'width="{width - 20}" height="{height - 20}" fill="#cccccc"/></svg>'
        ).encode()

    # The square layout shows the photo whole; the story one places it by its subject.
    submit_template(objects, layout(400, 400, "contain"), "shot.svg", "shot")
    submit_template(objects, layout(360, 640, "subject"), "shot.story.svg", "shot", "story")
    photo = "assets/shoe/cut-out.png"
    objects.put(photo, encoded(cut_out(400, 300, (240, 40, 360, 200)), "PNG"), "image/png")
    doc = {
        "spec_version": 2,
        "product_id": "test-shoe",
        "template": "shot",
        "layers": {"photo": {"image": photo}},
        "variants": [{"variant_id": "a"}],
        "outputs": [
            {"name": "square", "width": 200, "height": 200, "format": "png"},
            {"name": "story", "width": 180, "height": 320, "format": "png"},
        ],
    }
    parsed = parse_spec(spec_bytes(doc), "test")
    with RenderPool(workers=1) as pool:
        render_product(parsed.spec, objects, checkpoints, pool, "run-1")
    published = write_manifest(parsed, load_inputs(parsed.spec, objects), objects, checkpoints)
    assert list(published.manifest.subjects) == [photo]
    assert published.manifest.template.layouts == {
        "story": hashlib.sha256(layout(360, 640, "subject")).hexdigest()
    }
