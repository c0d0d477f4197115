"""Failure notifications: failed runs are reported, interrupted ones are not."""

import json

import dagster as dg

from renderfarm_dagster.definitions import build_definitions
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.failure_sensor import render_failure_notifier


def failed_run(instance, data_dir, run_tags=None):
    from renderfarm_dagster.defs.partitions import products

    instance.add_dynamic_partitions(products.name, ["ghost"])
    result = (
        build_definitions()
        .resolve_job_def("render_catalog")
        .execute_in_process(
            instance=instance, partition_key="ghost", raise_on_error=False, tags=run_tags or {}
        )
    )
    assert not result.success
    return result.dagster_run


def notify(instance, run, messaging):
    (failure,) = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="render_failure_notifier",
        dagster_event=failure.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
        resources={"messaging": messaging},
    ).for_run_failure()
    render_failure_notifier(context)


def published(data_dir):
    path = data_dir / "notifications.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_failed_run_is_reported_with_its_reason_and_a_link(instance, data_dir, messaging):
    run = failed_run(instance, data_dir)
    notify(instance, run, messaging)
    (message,) = published(data_dir)
    assert message["event"] == "render_failed"
    assert message["product_id"] == "ghost" and message["run_id"] == run.run_id
    assert "no spec stored" in message["reason"]
    assert message["run_url"].endswith(f"/runs/{run.run_id}")


def test_an_interrupted_run_is_retried_not_reported(instance, data_dir, messaging):
    run = failed_run(instance, data_dir, {tags.INTERRUPTED: "sigterm"})
    notify(instance, run, messaging)
    assert published(data_dir) == []
