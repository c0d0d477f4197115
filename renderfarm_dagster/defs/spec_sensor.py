"""The upload sensor: uploaded specs become partitions and runs, invalid ones are rejected;
uploaded templates and fonts are validated; a changed template, font or photo re-renders the
products using it; a spec waits for the inputs it names.

What a tick reads, writes and decides is catalog/spec_tick.py's (over storage and the queue)
and catalog/spec_decisions.py's (pure); this module is what Dagster adds: the runs it already
launched, the product partitions, and the run requests.
"""

import time

import dagster as dg

from renderfarm_dagster.catalog.spec_decisions import RunPlan, SpecSensorCursor
from renderfarm_dagster.catalog.spec_tick import TickBudget, run_sizing, spec_tick
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import MessagingResource, StorageResource
from renderfarm_dagster.defs.runs import SensorRuns
from renderfarm_dagster.settings import max_wait_seconds

SENSOR_NAME = "spec_inbox_sensor"
# What one tick may take on (catalog/spec_tick.py says why each bound is what it is).
BUDGET = TickBudget()
# Partition keys added per statement: SQLite refuses statements with too many parameters.
PARTITIONS_PER_ADD = 1000
# The sensor's clock (sweep intervals, marks in flight, waits): tests move it on.
clock = time.time


@dg.sensor(
    name=SENSOR_NAME,
    job=render_catalog_job,
    # A bulk drop's ticks follow each other; an idle tick costs a listing step, no reads.
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reacts to uploads under specs/, templates/, fonts/ and assets/: S3 notifications from the "
        "spec queue, plus bounded sweeps for any notification that never arrived. A new or "
        "changed spec registers its product partition and requests a render run (the run key "
        "holds the spec's sha256, so an unchanged spec requests nothing), once every photo, "
        "template and font it names is stored; an invalid spec, template or font is moved to "
        "rejected/ with an .error.json report; a changed template, font or photo requests the "
        "products that use it (the run's renderfarm/reason tag says which)."
    ),
)
def spec_inbox_sensor(
    context: dg.SensorEvaluationContext, storage: StorageResource, messaging: MessagingResource
) -> dg.SensorResult:
    result = spec_tick(
        SpecSensorCursor.parse(context.cursor),
        messaging.spec_events(),
        storage.objects(),
        storage.inputs(),
        SensorRuns(context.instance, SENSOR_NAME),
        clock(),
        run_sizing(),
        max_wait_seconds(),
        context.log,
        BUDGET,
    )
    # Added here, in one statement per 1,000 keys, rather than returned as requests: the daemon
    # checks each requested key with a query of its own (2.7 s per 1,000 on SQLite). A tick
    # that dies after this leaves partitions without runs, as a daemon dying between adding
    # requested partitions and storing the runs would; the next tick requests their runs.
    new = result.new_partitions
    for start in range(0, len(new), PARTITIONS_PER_ADD):
        context.instance.add_dynamic_partitions(
            products.name, new[start : start + PARTITIONS_PER_ADD]
        )
    return dg.SensorResult(
        run_requests=[_run_request(plan) for plan in result.plans],
        cursor=result.cursor.serialize(),
    )


def _run_request(plan: RunPlan) -> dg.RunRequest:
    run_tags = {tags.REASON: plan.reason}
    if plan.changed_input is not None:
        run_tags[tags.CHANGED_INPUT], run_tags[tags.CHANGED_INPUT_SHA256] = plan.changed_input
    batch = plan.batch
    if len(batch.product_ids) == 1:
        return dg.RunRequest(run_key=plan.run_key, partition_key=batch.first, tags=run_tags)
    return dg.RunRequest(
        run_key=plan.run_key,
        tags={
            **run_tags,
            tags.PARTITION_RANGE_START: batch.first,
            tags.PARTITION_RANGE_END: batch.last,
        },
    )
