"""The spec inbox sensor: new or changed specs become partitions and runs."""

from itertools import islice

import dagster as dg

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.inbox import AcceptedSpec, move_to_rejected, read_inbox_spec
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import StorageResource

# Specs read per tick: bounds a tick's time whatever the size of the inbox.
MAX_SPECS_PER_TICK = 200


@dg.sensor(
    job=render_catalog_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches specs/ in the bucket. A new or changed spec registers its product partition "
        "and requests a render run (the run key holds the spec's sha256, so an unchanged spec "
        "requests nothing); an invalid spec is moved to rejected/ with an .error.json report."
    ),
)
def spec_inbox_sensor(
    context: dg.SensorEvaluationContext, storage: StorageResource
) -> dg.SensorResult:
    objects = storage.objects()
    # The cursor is the last key read: each tick continues the sweep of specs/ from there, and a
    # sweep that reaches the end starts over, so every spec is revisited and changes are seen.
    # Keys compare as strings, so a cursor key that was deleted meanwhile still works.
    listed = list(islice(objects.list(keys.SPECS_PREFIX, context.cursor or ""), MAX_SPECS_PER_TICK))
    next_cursor = listed[-1].key if len(listed) == MAX_SPECS_PER_TICK else ""
    accepted: list[AcceptedSpec] = []
    for summary in listed:
        decision = read_inbox_spec(objects, summary.key)
        if decision is None:
            continue
        if isinstance(decision, AcceptedSpec):
            accepted.append(decision)
        else:
            move_to_rejected(objects, decision)
            context.log.warning(
                f"rejected {decision.key} -> {decision.rejected_key}:\n{decision.error}"
            )
    new_products = [
        spec.product_id
        for spec in accepted
        if not context.instance.has_dynamic_partition(products.name, spec.product_id)
    ]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=spec.run_key,
                partition_key=spec.product_id,
                tags={"renderfarm/spec_sha256": spec.parsed.sha256},
            )
            for spec in accepted
        ],
        dynamic_partitions_requests=[products.build_add_request(new_products)]
        if new_products
        else [],
        cursor=next_cursor,
    )
