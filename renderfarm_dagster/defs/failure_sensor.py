"""Failure notifications: a failed render run, or one whose asset check failed, is reported."""

import dagster as dg

from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.resources import MessagingResource
from renderfarm_dagster.messaging import RENDER_FAILED
from renderfarm_dagster.settings import ui_url


def run_products(run: dg.DagsterRun) -> dict[str, str]:
    """The partitions a run covered, as tags name them."""
    if tags.PARTITION in run.tags:
        return {"product_id": run.tags[tags.PARTITION]}
    return {
        "first_product_id": run.tags.get(tags.PARTITION_RANGE_START, ""),
        "last_product_id": run.tags.get(tags.PARTITION_RANGE_END, ""),
    }


@dg.run_failure_sensor(
    name="render_failure_notifier",
    monitored_jobs=[render_catalog_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Publishes a render_failed notification for every failed render run, including runs "
        "failed by a blocking asset check, except runs interrupted by Spot (they are retried)."
    ),
)
def render_failure_notifier(
    context: dg.RunFailureSensorContext, messaging: MessagingResource
) -> None:
    run = context.dagster_run
    if tags.INTERRUPTED in run.tags:
        context.log.info(
            f"run {run.run_id} was interrupted ({run.tags[tags.INTERRUPTED]}): retried, "
            "not reported"
        )
        return
    reasons = [context.failure_event.message or "run failed"]
    reasons += [
        event.event_specific_data.error.message.strip()
        for event in context.get_step_failure_events()
        if event.event_specific_data and event.event_specific_data.error
    ]
    messaging.notifier().publish(
        RENDER_FAILED,
        {
            **run_products(run),
            "run_id": run.run_id,
            "reason": "\n".join(reasons),
            "run_url": f"{ui_url()}/runs/{run.run_id}",
        },
    )
