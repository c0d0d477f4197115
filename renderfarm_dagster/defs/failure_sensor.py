"""Failure notifications for runs that failed as a whole: a store or the instance failed, a
worker died. A product that could not be published is reported by its run (one render_failed
per product, catalog/batch.py); a run interrupted by Spot is retried, not reported."""

import dagster as dg

from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.resources import MessagingResource
from renderfarm_dagster.messaging.notifications import RunFailed
from renderfarm_dagster.settings import ui_url

# The error Dagster fails a step with when a stop signal reaches it outside the step's own code
# (between two of its events), where the step cannot tag its run interrupted itself.
INTERRUPTED_ERROR = "DagsterExecutionInterruptedError"


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
        "Publishes a render_failed notification for every render run that failed as a whole. "
        "Products that could not be published are reported by their run, one notification "
        "each; runs interrupted by Spot are retried, not reported."
    ),
)
def render_failure_notifier(
    context: dg.RunFailureSensorContext, messaging: MessagingResource
) -> None:
    run = context.dagster_run
    if tags.FAILED_PRODUCTS in run.tags:
        context.log.info(
            f"run {run.run_id}: {run.tags[tags.FAILED_PRODUCTS]} product(s) could not be "
            "published, each already reported by the run"
        )
        return
    errors = [
        event.event_specific_data.error
        for event in context.get_step_failure_events()
        if event.event_specific_data and event.event_specific_data.error
    ]
    if tags.INTERRUPTED in run.tags or any(e.cls_name == INTERRUPTED_ERROR for e in errors):
        context.log.info(
            f"run {run.run_id} was interrupted ({run.tags.get(tags.INTERRUPTED, 'signal')}): "
            "retried, not reported"
        )
        return
    reasons = [context.failure_event.message or "run failed"]
    reasons += [error.message.strip() for error in errors]
    RunFailed(
        products=run_products(run),
        run_id=run.run_id,
        reason="\n".join(reasons),
        run_url=f"{ui_url()}/runs/{run.run_id}",
    ).send(messaging.notifier())
