"""The spec inbox sensor: uploaded specs become partitions and runs, invalid ones are rejected.

Two sources feed it: S3 notifications from a queue (cost per tick grows with new uploads, not
with the bucket) and a bounded reconciliation sweep of specs/ that catches any upload whose
notification never came. Locally there are no notifications, so the sweep runs every tick.
"""

import json
import time
from dataclasses import asdict, dataclass, field
from itertools import islice

import dagster as dg

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.events import UnreadableMessage, created_keys
from renderfarm_dagster.catalog.inbox import AcceptedSpec, move_to_rejected, read_inbox_spec
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import MessagingResource, StorageResource
from renderfarm_dagster.defs.runs import existing_run_keys
from renderfarm_dagster.deployment import spec_sweep_interval_s

SENSOR_NAME = "spec_inbox_sensor"
# Per tick: queue messages drained and specs swept. Each costs one read of a small object, so a
# tick stays a few seconds, far under Dagster's 60 s sensor timeout, whatever the backlog.
MAX_MESSAGES_PER_TICK = 200
MAX_SWEEP_PER_TICK = 200
# Keys per AddDynamicPartitionsRequest: SQLite refuses statements with too many parameters.
PARTITIONS_PER_REQUEST = 1000


@dataclass
class SpecSensorCursor:
    # Receipts of the messages handled by the tick that wrote this cursor. Dagster stores a
    # cursor only together with that tick's run requests, so the next tick can delete them:
    # a tick that dies before Dagster stored its requests leaves its messages in the queue.
    acks: list[str] = field(default_factory=list)
    # The reconciliation sweep: the last key read, and when the next sweep may start.
    sweep_after: str = ""
    next_sweep_at: float = 0.0

    @classmethod
    def parse(cls, raw: str | None) -> "SpecSensorCursor":
        if not raw:
            return cls()
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError):
            # A cursor from before notifications: it was the sweep position alone.
            return cls(sweep_after=raw)

    def serialize(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


@dg.sensor(
    name=SENSOR_NAME,
    job=render_catalog_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reacts to specs uploaded under specs/: S3 notifications from the spec queue, plus a "
        "bounded sweep of specs/ for any notification that never arrived. A new or changed "
        "spec registers its product partition and requests a render run (the run key holds "
        "the spec's sha256, so an unchanged spec requests nothing); an invalid spec is moved "
        "to rejected/ with an .error.json report."
    ),
)
def spec_inbox_sensor(
    context: dg.SensorEvaluationContext, storage: StorageResource, messaging: MessagingResource
) -> dg.SensorResult:
    cursor = SpecSensorCursor.parse(context.cursor)
    queue = messaging.spec_events()
    queue.delete(cursor.acks)

    to_read: set[str] = set()
    acks: list[str] = []
    for message in queue.receive(MAX_MESSAGES_PER_TICK):
        try:
            created = created_keys(message.body)
        except UnreadableMessage as error:
            # Not acknowledged: after the queue's maxReceiveCount it moves to the dead-letter
            # queue; meanwhile it blocks nothing behind it.
            context.log.error(
                f"spec event {message.message_id} (delivery {message.receive_count}) is "
                f"unreadable and left for the dead-letter queue: {error}"
            )
            continue
        to_read.update(key for key in created if key.startswith(keys.SPECS_PREFIX))
        acks.append(message.receipt)

    objects = storage.objects()
    next_cursor = SpecSensorCursor(
        acks=acks, sweep_after=cursor.sweep_after, next_sweep_at=cursor.next_sweep_at
    )
    now = time.time()
    if now >= cursor.next_sweep_at:
        # Keys compare as strings, so a sweep position whose object was deleted still works,
        # and the sweep does not depend on timestamps (uploads in the same second all count).
        swept = [
            summary.key
            for summary in islice(
                objects.list(keys.SPECS_PREFIX, cursor.sweep_after), MAX_SWEEP_PER_TICK
            )
        ]
        to_read.update(swept)
        if len(swept) == MAX_SWEEP_PER_TICK:
            next_cursor.sweep_after = swept[-1]
        else:
            next_cursor.sweep_after = ""
            next_cursor.next_sweep_at = now + spec_sweep_interval_s()

    accepted: dict[str, AcceptedSpec] = {}
    for key in sorted(to_read):
        decision = read_inbox_spec(objects, key)
        if decision is None:
            continue
        if isinstance(decision, AcceptedSpec):
            accepted[decision.run_key] = decision
        else:
            move_to_rejected(objects, decision)
            context.log.warning(
                f"rejected {decision.key} -> {decision.rejected_key}:\n{decision.error}"
            )

    launched = existing_run_keys(context.instance, SENSOR_NAME, accepted)
    wanted = [spec for run_key, spec in sorted(accepted.items()) if run_key not in launched]
    # The daemon adds only the partitions that do not exist yet (and logs the rest as
    # skipped), so the products of every wanted spec are passed on without a lookup here.
    wanted_products = sorted({spec.product_id for spec in wanted})
    if wanted or acks:
        context.log.info(f"{len(wanted)} spec(s) to render, {len(acks)} notification(s) handled")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=spec.run_key,
                partition_key=spec.product_id,
                tags={"renderfarm/spec_sha256": spec.parsed.sha256},
            )
            for spec in wanted
        ],
        dynamic_partitions_requests=[
            products.build_add_request(wanted_products[start : start + PARTITIONS_PER_REQUEST])
            for start in range(0, len(wanted_products), PARTITIONS_PER_REQUEST)
        ],
        cursor=next_cursor.serialize(),
    )
