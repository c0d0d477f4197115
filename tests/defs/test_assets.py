"""Materialising products through Dagster, with the checks, as users and CI do."""

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from PIL import Image

from renderfarm_dagster.catalog.examples import store_example_inputs
from renderfarm_dagster.catalog.inbox import submit_spec
from renderfarm_dagster.catalog.manifest import Manifest
from renderfarm_dagster.defs import dagster_internals, tags
from renderfarm_dagster.defs.assets import PRODUCT_MANIFEST, render_products
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.deployment.local import LocalMessagingResource
from tests.conftest import EXAMPLES

ASSETS = [render_products]
RUN_CONFIG = {"ops": {"render_products": {"config": {"workers": 2}}}}


def resources_for(storage):
    return {"storage": storage, "messaging": LocalMessagingResource(data_dir=storage.data_dir)}


COLOURWAYS = ["red", "blue", "green", "black", "sand"]


def submit_examples(storage, instance, names):
    store_example_inputs(storage.objects())
    for name in names:
        submit_spec(storage.objects(), (EXAMPLES / f"{name}.json").read_bytes(), name)
    instance.add_dynamic_partitions(products.name, names)


def materialize(storage, instance, **kwargs):
    return dg.materialize(
        ASSETS,
        instance=instance,
        resources={
            "storage": storage,
            "messaging": LocalMessagingResource(data_dir=storage.data_dir),
        },
        run_config=RUN_CONFIG,
        **kwargs,
    )


def metadata(result, asset_name):
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == asset_name
    ]
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


@pytest.mark.parametrize("product_id", ["city-commuter-bag", "nordlicht-thermobecher"])
def test_example_product_materialises_with_all_checks_passing(storage, instance, product_id):
    submit_examples(storage, instance, [product_id])
    result = materialize(storage, instance, partition_key=product_id)
    assert result.success
    checks = result.get_asset_check_evaluations()
    # One check per product (a lean event log), its three verifications within.
    (check,) = checks
    assert check.check_name == "product_verified" and check.passed
    assert check.partition == product_id and check.metadata["checked"].value > 0
    render = metadata(result, "rendered_variants")
    assert render["rendered"] == render["outputs"] > 0 and render["skipped"] == 0
    notifications = Path(storage.data_dir, "notifications.jsonl").read_text().splitlines()
    (completed,) = [json.loads(line) for line in notifications]
    assert completed["event"] == "product_rendered" and completed["product_id"] == product_id
    assert completed["run_id"] == result.run_id
    assert completed["outputs"] == render["outputs"]
    assert completed["manifest_key"] == f"manifests/{product_id}.json"
    # The contact sheet is a link, not bytes in the event log.
    sheet = Path(storage.data_dir, "bucket", "previews", f"{product_id}.jpg").resolve()
    assert render["contact_sheet"] == sheet.as_uri()
    assert "inputs" not in render and "preview" not in render
    assert "brand_fonts" not in render  # only for a product set in brand fonts
    objects = storage.objects()
    manifest = json.loads(objects.get(f"manifests/{product_id}.json"))
    assert sum(len(v["outputs"]) for v in manifest["variants"]) == render["outputs"]
    assert objects.head(f"previews/{product_id}.jpg") is not None


def test_rerun_skips_work_and_tampered_output_fails_the_checks(storage, instance):
    submit_examples(storage, instance, ["summit-jacket"])
    assert materialize(storage, instance, partition_key="summit-jacket").success
    objects = storage.objects()
    key = "renders/summit-jacket/blue-xl/card.jpg"
    objects.put(key, objects.get(key)[:-100] + b"\0" * 100, "image/jpeg")
    # Re-materialising the manifest runs its checks; the manifest comes from the checkpoints,
    # so it still lists the original sha256 and the tampered object must be caught.
    check_only = dg.materialize(
        ASSETS,
        instance=instance,
        resources={
            "storage": storage,
            "messaging": LocalMessagingResource(data_dir=storage.data_dir),
        },
        partition_key="summit-jacket",
        selection=dg.AssetSelection.assets(PRODUCT_MANIFEST),
        raise_on_error=False,
    )
    assert not check_only.success  # the checks are blocking: CI sees a failed run
    (check,) = check_only.get_asset_check_evaluations()
    assert not check.passed
    # The zeroed tail changes the sha256 and breaks the JPEG: both verifications say where.
    assert check.description.startswith(
        "summit-jacket: outputs_match_manifest: variant blue-xl output card"
    )
    counts = {name: value.value for name, value in check.metadata.items()}
    assert counts["outputs_match_manifest"] == counts["outputs_are_valid_images"] == 1
    assert "manifest_matches_spec" not in counts and counts["problems"] == 2
    details = check.metadata["details"].value
    assert "- outputs_are_valid_images: variant blue-xl output card" in details
    # A re-run renders only the tampered output, and the checks pass again.
    rerun = materialize(storage, instance, partition_key="summit-jacket")
    assert metadata(rerun, "rendered_variants")["rendered"] == 1
    assert all(c.passed for c in rerun.get_asset_check_evaluations())


def test_a_changed_photo_re_renders_only_the_variants_showing_it(storage, instance):
    submit_examples(storage, instance, ["trail-runner-2"])
    first = materialize(storage, instance, partition_key="trail-runner-2")
    assert first.success
    objects = storage.objects()
    manifest = Manifest.from_bytes(objects.get("manifests/trail-runner-2.json"))
    red = "assets/trail-runner-2/red.png"
    before = dict(manifest.photos)
    assert set(before) == {f"assets/trail-runner-2/{c}.png" for c in COLOURWAYS}
    # The red colourway's photo is retouched and uploaded again.
    photo = Image.open(io.BytesIO(objects.get(red)))
    photo.putpixel((600, 400), (0, 0, 0, 255))
    buffer = io.BytesIO()
    photo.save(buffer, "PNG")
    objects.put(red, buffer.getvalue(), "image/png")
    reason = f"{red} changed (sha256 {hashlib.sha256(buffer.getvalue()).hexdigest()[:12]})"
    rerun = materialize(
        storage, instance, partition_key="trail-runner-2", tags={tags.REASON: reason}
    )
    assert rerun.success and all(c.passed for c in rerun.get_asset_check_evaluations())
    render = metadata(rerun, "rendered_variants")
    red_variants = [v for v in manifest.variants if v.variant_id.startswith("red-")]
    assert render["rendered"] == len(red_variants) * 3
    assert render["skipped"] == render["outputs"] - render["rendered"]
    assert render["reason"] == reason
    after = Manifest.from_bytes(objects.get("manifests/trail-runner-2.json"))
    assert after.photos[red] != before[red]
    assert {k: sha for k, sha in after.photos.items() if k != red} == {
        k: sha for k, sha in before.items() if k != red
    }


def test_a_bad_photo_fails_only_its_product_and_names_it(storage, instance):
    submit_examples(storage, instance, ["summit-jacket", "trail-runner-2"])
    objects = storage.objects()
    jacket = "assets/summit-jacket/studio.jpg"
    objects.put(jacket, objects.get(jacket)[:2000], "image/jpeg")  # an upload cut short
    batch = {
        tags.PARTITION_RANGE_START: "summit-jacket",
        tags.PARTITION_RANGE_END: "trail-runner-2",
    }
    result = materialize(storage, instance, tags=batch, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.event_specific_data.error.message
    assert "1 of 2 product(s) could not be published: summit-jacket: " in message
    assert f"{jacket}: cannot be decoded" in message
    # The other product of the batch is published as a run of its own would publish it.
    for asset in ("rendered_variants", "product_manifest"):
        assert set(metadata_by_partition(result, asset)) == {"trail-runner-2"}
    checks = result.get_asset_check_evaluations()
    assert {(c.partition, c.check_name) for c in checks if c.passed} == {
        ("trail-runner-2", "product_verified")
    }
    assert objects.head("manifests/trail-runner-2.json") is not None
    assert objects.head("manifests/summit-jacket.json") is None
    assert not list(objects.list("renders/summit-jacket/"))
    # The failed product is failed in the instance, with its reason beside it.
    for asset in ("rendered_variants", "product_manifest"):
        assert failed_partitions(instance, asset) == {"summit-jacket"}
        (observation,) = observations(instance, result.run_id, asset)
        assert observation.partition == "summit-jacket"
        assert f"{jacket}: cannot be decoded" in observation.metadata["failed"].value
    events = notifications(storage)
    # One notification per product, in the order their outcomes were known.
    assert sorted((e["event"], e["product_id"]) for e in events) == [
        ("product_rendered", "trail-runner-2"),
        ("render_failed", "summit-jacket"),
    ]
    (report,) = [e for e in events if e["event"] == "render_failed"]
    assert report["stage"] == "render" and list(report["problems"]) == [jacket]
    assert report["run_id"] == result.run_id

    store_example_inputs(objects)  # the photo uploaded again, whole
    rerun = materialize(storage, instance, tags=batch)
    render = metadata_by_partition(rerun, "rendered_variants")
    assert render["trail-runner-2"]["rendered"] == 0
    assert render["summit-jacket"]["rendered"] == render["summit-jacket"]["outputs"] == 20
    for asset in ("rendered_variants", "product_manifest"):
        assert failed_partitions(instance, asset) == set()


def failed_partitions(instance, asset: str) -> set[str]:
    """The partitions the instance shows as failed (what the UI's "Failed" filter lists)."""
    return dagster_internals.failed_partitions(instance, dg.AssetKey(asset), products)


def observations(instance, run_id: str, asset: str):
    return [
        record.event_log_entry.dagster_event.event_specific_data.asset_observation
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION
        ).records
        if record.event_log_entry.dagster_event.asset_key == dg.AssetKey(asset)
    ]


def notifications(storage) -> list[dict]:
    path = Path(storage.data_dir, "notifications.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_batch_run_renders_every_product_in_its_partition_range(storage, instance, spec_doc):
    from tests.conftest import spec_bytes

    names = ["batch-a", "batch-b", "batch-c"]
    for name in names:
        submit_spec(storage.objects(), spec_bytes({**spec_doc, "product_id": name}), name)
    instance.add_dynamic_partitions(products.name, names)
    result = materialize(
        storage,
        instance,
        tags={
            tags.PARTITION_RANGE_START: "batch-a",
            tags.PARTITION_RANGE_END: "batch-c",
        },
    )
    assert result.success
    render = metadata_by_partition(result, "rendered_variants")
    assert set(render) == set(names)
    # Each partition's materialisation describes its own product.
    assert {name: m["rendered"] for name, m in render.items()} == dict.fromkeys(names, 9)
    for name, partition in render.items():
        assert partition["contact_sheet"].endswith(f"/previews/{name}.jpg")
    manifests = metadata_by_partition(result, "product_manifest")
    assert {name: m["manifest_key"] for name, m in manifests.items()} == {
        name: f"manifests/{name}.json" for name in names
    }
    assert all(c.passed for c in result.get_asset_check_evaluations())
    for name in names:
        assert storage.objects().head(f"manifests/{name}.json") is not None


def metadata_by_partition(result, asset_name):
    return {
        e.partition: {k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[-1] == asset_name
    }


def test_missing_spec_fails_with_a_clear_message(storage, instance):
    instance.add_dynamic_partitions(products.name, ["ghost"])
    result = materialize(storage, instance, partition_key="ghost", raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "specs/ghost.json: $: no spec stored for this product" in str(
        failure.event_specific_data.error
    )


def test_dagster_job_execute_after_renderfarm_submit(tmp_path, spec_doc):
    """The CI command of docs/using.md, verbatim, on a clean DAGSTER_HOME."""
    from tests.conftest import spec_bytes

    spec_file = tmp_path / "test-shoe.json"
    spec_file.write_bytes(spec_bytes(spec_doc))
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "RENDERFARM_DATA_DIR": str(tmp_path / "data"),
    }
    Path(env["DAGSTER_HOME"]).mkdir()
    bin_dir = Path(sys.executable).parent
    submit = subprocess.run(
        [bin_dir / "renderfarm", "submit", str(spec_file)], env=env, capture_output=True, text=True
    )
    assert submit.returncode == 0, submit.stderr
    execute = subprocess.run(
        [
            bin_dir / "dagster",
            "job",
            "execute",
            "-m",
            "renderfarm_dagster.definitions",
            "-j",
            "render_catalog",
            "--tags",
            json.dumps({"dagster/partition": "test-shoe"}),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert execute.returncode == 0, execute.stdout[-3000:] + execute.stderr[-3000:]
    assert "RUN_SUCCESS" in execute.stdout + execute.stderr
    manifest = json.loads((tmp_path / "data/bucket/manifests/test-shoe.json").read_text())
    assert manifest["product_id"] == "test-shoe"
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        (run,) = instance.get_runs()
        check_keys = [dg.AssetCheckKey(dg.AssetKey("product_manifest"), "product_verified")]
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
        checks = [latest[key] for key in check_keys]
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert all(c.status.value == "SUCCEEDED" for c in checks)


def test_the_multilingual_example_renders_and_reports_no_uncovered_character(storage, instance):
    # German, Arabic and Japanese variants of one product (the bundled example `make demo`
    # shows): every character set in a bundled font.
    submit_examples(storage, instance, ["nordlicht-thermobecher"])
    result = materialize(storage, instance, partition_key="nordlicht-thermobecher")
    assert result.success
    render = metadata(result, "rendered_variants")
    assert "uncovered_characters" not in render  # shown only when there are some
    manifest = json.loads(storage.objects().get("manifests/nordlicht-thermobecher.json"))
    variants = {variant["variant_id"] for variant in manifest["variants"]}
    assert {"green-350", "green-350-ar", "green-350-ja"} <= variants
    assert {"pango", "harfbuzz", "fribidi", "freetype", "fontconfig"} <= set(manifest["renderer"])


def test_characters_no_font_has_are_reported_in_metadata_and_the_log(storage, instance):
    doc = json.loads((EXAMPLES / "summit-jacket.json").read_bytes())
    doc["layers"]["title"]["text"] = "Summit Jacket \U0001f9e5"  # no bundled font has emoji
    store_example_inputs(storage.objects())
    submit_spec(storage.objects(), json.dumps(doc).encode(), "summit-jacket.json")
    instance.add_dynamic_partitions(products.name, ["summit-jacket"])
    result = materialize(storage, instance, partition_key="summit-jacket")
    assert result.success
    uncovered = metadata(result, "rendered_variants")["uncovered_characters"]
    variants = [v["variant_id"] for v in doc["variants"]]
    assert uncovered == {f"{variant}/title": "U+1F9E5 COAT" for variant in variants}
    warnings = [
        event.message
        for event in instance.all_logs(result.run_id)
        if event.level == 30 and "characters no bundled or brand font has" in event.message
    ]
    assert len(warnings) == 1 and f"{variants[0]}/title: U+1F9E5 COAT" in warnings[0]


def test_the_checks_alone_re_verify_a_stored_product_without_rendering(storage, instance):
    submit_examples(storage, instance, ["summit-jacket"])
    assert materialize(storage, instance, partition_key="summit-jacket").success
    objects = storage.objects()
    key = "renders/summit-jacket/blue-xl/card.jpg"
    objects.put(key, objects.get(key) + b"\0", "image/jpeg")
    # What the UI's "Execute" on the checks launches: the step with only its checks selected.
    checks = {dg.AssetCheckKey(PRODUCT_MANIFEST, "product_verified")}
    job = dg.Definitions(
        assets=ASSETS,
        jobs=[dg.define_asset_job("render", selection=[PRODUCT_MANIFEST])],
        resources=resources_for(storage),
    ).resolve_job_def("render")
    checks_only = job.get_subset(
        asset_selection=set(), asset_check_selection=checks
    ).execute_in_process(instance=instance, partition_key="summit-jacket", raise_on_error=False)
    assert not checks_only.success
    assert checks_only.get_asset_materialization_events() == []
    (check,) = checks_only.get_asset_check_evaluations()
    failing = {name for name in check.metadata if name.startswith(("manifest_", "outputs_"))}
    # A JPEG that goes on past its end marker; the manifest still matches the spec.
    assert not check.passed
    assert failing == {"outputs_match_manifest", "outputs_are_valid_images"}
    assert storage.checkpoints().read("summit-jacket")[("blue-xl", "card")].run_id != (
        checks_only.run_id
    )
