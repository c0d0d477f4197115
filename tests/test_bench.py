"""The benchmark's reference pipeline gives users the same images, and `make bench` runs.

No timing is asserted here: speed is judged by `make bench` alone (bench/).
"""

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from bench import baseline, catalog
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, in levels of 255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


@pytest.mark.parametrize("product", [0, 3], ids=["product-card", "banner"])
def test_the_render_path_gives_the_baseline_images(product):
    document = catalog.generate(products=product + 1, variants=2)[product]
    spec = parse_spec(document, "bench").spec
    variant_id = spec.variants[1].variant_id
    reference = baseline.render_variant(spec, variant_id)
    ours = {o.output_name: o for o in render_spec_variant(spec, variant_id)}
    assert set(ours) == set(reference) == {o.name for o in spec.outputs}
    for output in spec.outputs:
        mine, theirs = decoded(ours[output.name].data), decoded(reference[output.name])
        assert mine.size == theirs.size == (output.width, output.height)
        if output.format == "png":
            # Lossless and drawn by the same cairo at the same size: the very same pixels.
            assert mine.tobytes() == theirs.tobytes(), output.name
        else:
            # Derived sizes: a 2x2 average instead of Lanczos for the halving, then lossy
            # encoding. Well under one level of 255 on average.
            assert mean_difference(mine, theirs) < 1.0, output.name


def test_the_render_path_gives_the_baseline_images_for_a_photo_catalog(tmp_path):
    catalog.write_photo_catalog(tmp_path, products=1, variants=2)
    photos = catalog.photo_files(tmp_path)
    spec = parse_spec((tmp_path / "photo-000.json").read_bytes(), "bench").spec
    # Variant 0 is stored sideways with an EXIF orientation; variant 1 upright.
    for variant in spec.variants:
        used = {
            value.get("image"): photos[value.get("image")]
            for value in spec.layer_values(variant.variant_id).values()
            if value.get("image")
        }
        assert len(used) == 1
        reference = baseline.render_variant(spec, variant.variant_id, photos=used)
        ours = render_spec_variant(spec, variant.variant_id, photos=used)
        for output in ours:
            mine, theirs = decoded(output.data), decoded(reference[output.output_name])
            assert mine.size == theirs.size
            # The photo's grain resampled by another path (reduced JPEG decoding, then
            # Lanczos), the rest of the drawing the same: a few levels of 255 on average.
            assert mean_difference(mine, theirs) < 3.0, (variant.variant_id, output.output_name)


def test_the_catalog_is_the_same_for_the_same_arguments():
    assert catalog.generate(3, 5) == catalog.generate(3, 5)
    specs = [parse_spec(d, "bench").spec for d in catalog.generate(4, 5)]
    assert {s.template for s in specs} == {"product-card", "banner"}
    assert all(len(s.variants) == 5 for s in specs)


def test_quick_bench_produces_every_figure(tmp_path, postgres):
    # `postgres` only makes sure the server is installed: the bench starts its own.
    results = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(results.read_text())
    names = [figure["name"] for figure in report["figures"]]
    assert len(names) == 23
    assert 0 < report["photos"]["decode_share"] < 1
    # Text layout per variant, Latin and mixed scripts (issue 17).
    assert set(report["text_layout"]["ms_per_variant"]) == {"latin", "mixed"}
    assert all(ms > 0 for ms in report["text_layout"]["ms_per_variant"].values())
    for figure in report["figures"]:
        # An overhead measured in a quick run can fall below zero in noise: it must be a number.
        assert math.isfinite(figure["measured"])
        assert figure["name"] in completed.stdout
    assert report["resume"]["identical"] is True
    assert report["resume"]["attempts"][0]["status"] == "FAILURE"
    assert report["resume"]["attempts"][-1]["status"] == "SUCCESS"


def test_the_drop_bench_carries_every_product_to_its_outcome(tmp_path):
    # `make scale`'s real drop, reduced: two bad photos and one late among 120 products.
    results = tmp_path / "drop.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.drop", "--products", "120", "--results", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    figures = json.loads(results.read_text())
    assert (figures["bad"], figures["late"]) == (2, 1)
    assert figures["good_published"] == figures["good"] == 118
    assert figures["bad_failed"] == {"rendered_variants": 2, "product_manifest": 2}
    assert figures["missed"] == []


def test_the_fidelity_harness_counts_each_engine_against_the_references(tmp_path):
    """`make fidelity` on a suite of two tests: one the validator refuses, one every engine draws
    within tolerance of its reference."""
    import resvg_py

    from bench import fidelity

    shapes = tmp_path / "shapes"
    shapes.mkdir()
    drawn = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40">'
        '<rect x="5" y="5" width="30" height="30" fill="green"/></svg>'
    )
    (shapes / "rect.svg").write_text(drawn)
    (shapes / "rect.png").write_bytes(bytes(resvg_py.svg_to_bytes(svg_string=drawn)))
    refused = drawn.replace("</svg>", "<script>alert(1)</script></svg>")
    (shapes / "script.svg").write_text(refused)
    (shapes / "script.png").write_bytes(bytes(resvg_py.svg_to_bytes(svg_string=drawn)))
    results = fidelity.measure(tmp_path, ("shapes",))
    assert results["categories"]["shapes"] == {
        "tests": 2, "accepted": 1, "project": 1, "cairosvg": 1, "librsvg": 1, "resvg": 1
    }  # fmt: skip
    assert "the project draws 100% of resvg's count" in fidelity.report(results)


def test_the_fidelity_report_times_each_engine_on_the_bench_catalog_and_a_drop_shadow():
    from bench import fidelity

    timings = fidelity.catalog_speed(repeats=1)
    assert set(timings) == {"product-card", "banner", "product-card with a drop shadow"}
    assert all(set(row) == set(fidelity.ENGINES) for row in timings.values())
    results = {
        "categories": {},
        "tolerance": "",
        "ms_per_accepted_test": dict.fromkeys(fidelity.ENGINES, 0),
        "catalog_ms": timings,
    }
    report = fidelity.report(results)
    assert "a drop shadow costs the project" in report
