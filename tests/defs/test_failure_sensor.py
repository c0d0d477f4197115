"""Failure notifications: a run that failed as a whole is reported; an interrupted one is not,
and neither is one whose products were each reported by the run."""

import json

import dagster as dg

from renderfarm_dagster.definitions import build_definitions
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.failure_sensor import render_failure_notifier
from renderfarm_dagster.defs.partitions import products


def failed_run(instance, run_tags=None, product_id="ghost"):
    instance.add_dynamic_partitions(products.name, [product_id])
    result = (
        build_definitions()
        .resolve_job_def("render_catalog")
        .execute_in_process(
            instance=instance, partition_key=product_id, raise_on_error=False, tags=run_tags or {}
        )
    )
    assert not result.success
    return instance.get_run_by_id(result.run_id)


# A run that cannot start its work: its interruption count is not a count.
BROKEN = {tags.INTERRUPTIONS: "many"}


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
    run = failed_run(instance, BROKEN)
    notify(instance, run, messaging)
    (message,) = published(data_dir)
    assert message["event"] == "render_failed"
    assert message["product_id"] == "ghost" and message["run_id"] == run.run_id
    assert "renderfarm/interruptions='many' is not a count" in message["reason"]
    assert message["run_url"].endswith(f"/runs/{run.run_id}")


def test_an_interrupted_run_is_retried_not_reported(instance, data_dir, messaging):
    run = failed_run(instance, {**BROKEN, tags.INTERRUPTED: "sigterm"})
    notify(instance, run, messaging)
    assert published(data_dir) == []


def test_a_run_whose_products_failed_is_not_reported_again(instance, data_dir, messaging):
    # No spec is stored for the product: the run reports it (one render_failed for the
    # product, with its reason) and fails; the sensor adds nothing.
    run = failed_run(instance)
    assert run.tags[tags.FAILED_PRODUCTS] == "1"
    (reported,) = published(data_dir)
    assert reported["product_id"] == "ghost" and reported["stage"] == "spec"
    assert reported["problems"] == {"specs/ghost.json: $": "no spec stored for this product"}
    notify(instance, run, messaging)
    assert published(data_dir) == [reported]
