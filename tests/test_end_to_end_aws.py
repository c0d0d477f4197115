"""The aws deployment end to end, on a moto server over HTTP.

A spec uploaded to S3 -> S3 notification -> spec sensor tick -> a real run worker process
(`renderfarm-worker dagster job execute`) -> outputs in S3 under the KMS key, checkpoints in
DynamoDB -> SIGTERM mid-render, as Fargate Spot sends -> the worker exits non-zero -> ECS spot
events (through EventBridge) for its task -> one retry run -> only the missing outputs are
rendered -> the checks pass -> a completion notification on SNS.
"""

import json
import os
import signal
import time

import dagster as dg
import pytest

from devkit.worker_run import launch_worker
from renderfarm_dagster import ecs
from renderfarm_dagster.definitions import build_definitions
from renderfarm_dagster.defs import tags
from renderfarm_dagster.deployment import resources, storage
from tests.conftest import spec_bytes
from tests.daemon import SensorDriver
from tests.events import load_event
from tests.polling import eventually

# One render process and enough variants that SIGTERM lands mid-render even on a loaded CI
# machine: a variant takes about 40 ms since PNG goes through libvips, and 48 were once too few.
VARIANTS = 160
RUN_CONFIG = {"ops": {"render_products": {"config": {"workers": 1}}}}


def big_spec(spec_doc) -> dict:
    palette = [("#d62828", "#003049"), ("#1d4e89", "#f4a259"), ("#2d6a4f", "#d8f3dc")]
    spec_doc["product_id"] = "spot-shoe"
    spec_doc["variants"] = [
        {
            "variant_id": f"colour-{index:02d}",
            "label": f"Colour {index}",
            "colors": dict(zip(("primary", "accent"), palette[index % 3], strict=True)),
        }
        for index in range(VARIANTS)
    ]
    spec_doc["outputs"] = [
        {"name": "hero", "width": 1000, "height": 1000, "format": "png"},
        {"name": "listing", "width": 400, "height": 400, "format": "webp", "quality": 80},
        {"name": "thumb", "width": 160, "height": 160, "format": "jpeg"},
    ]
    return spec_doc


@pytest.fixture
def dagster_home(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance


def wait_for(condition, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def test_upload_interrupt_retry_resume_notify(aws, dagster_home, spec_doc, tmp_path):
    instance = dagster_home
    spec = big_spec(spec_doc)
    total_outputs = VARIANTS * len(spec["outputs"])
    s3 = aws.client("s3")

    # 1. A user uploads a spec; S3 notifies the spec queue.
    s3.put_object(Bucket=aws.bucket, Key="specs/spot-shoe.json", Body=spec_bytes(spec))

    # 2. The spec sensor registers the partition and requests a run.
    defs = build_definitions()
    deployment = resources()
    spec_driver = SensorDriver(defs.resolve_sensor_def("spec_inbox_sensor"), instance, deployment)
    result = spec_driver.evaluate()
    (request,) = result.run_requests
    assert json.loads(result.cursor)["acks"], "the S3 notification was consumed"
    assert list(instance.get_dynamic_partitions("products")) == [request.partition_key]

    # 3. The daemon launches it: a run worker process, wrapped as in the worker image.
    config = tmp_path / "run_config.json"
    config.write_text(json.dumps(RUN_CONFIG))
    run_tags = {
        **request.tags,
        tags.RUN_KEY: request.run_key,
        tags.SENSOR_NAME: "spec_inbox_sensor",
        tags.PARTITION: request.partition_key,
    }
    log = tmp_path / "worker.log"
    worker = launch_worker(os.environ.copy(), config, run_tags, log)
    with storage() as deployed:
        checkpoints = deployed.checkpoints()
        # 4. Fargate Spot takes the capacity back mid-render: SIGTERM.
        try:
            wait_for(
                lambda: worker.poll() is not None or len(checkpoints.read("spot-shoe")) >= 6,
                120,
                "renders to land",
            )
            assert worker.poll() is None, f"the worker exited early:\n{log.read_text()}"
            stored_at_signal = len(checkpoints.read("spot-shoe"))
        finally:
            signalled_at = time.monotonic()
            worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=120)
        worker_log = log.read_text()
        exited_after_s = time.monotonic() - signalled_at
        assert worker.returncode == 143, worker_log[-3000:]
        done_before_retry = len(checkpoints.read("spot-shoe"))
    assert 6 <= done_before_retry < total_outputs, (
        f"SIGTERM must land mid-render: sent at {stored_at_signal} stored outputs, the worker "
        f"exited {exited_after_s:.1f}s later with {done_before_retry}:\n{worker_log[-3000:]}"
    )

    (interrupted,) = instance.get_runs(filters=dg.RunsFilter(tags={tags.RUN_KEY: request.run_key}))
    assert interrupted.status == dg.DagsterRunStatus.FAILURE
    assert interrupted.tags[tags.INTERRUPTED] == "sigterm"

    # 5. What EcsRunLauncher records when it launches the task, then ECS's events for it,
    #    through EventBridge: the warning twice and the STOPPED event, out of order.
    warning = load_event("ecs_task_fargate_spot_warning.json")
    stopped = load_event("ecs_task_fargate_spot_stopped.json")
    for event in (warning, stopped):
        event["detail"]["clusterArn"] = aws.cluster_arn
    task_arn = warning["detail"]["taskArn"]
    instance.add_run_tags(interrupted.run_id, {ecs.TASK_ARN_TAG: task_arn})
    aws.put_events([stopped, warning, warning])

    # 6. The spot sensor asks for one retry, however often it ticks before the run exists.
    #    It may take more than one tick: SQS's short polling can return no message while some
    #    are visible, and the ledger's pending index (a DynamoDB GSI) lags its writes. The
    #    sensor relies on a later tick catching up; so does this test, within a deadline.
    spot_driver = SensorDriver(
        defs.resolve_sensor_def("spot_interruption_sensor"), instance, deployment
    )
    requests = eventually(lambda: spot_driver.evaluate().run_requests, bool)
    requests += spot_driver.evaluate().run_requests + spot_driver.evaluate().run_requests
    assert {r.run_key for r in requests} == {f"spot-retry:{interrupted.run_id}"}
    retry_request = requests[0]
    assert retry_request.tags[tags.INTERRUPTIONS] == "1"

    # 7. The retry resumes: only the missing outputs are rendered.
    retry = defs.resolve_job_def("render_catalog").execute_in_process(
        instance=instance,
        partition_key=retry_request.partition_key,
        run_config=RUN_CONFIG,
        tags={
            **retry_request.tags,
            tags.RUN_KEY: retry_request.run_key,
            tags.SENSOR_NAME: "spot_interruption_sensor",
        },
    )
    assert retry.success  # the blocking manifest and output checks passed
    (rendered,) = [
        event.materialization.metadata
        for event in retry.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey("rendered_variants")
    ]
    assert rendered["skipped"].value == done_before_retry
    assert rendered["rendered"].value == total_outputs - done_before_retry
    assert rendered["retry_of"].value == interrupted.run_id
    checks = retry.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)
    assert spot_driver.evaluate().run_requests == []  # settled: nothing more to retry

    # 8. Every output is in S3 under the KMS key, and checkpointed.
    with storage() as deployed:
        assert len(deployed.checkpoints().read("spot-shoe")) == total_outputs
    head = s3.head_object(Bucket=aws.bucket, Key="renders/spot-shoe/colour-47/hero.png")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(aws.kms_key_id)

    # 9. One completion notification, from the retry.
    (completed,) = aws.notifications(expect=1)
    assert completed == {
        "event": "product_rendered",
        "notification_id": completed["notification_id"],
        "product_id": "spot-shoe",
        "run_id": retry.run_id,
        "manifest_key": "manifests/spot-shoe.json",
        "variants": VARIANTS,
        "outputs": total_outputs,
        "bytes": completed["bytes"],
        "run_url": f"http://localhost:3000/runs/{retry.run_id}",
    }
    assert completed["bytes"] > 0 and len(completed["notification_id"]) == 32
