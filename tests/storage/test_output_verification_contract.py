"""Checking stored outputs against their manifest, on every deployment: intact objects are
judged from the size and sha256 the store reports (no download but one sampled output per
product), and a damaged, replaced or missing object still fails, described."""

import io

import pytest
from PIL import Image

from renderfarm_dagster.catalog.manifest import build_manifest
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.product_inputs import load_inputs
from renderfarm_dagster.catalog.rendering import render_product
from renderfarm_dagster.catalog.verify import stored_output_problems
from renderfarm_dagster.spec import parse_spec
from tests.conftest import spec_bytes


class CountingReads:
    """An object store that counts whole-object reads."""

    def __init__(self, inner):
        self.inner, self.reads = inner, []

    def get(self, key):
        self.reads.append(key)
        return self.inner.get(key)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def stored(spec_doc, storage_resource):
    parsed = parse_spec(spec_bytes(spec_doc), "test")
    objects, checkpoints = storage_resource.objects(), storage_resource.checkpoints()
    with RenderPool(workers=1) as pool:
        render_product(parsed.spec, objects, checkpoints, pool, "run-1")
    manifest = build_manifest(
        parsed, load_inputs(parsed.spec, objects), checkpoints.read("test-shoe")
    )
    return manifest, objects


def test_intact_outputs_pass_reading_only_the_sampled_one(stored):
    manifest, objects = stored
    counting = CountingReads(objects)
    assert stored_output_problems(manifest, counting) == ([], [])
    assert counting.reads == ["renders/test-shoe/red/thumb.jpg"]


def test_damaged_replaced_and_missing_outputs_fail_and_are_described(stored):
    manifest, objects = stored
    hero = "renders/test-shoe/green/hero.png"
    objects.put(hero, objects.get(hero)[:-200] + b"\0" * 200, "image/png")
    blank = io.BytesIO()
    Image.new("RGB", (96, 96), "white").save(blank, "WEBP")
    objects.put("renders/test-shoe/blue/listing.webp", blank.getvalue(), "image/webp")
    objects.delete("renders/test-shoe/red/hero.png")
    small = io.BytesIO()
    Image.open(io.BytesIO(objects.get(thumb := "renders/test-shoe/green/thumb.jpg"))).resize(
        (17, 17)
    ).save(small, "JPEG")
    objects.put(thumb, small.getvalue(), "image/jpeg")
    integrity, images = stored_output_problems(manifest, objects)
    assert sorted(integrity) == [
        "variant blue output listing (renders/test-shoe/blue/listing.webp): "
        f"{len(blank.getvalue())} bytes, manifest says "
        f"{next(e.bytes for v, e in manifest.outputs() if e.key.endswith('blue/listing.webp'))}",
        "variant blue output listing (renders/test-shoe/blue/listing.webp): "
        "sha256 differs from the manifest",
        f"variant green output hero ({hero}): sha256 differs from the manifest",
        f"variant green output thumb ({thumb}): {len(small.getvalue())} bytes, manifest says "
        f"{next(e.bytes for v, e in manifest.outputs() if e.key == thumb)}",
        f"variant green output thumb ({thumb}): sha256 differs from the manifest",
        "variant red output hero (renders/test-shoe/red/hero.png): object is missing",
    ]
    assert any("blue output listing" in p and "is blank" in p for p in images)
    # Its end overwritten: the PNG no longer ends with its IEND chunk.
    assert any("green output hero" in p and "is cut short" in p for p in images)
    assert any("green output thumb" in p and "is 17x17, expected" in p for p in images)
