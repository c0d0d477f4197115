import io
import json

import pytest
from PIL import Image

from renderfarm_dagster.catalog.manifest import (
    IncompleteRenderError,
    build_manifest,
    manifest_bytes,
)
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.rendering import render_product
from renderfarm_dagster.catalog.verify import manifest_problems, stored_output_problems
from renderfarm_dagster.spec import parse_spec
from tests.conftest import spec_bytes


@pytest.fixture
def rendered(spec_doc, storage):
    parsed = parse_spec(spec_bytes(spec_doc), "test")
    objects, checkpoints = storage.objects(), storage.checkpoints()
    with RenderPool(workers=1) as pool:
        render_product(parsed.spec, objects, checkpoints, pool, "run-1")
    return parsed, objects, checkpoints


def test_manifest_lists_every_output_deterministically(rendered):
    parsed, objects, checkpoints = rendered
    manifest = build_manifest(parsed, checkpoints.read("test-shoe"))
    assert manifest["spec_sha256"] == parsed.sha256
    assert manifest["template"] == {"name": "product-card", "version": 1}
    assert set(manifest["renderer"]) == {
        "renderfarm-dagster",
        "cairosvg",
        "cairo",
        "pillow",
        "libvips",
    }
    hero = manifest["variants"][0]["outputs"][0]
    assert hero["key"] == "renders/test-shoe/red/hero.png"
    assert set(hero) == {"name", "key", "format", "width", "height", "bytes", "sha256"}
    assert manifest_bytes(manifest) == manifest_bytes(
        build_manifest(parsed, checkpoints.read("test-shoe"))
    )
    assert manifest_problems(manifest, parsed.spec) == []
    assert stored_output_problems(manifest, objects) == ([], [])


def test_manifest_refuses_an_incomplete_render(rendered, spec_doc):
    _, _, checkpoints = rendered
    spec_doc["variants"].append(
        {
            "variant_id": "pink",
            "label": "Pink",
            "colors": {"primary": "#ff99cc", "accent": "#000000"},
        }
    )
    with pytest.raises(IncompleteRenderError, match="pink/hero"):
        build_manifest(parse_spec(spec_bytes(spec_doc), "x"), checkpoints.read("test-shoe"))


def test_manifest_problems_name_variant_and_output(rendered):
    parsed, _, checkpoints = rendered
    manifest = build_manifest(parsed, checkpoints.read("test-shoe"))
    removed = manifest["variants"][1]["outputs"].pop(0)
    manifest["variants"][0]["outputs"].append({**removed, "name": "poster"})
    manifest["variants"][2]["outputs"][1]["width"] = 97
    assert manifest_problems(manifest, parsed.spec) == [
        "variant red output poster: not in the spec",
        "variant green output listing: manifest says ('webp', 97, 96), spec says ('webp', 96, 96)",
        "variant blue output hero: missing from the manifest",
    ]


def test_stored_output_problems_find_tampering_blank_and_wrong_images(rendered):
    parsed, objects, checkpoints = rendered
    manifest = build_manifest(parsed, checkpoints.read("test-shoe"))
    blank = io.BytesIO()
    Image.new("RGB", (96, 96), "white").save(blank, "WEBP")
    objects.put("renders/test-shoe/blue/listing.webp", blank.getvalue(), "image/webp")
    objects.put("renders/test-shoe/red/thumb.jpg", b"not an image", "image/jpeg")
    objects.delete("renders/test-shoe/green/hero.png")
    integrity, images = stored_output_problems(manifest, objects)
    assert any("green output hero" in p and "missing" in p for p in integrity)
    assert any("red output thumb" in p and "sha256 differs" in p for p in integrity)
    assert any("blue output listing" in p and "blank" in p for p in images)
    assert any("red output thumb" in p and "does not decode" in p for p in images)
    assert json.loads(json.dumps(manifest)) == manifest
