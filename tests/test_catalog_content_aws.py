"""Templates and photos on the aws deployment, on a moto server over HTTP: uploaded with plain
S3 puts (no checksums, as a user's tool may), announced by S3 notifications, rendered into the
manifest with their sha256; a changed photo re-renders its product; a bad template upload is
moved to rejected/ with its report. Brand fonts the same way: a template naming one renders
with it, a bad font upload is moved to rejected/fonts/."""

import json

import dagster as dg
import pytest

from renderfarm_dagster.catalog.manifest import Manifest
from renderfarm_dagster.definitions import build_definitions
from renderfarm_dagster.defs import tags
from renderfarm_dagster.deployment import resources
from tests.daemon import SensorDriver
from tests.defs.test_input_changes import JACKET_PHOTO, LOOKBOOK, lookbook_spec
from tests.polling import eventually

PHOTO = "assets/jacket.jpg"


@pytest.fixture
def dagster_home(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    monkeypatch.setenv("DAGSTER_HOME", str(home))


def render(job, instance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """The run a sensor asked for, in this process."""
    result = job.execute_in_process(
        instance=instance,
        partition_key=request.partition_key,
        tags=request.tags,
        run_config={"ops": {"render_products": {"config": {"workers": 1}}}},
    )
    assert result.success
    return result


def test_templates_and_photos_through_s3_notifications(aws, dagster_home):
    s3 = aws.client("s3")
    s3.put_object(Bucket=aws.bucket, Key="templates/lookbook.svg", Body=LOOKBOOK)
    s3.put_object(Bucket=aws.bucket, Key=PHOTO, Body=JACKET_PHOTO)
    s3.put_object(Bucket=aws.bucket, Key="specs/jacket.json", Body=lookbook_spec("jacket", PHOTO))
    defs = build_definitions()
    deployment = resources()
    job = defs.resolve_job_def("render_catalog")
    with dg.DagsterInstance.get() as instance:
        driver = SensorDriver(defs.resolve_sensor_def("spec_inbox_sensor"), instance, deployment)

        # Notifications are delivered asynchronously: ticks until the spec's run is asked for.
        (first,) = eventually(lambda: driver.tick().run_requests, until=bool)
        render(job, instance, first)
        manifest = Manifest.from_bytes(
            s3.get_object(Bucket=aws.bucket, Key="manifests/jacket.json")["Body"].read()
        )
        assert manifest.template.name == "lookbook" and not manifest.template.bundled
        before = manifest.photos[PHOTO]

        # A retouched photo: its notification requests the product again, with the reason.
        s3.put_object(Bucket=aws.bucket, Key=PHOTO, Body=JACKET_PHOTO + b"\0")
        (changed,) = eventually(lambda: driver.tick().run_requests, until=bool)
        assert changed.tags[tags.CHANGED_INPUT] == PHOTO
        render(job, instance, changed)
        after = Manifest.from_bytes(
            s3.get_object(Bucket=aws.bucket, Key="manifests/jacket.json")["Body"].read()
        )
        assert after.photos[PHOTO] != before

        # A template with a script: moved to rejected/ with a report, nothing requested.
        broken = LOOKBOOK.replace(b"</svg>", b"<script>alert(1)</script></svg>")
        s3.put_object(Bucket=aws.bucket, Key="templates/lookbook.svg", Body=broken)

        def rejected():
            assert driver.tick().run_requests == []
            listed = s3.list_objects_v2(Bucket=aws.bucket, Prefix="rejected/templates/")
            return [entry["Key"] for entry in listed.get("Contents", [])]

        keys = eventually(rejected, until=lambda found: len(found) == 2)
        assert sorted(keys) == [
            "rejected/templates/lookbook.svg",
            "rejected/templates/lookbook.svg.error.json",
        ]
        report = json.loads(
            s3.get_object(Bucket=aws.bucket, Key="rejected/templates/lookbook.svg.error.json")[
                "Body"
            ].read()
        )
        assert report["errors"][0]["element"] == "script"


def test_brand_fonts_through_s3_notifications(aws, dagster_home):
    from tests.defs.test_brand_fonts import BRANDED
    from tests.fonts import brand_font

    s3 = aws.client("s3")
    # Plain puts, as a brand's own tooling uploads: fonts, then the template naming them.
    s3.put_object(Bucket=aws.bucket, Key="fonts/acme-sans-bold.ttf", Body=brand_font(bold=True))
    s3.put_object(Bucket=aws.bucket, Key="fonts/broken.ttf", Body=b"wOFF" + b"\0" * 40)
    s3.put_object(Bucket=aws.bucket, Key="templates/lookbook.svg", Body=BRANDED)
    s3.put_object(Bucket=aws.bucket, Key=PHOTO, Body=JACKET_PHOTO)
    s3.put_object(Bucket=aws.bucket, Key="specs/acme.json", Body=lookbook_spec("acme", PHOTO))
    defs = build_definitions()
    job = defs.resolve_job_def("render_catalog")
    with dg.DagsterInstance.get() as instance:
        driver = SensorDriver(defs.resolve_sensor_def("spec_inbox_sensor"), instance, resources())
        (request,) = eventually(lambda: driver.tick().run_requests, until=bool)
        result = render(job, instance, request)
        (rendered,) = [
            event.materialization.metadata
            for event in result.get_asset_materialization_events()
            if event.asset_key.path[-1] == "rendered_variants"
        ]
        assert "fonts/acme-sans-bold.ttf" in rendered["brand_fonts"].value

        def rejected():
            driver.tick()
            listed = s3.list_objects_v2(Bucket=aws.bucket, Prefix="rejected/fonts/")
            return sorted(entry["Key"] for entry in listed.get("Contents", []))

        found = eventually(rejected, until=lambda keys: len(keys) == 2)
        assert found == ["rejected/fonts/broken.ttf", "rejected/fonts/broken.ttf.error.json"]
        report = json.loads(s3.get_object(Bucket=aws.bucket, Key=found[1])["Body"].read())
        assert "web font (WOFF)" in report["problems"][0]
