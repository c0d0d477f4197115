"""The upload sensor: uploaded specs become partitions and runs, invalid ones are rejected;
uploaded templates are validated; a changed template or photo re-renders the products using it.

Two sources feed it: S3 notifications from a queue (cost per tick grows with new uploads, not
with the bucket) and bounded reconciliation sweeps of specs/, assets/ and templates/ that catch
any upload whose notification never came. Locally there are no notifications, so the sweeps run
every tick.
"""

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice

import dagster as dg

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.events import UnreadableMessage, created_keys
from renderfarm_dagster.catalog.inbox import (
    AcceptedSpec,
    WaitingSpec,
    move_to_rejected,
    read_inbox_spec,
)
from renderfarm_dagster.catalog.inputs import (
    INPUT_PREFIXES,
    current_sha256s,
    find_changes,
    is_input_key,
    uploaded_inputs,
)
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import MessagingResource, StorageResource
from renderfarm_dagster.defs.runs import existing_run_keys
from renderfarm_dagster.settings import spec_sweep_interval_s
from renderfarm_dagster.storage import InputIndex, ObjectStore

SENSOR_NAME = "spec_inbox_sensor"
# Per tick: queue messages drained and specs swept. Each costs one read of a small object, so a
# tick stays a few seconds, far under Dagster's 60 s sensor timeout, whatever the backlog.
MAX_MESSAGES_PER_TICK = 200
MAX_SWEEP_PER_TICK = 200
# Per tick: products looked at (and re-requested) because a template or photo they use changed,
# and changed inputs whose products are still being looked at (the rest wait for a sweep).
MAX_INPUT_USERS_PER_TICK = 200
MAX_CHANGES_IN_PROGRESS = 500
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
    # The same for uploaded inputs (assets/, then templates/).
    input_sweep_after: str = ""
    next_input_sweep_at: float = 0.0
    # Changed inputs whose products are being requested: [key, sha256, last product done].
    changes: list[list[str]] = field(default_factory=list)
    # Changes whose every product was requested by the tick that wrote this cursor: the next
    # tick records them in the input index (only once Dagster has stored those requests).
    acted_on: dict[str, str] = field(default_factory=dict)

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
        "Reacts to uploads under specs/, templates/ and assets/: S3 notifications from the "
        "spec queue, plus bounded sweeps for any notification that never arrived. A new or "
        "changed spec registers its product partition and requests a render run (the run key "
        "holds the spec's sha256, so an unchanged spec requests nothing); an invalid spec or "
        "template is moved to rejected/ with an .error.json report; a changed template or "
        "photo requests the products that use it (the run's renderfarm/reason tag says which)."
    ),
)
def spec_inbox_sensor(
    context: dg.SensorEvaluationContext, storage: StorageResource, messaging: MessagingResource
) -> dg.SensorResult:
    cursor = SpecSensorCursor.parse(context.cursor)
    queue = messaging.spec_events()
    queue.delete(cursor.acks)
    index = storage.inputs()
    index.see(cursor.acted_on)

    to_read: set[str] = set()
    uploaded_inputs_seen: set[str] = set()
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
        uploaded_inputs_seen.update(key for key in created if is_input_key(key))
        acks.append(message.receipt)

    objects = storage.objects()
    next_cursor = SpecSensorCursor(acks=acks)
    now = time.time()
    swept_inputs, next_cursor.input_sweep_after, next_cursor.next_input_sweep_at = _sweep(
        objects, INPUT_PREFIXES, cursor.input_sweep_after, cursor.next_input_sweep_at, now
    )
    uploaded_inputs_seen.update(key for key in swept_inputs if is_input_key(key))
    # Templates first: a spec arriving in the same tick is checked against the new one.
    changes = find_changes(objects, index, uploaded_inputs_seen)
    input_sha256s = dict(changes.current)  # this tick's heads, shared with the specs below
    for rejected in changes.rejected:
        context.log.warning(
            f"rejected {rejected.key} -> {rejected.rejected_key}:\n{rejected.error}"
        )

    swept, next_cursor.sweep_after, next_cursor.next_sweep_at = _sweep(
        objects, (keys.SPECS_PREFIX,), cursor.sweep_after, cursor.next_sweep_at, now
    )
    to_read.update(swept)

    accepted: dict[str, AcceptedSpec] = {}
    for key in sorted(to_read):
        decision = read_inbox_spec(objects, key)
        if decision is None:
            continue
        if isinstance(decision, AcceptedSpec):
            accepted[decision.run_key] = decision
        elif isinstance(decision, WaitingSpec):
            # Its template's arrival requests it, through the input index; its photos are
            # recorded once it is requested.
            template_key = keys.template_key(decision.parsed.spec.template)
            index.record(decision.product_id, {template_key: ""})
            context.log.warning(f"{decision.key} {decision.reason}")
        else:
            move_to_rejected(objects, decision)
            context.log.warning(
                f"rejected {decision.key} -> {decision.rejected_key}:\n{decision.error}"
            )

    launched = existing_run_keys(context.instance, SENSOR_NAME, accepted)
    wanted = [spec for run_key, spec in sorted(accepted.items()) if run_key not in launched]
    for spec in wanted:
        # Before the request: a tick that dies after this requests the spec again next tick.
        inputs = uploaded_inputs(spec.parsed.spec)
        index.record(spec.product_id, current_sha256s(objects, inputs, input_sha256s))
    run_requests = [
        dg.RunRequest(
            run_key=spec.run_key,
            partition_key=spec.product_id,
            tags={
                tags.SPEC_SHA256: spec.parsed.sha256,
                tags.REASON: f"{spec.key} is new or changed",
            },
        )
        for spec in wanted
    ]
    input_requests, next_cursor.changes, next_cursor.acted_on = _requests_for_changes(
        context, index, cursor.changes, changes.changed, {spec.product_id for spec in wanted}
    )
    run_requests += input_requests
    # The daemon adds only the partitions that do not exist yet (and logs the rest as
    # skipped), so the products of every request are passed on without a lookup here.
    wanted_products = sorted({request.partition_key for request in run_requests})
    if wanted or acks or input_requests:
        context.log.info(
            f"{len(wanted)} spec(s) to render, {len(input_requests)} product(s) to re-render "
            f"for changed templates or photos, {len(acks)} notification(s) handled"
        )
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[
            products.build_add_request(wanted_products[start : start + PARTITIONS_PER_REQUEST])
            for start in range(0, len(wanted_products), PARTITIONS_PER_REQUEST)
        ],
        cursor=next_cursor.serialize(),
    )


def _sweep(
    objects: ObjectStore, prefixes: Sequence[str], after: str, next_at: float, now: float
) -> tuple[list[str], str, float]:
    """One bounded step of a reconciliation sweep over `prefixes`, in key order: the keys read,
    and the position and the time of the next step (a new pass after the sweep interval).

    Keys compare as strings, so a position whose object was deleted still works, and the sweep
    does not depend on timestamps (uploads in the same second all count).
    """
    if now < next_at:
        return [], after, next_at
    keys_read = list(
        islice(
            (summary.key for prefix in prefixes for summary in objects.list(prefix, after)),
            MAX_SWEEP_PER_TICK,
        )
    )
    if len(keys_read) == MAX_SWEEP_PER_TICK:
        return keys_read, keys_read[-1], next_at
    return keys_read, "", now + spec_sweep_interval_s()


def _requests_for_changes(
    context: dg.SensorEvaluationContext,
    index: InputIndex,
    in_progress: list[list[str]],
    changed: dict[str, str],
    requested: set[str],
) -> tuple[list[dg.RunRequest], list[list[str]], dict[str, str]]:
    """Run requests for the products using changed inputs, at most MAX_INPUT_RUNS_PER_TICK.

    Returns the requests, the changes still in progress for the next tick and the changes whose
    every product is now requested. Run keys name the input and its sha256: the same change
    seen twice (a duplicate notification, a sweep, a tick that died) requests nothing new.
    Products whose spec is requested in this tick are left out: that run reads the new input.
    """
    queued = {key: [key, sha, after] for key, sha, after in in_progress}
    for key, sha in sorted(changed.items()):
        if key in queued and queued[key][1] == sha:
            continue  # already being requested
        if key not in queued and len(queued) >= MAX_CHANGES_IN_PROGRESS:
            continue  # not acted on: a later sweep finds it again
        queued[key] = [key, sha, ""]
    wanted: dict[str, tuple[str, str, str]] = {}
    remaining: list[list[str]] = []
    done: dict[str, str] = {}
    budget = MAX_INPUT_USERS_PER_TICK
    for key, sha, after in queued.values():
        if budget <= 0:
            remaining.append([key, sha, after])
            continue
        users = index.users(key, after=after, limit=budget)
        budget -= len(users)
        for product_id, requested_with in users:
            # A product whose spec run was requested with these bytes has them already.
            if requested_with != sha and product_id not in requested:
                wanted[f"{product_id}:{key}@{sha}"] = (product_id, key, sha)
        if len(users) == 0 or budget > 0:
            done[key] = sha
        else:
            remaining.append([key, sha, users[-1][0]])
    launched = existing_run_keys(context.instance, SENSOR_NAME, wanted)
    requests = [
        dg.RunRequest(
            run_key=run_key,
            partition_key=product_id,
            tags={
                tags.CHANGED_INPUT: key,
                tags.CHANGED_INPUT_SHA256: sha,
                tags.REASON: f"{key} changed (sha256 {sha[:12]})",
            },
        )
        for run_key, (product_id, key, sha) in sorted(wanted.items())
        if run_key not in launched
    ]
    return requests, remaining, done
