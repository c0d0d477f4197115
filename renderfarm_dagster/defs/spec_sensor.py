"""The upload sensor: uploaded specs become partitions and runs, invalid ones are rejected;
uploaded templates are validated; a changed template or photo re-renders the products using it.

Two sources feed it: S3 notifications from a queue (cost per tick grows with new uploads, not
with the bucket) and bounded reconciliation sweeps of specs/, assets/ and templates/ that catch
any upload whose notification never came. Locally there are no notifications, so the sweeps run
every tick.
"""

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice

import dagster as dg

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.batches import Batch, output_megapixels, plan_batches
from renderfarm_dagster.catalog.inbox import (
    AcceptedSpec,
    RejectedSpec,
    WaitingSpec,
    move_to_rejected,
    read_inbox_spec,
)
from renderfarm_dagster.catalog.inputs import (
    INPUT_PREFIXES,
    TemplateFonts,
    current_sha256s,
    find_changes,
    is_input_key,
    uploaded_inputs,
)
from renderfarm_dagster.catalog.spec_marks import SpecMark
from renderfarm_dagster.catalog.threads import in_order
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import MessagingResource, StorageResource
from renderfarm_dagster.defs.runs import existing_run_keys
from renderfarm_dagster.messaging.events import Unreadable
from renderfarm_dagster.settings import (
    max_products_per_run,
    max_wait_seconds,
    render_megapixels_per_s,
    spec_sweep_interval_s,
    target_run_seconds,
)
from renderfarm_dagster.storage import InputIndex, ObjectStore

SENSOR_NAME = "spec_inbox_sensor"
# Per tick: queue messages drained, keys of specs/ listed by a sweep step, and products looked
# at because a template or photo they use changed. Only specs new or changed since they were
# last requested are read, in parallel: a bulk drop of 100,000 specs takes about 25 ticks.
MAX_MESSAGES_PER_TICK = 4000
MAX_SWEEP_PER_TICK = 4000
# Uploaded inputs swept per tick. A photo whose listing version is unchanged is not read; a
# new or changed one is hashed (a HEAD on S3; locally the file is read and hashed), and
# templates are always read: fewer per tick than specs, so that a pass after many uploads
# stays a short tick.
MAX_INPUT_SWEEP_PER_TICK = 200
MAX_INPUT_USERS_PER_TICK = 4000
# Changed inputs whose products are still being looked at (the rest wait for a sweep).
MAX_CHANGES_IN_PROGRESS = 500
# Partition keys added per statement: SQLite refuses statements with too many parameters.
PARTITIONS_PER_ADD = 1000
# The estimate for a product whose spec this sensor never read (nor its size): 25 variants of
# about 1 megapixel of outputs.
DEFAULT_PRODUCT_MEGAPIXELS = 25.0
# The sensor's clock (sweep intervals, marks in flight): tests move it on.
clock = time.time


@dataclass
class SpecSensorCursor:
    # Receipts of the messages handled by the tick that wrote this cursor. Dagster stores a
    # cursor only together with that tick's run requests, so the next tick can delete them:
    # a tick that dies before Dagster stored its requests leaves its messages in the queue.
    acks: list[str] = field(default_factory=list)
    # The reconciliation sweep: the last key listed, and when the next sweep may start.
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
    # A bulk drop's ticks follow each other; an idle tick costs a listing step, no reads.
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reacts to uploads under specs/, templates/, fonts/ and assets/: S3 notifications from the "
        "spec queue, plus bounded sweeps for any notification that never arrived. A new or "
        "changed spec registers its product partition and requests a render run (the run key "
        "holds the spec's sha256, so an unchanged spec requests nothing); an invalid spec, "
        "template or font is moved to rejected/ with an .error.json report; a changed template, "
        "font or photo requests the products that use it (the run's renderfarm/reason tag says "
        "which)."
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

    # Spec keys to look at, each with its listing version ("" when not known).
    spec_versions: dict[str, str] = {}
    # Uploaded templates and photos to look at, each with its listing version.
    input_versions: dict[str, str] = {}
    acks: list[str] = []
    for delivery in queue.receive(MAX_MESSAGES_PER_TICK):
        if isinstance(delivery, Unreadable):
            # Not acknowledged: after the queue's maxReceiveCount it moves to the dead-letter
            # queue; meanwhile it blocks nothing behind it.
            context.log.error(
                f"spec event {delivery.message_id} (delivery {delivery.receive_count}) is "
                f"unreadable and left for the dead-letter queue: {delivery.error}"
            )
            continue
        for created in delivery.event:
            if created.key.startswith(keys.SPECS_PREFIX):
                spec_versions[created.key] = created.version
            elif is_input_key(created.key):
                input_versions[created.key] = created.version
        acks.append(delivery.receipt)

    objects = storage.objects()
    next_cursor = SpecSensorCursor(acks=acks)
    now = clock()
    swept_inputs, next_cursor.input_sweep_after, next_cursor.next_input_sweep_at = _sweep(
        objects,
        INPUT_PREFIXES,
        cursor.input_sweep_after,
        cursor.next_input_sweep_at,
        now,
        MAX_INPUT_SWEEP_PER_TICK,
    )
    input_versions.update(
        (key, version) for key, version in swept_inputs.items() if is_input_key(key)
    )
    # Templates first: a spec arriving in the same tick is checked against the new one.
    changes = find_changes(objects, index, input_versions)
    input_sha256s = dict(changes.current)  # this tick's heads, shared with the specs below
    for rejected in changes.rejected:
        context.log.warning(
            f"rejected {rejected.key} -> {rejected.rejected_key}:\n{rejected.error}"
        )

    swept, next_cursor.sweep_after, next_cursor.next_sweep_at = _sweep(
        objects,
        (keys.SPECS_PREFIX,),
        cursor.sweep_after,
        cursor.next_sweep_at,
        now,
        MAX_SWEEP_PER_TICK,
    )
    # The listing's version is what the next sweep compares with.
    spec_versions.update(swept)

    # The products using changed inputs: those that were waiting for one have their spec read
    # again below (it may be complete now), the others are re-rendered if their spec is still
    # there.
    users, next_cursor.changes, next_cursor.acted_on = _products_for_changes(
        index, cursor.changes, changes.changed
    )
    waiting_users = {
        p for found in users.values() for p, requested_with in found if not requested_with
    }
    for product_id in waiting_users:
        spec_versions.setdefault(keys.spec_key(product_id), "")

    forced = {keys.spec_key(p): p for p in waiting_users}
    inbox = _triage(context.instance, index, spec_versions, now, set(forced))
    # Valid specs to request once their inputs are stored, each with the inputs it waits for
    # whatever is stored (an invalid template) and why.
    candidates: list[tuple[AcceptedSpec, list[str], str]] = []
    for key, decision in zip(inbox.to_read, _read_all(objects, inbox.to_read), strict=True):
        if decision is None:
            if key in forced:  # its input changed, its spec is gone
                _forget_deleted(context, index, [forced[key]])
            continue
        if isinstance(decision, AcceptedSpec):
            mark = inbox.marks.get(decision.key)
            version = spec_versions[decision.key]
            if (
                mark is not None
                and mark.sha256 == decision.parsed.sha256
                and not mark.waiting
                and key not in forced
            ):
                # The same bytes again (a duplicate notification, a touched file).
                if version and version != mark.version:
                    inbox.settled[decision.key] = mark.settle(version)
                continue
            candidates.append((decision, [], ""))
        elif isinstance(decision, WaitingSpec):
            # Its template's arrival has it read again, through the input index.
            template_key = keys.template_key(decision.parsed.spec.template)
            spec = AcceptedSpec(decision.key, decision.parsed)
            candidates.append((spec, [template_key], f" ({decision.reason})"))
        else:
            move_to_rejected(objects, decision)
            context.log.warning(
                f"rejected {decision.key} -> {decision.rejected_key}:\n{decision.error}"
            )

    # A valid spec is requested once every photo, template and brand font it uses is stored;
    # until then it waits (docs/outcomes.md).
    spec_inputs = _current_inputs(objects, [spec for spec, _, _ in candidates], input_sha256s)
    wanted: list[AcceptedSpec] = []
    max_wait = max_wait_seconds()
    for spec, unusable, why in candidates:
        inputs = {**spec_inputs[spec.product_id], **dict.fromkeys(unusable, "")}
        spec_inputs[spec.product_id] = inputs
        missing = sorted(key for key, sha in inputs.items() if not sha)
        if missing:
            mark = inbox.marks.get(spec.key)
            waits = _waiting_mark(spec, missing, mark, spec_versions[spec.key], now)
            if now - waits.waiting_since < max_wait:
                if waits != mark:  # newly waiting, or for other inputs: recorded and logged
                    index.record(spec.product_id, inputs)
                    inbox.settled[spec.key] = waits
                    context.log.warning(f"{spec.key} waits for {', '.join(missing)}{why}")
                continue
            context.log.warning(
                f"{spec.key} waited {(now - waits.waiting_since) / 3600:.1f} h for "
                f"{', '.join(missing)}: requested anyway, its run reports what is missing"
            )
        wanted.append(spec)
    index.see({key: mark.serialize() for key, mark in inbox.settled.items()})

    # Products re-rendered for their changed inputs: not those requested for their spec in
    # this tick (that run reads the new input), nor those whose spec is gone.
    requested_now = {spec.product_id for spec in wanted} | waiting_users
    input_users = {
        change: [p for p, _ in found if p not in requested_now] for change, found in users.items()
    }
    gone = _deleted_specs(objects, {p for found in input_users.values() for p in found})
    if gone:
        _forget_deleted(context, index, sorted(gone))
    input_users = {
        change: kept
        for change, found in input_users.items()
        if (kept := [p for p in found if p not in gone])
    }
    # Every product requested below: the wanted specs' products are added in key order at the
    # end of the partitions, so that a drop of new products is one contiguous range.
    order = _partition_order(context.instance, [s.product_id for s in wanted], input_users)
    # Added here, in one statement per 1,000 keys, rather than returned as requests: the daemon
    # checks each requested key with a query of its own (2.7 s per 1,000 on SQLite). A tick
    # that dies after this leaves partitions without runs, as a daemon dying between adding
    # requested partitions and storing the runs would; the next tick requests their runs.
    for start in range(0, len(order.new), PARTITIONS_PER_ADD):
        context.instance.add_dynamic_partitions(
            products.name, order.new[start : start + PARTITIONS_PER_ADD]
        )
    rate = render_megapixels_per_s()
    megapixels = {spec.product_id: output_megapixels(spec.parsed.spec) for spec in wanted}
    spec_seconds = {product_id: mp / rate for product_id, mp in megapixels.items()}
    batches = plan_batches(
        order.positions, spec_seconds, target_run_seconds(), max_products_per_run()
    )
    by_product = {spec.product_id: spec for spec in wanted}
    run_requests = []
    marks: dict[str, str] = {}
    for batch in batches:
        specs = [by_product[product_id] for product_id in batch.product_ids]
        # The spec's bytes and its inputs' state: a spec requested while a photo was missing
        # is requested again, under another key, when the photo arrives.
        run_key = batch.run_key(
            "specs", {s.product_id: _requested_version(s, spec_inputs[s.product_id]) for s in specs}
        )
        if len(specs) > 1:
            what = (
                "new, changed or complete"
                if forced.keys() & {s.key for s in specs}
                else "new or changed"
            )
            reason = f"{len(specs)} specs are {what} ({specs[0].key} to {specs[-1].key})"
        elif specs[0].key in forced:
            reason = f"{specs[0].key}: the inputs it waited for are stored"
        else:
            reason = f"{specs[0].key} is new or changed"
        run_requests.append(_batch_request(batch, run_key, {tags.REASON: reason}))
        for spec in specs:
            mark = SpecMark(
                spec.parsed.sha256,
                spec_versions[spec.key],
                megapixels[spec.product_id],
                run_key,
                now,
            )
            marks[spec.key] = mark.serialize()
    # Before the requests leave: a tick that dies after this requests these specs again once
    # their marks are out of flight (catalog/spec_marks.py).
    list(
        in_order(
            lambda spec: index.record(spec.product_id, spec_inputs[spec.product_id]),
            wanted,
            "index-record",
        )
    )
    index.see(marks)

    input_requests = _requests_for_input_users(context, index, order, input_users, rate)
    run_requests += input_requests
    if wanted or acks or input_requests:
        context.log.info(
            f"{len(wanted)} spec(s) to render in {len(batches)} run(s), "
            f"{sum(len(users) for users in input_users.values())} product(s) to re-render for "
            f"changed templates or photos in {len(input_requests)} run(s), {len(acks)} "
            f"notification(s) handled, {len(inbox.to_read)} spec(s) read, "
            f"{len(order.new)} product partition(s) added"
        )
    return dg.SensorResult(run_requests=run_requests, cursor=next_cursor.serialize())


@dataclass
class _Inbox:
    to_read: list[str]  # spec keys that may hold bytes not yet requested
    marks: dict[str, SpecMark]  # of the specs to read, those requested before
    settled: dict[str, SpecMark]  # marks to rewrite: their run exists, or a new version


def _triage(
    instance: dg.DagsterInstance,
    index: InputIndex,
    spec_versions: dict[str, str],
    now: float,
    forced: set[str],
) -> _Inbox:
    """Which specs to read: those whose listing version differs from their mark's (or is not
    known), whose mark names a run that never came, that waited too long, or that are
    `forced` (an input they waited for changed). O(1) queries, no object read."""
    marks = {
        key: mark
        for key, raw in index.seen(spec_versions).items()
        if (mark := SpecMark.parse(raw)) is not None
    }
    launched = existing_run_keys(
        instance, SENSOR_NAME, {mark.run_key for mark in marks.values() if not mark.settled}
    )
    expired_before = now - max_wait_seconds()
    inbox = _Inbox([], {}, {})
    for key, version in sorted(spec_versions.items()):
        mark = marks.get(key)
        if mark is not None and not mark.settled:
            if mark.run_key in launched:
                mark = inbox.settled[key] = mark.settle()
            elif mark.in_flight(now):
                continue  # its tick is still being stored: never request it twice
            else:
                mark = None  # its tick died before Dagster stored the request
        unchanged = mark is not None and version and version == mark.version
        expired = mark is not None and mark.waiting and mark.waiting_since <= expired_before
        if unchanged and not expired and key not in forced:
            continue
        inbox.to_read.append(key)
        if mark is not None:
            inbox.marks[key] = mark
    return inbox


def _read_all(
    objects: ObjectStore, spec_keys: Sequence[str]
) -> list[AcceptedSpec | RejectedSpec | WaitingSpec | None]:
    """Each spec read and validated, in parallel (bounded), in the order of `spec_keys`."""
    if len(spec_keys) <= 1:
        return [read_inbox_spec(objects, key) for key in spec_keys]
    return list(in_order(lambda key: read_inbox_spec(objects, key), spec_keys, "spec-read"))


def _current_inputs(
    objects: ObjectStore, specs: Sequence[AcceptedSpec], known: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Each spec's uploaded inputs with their sha256 now ("" for those not stored), several
    specs at once; `known` holds this tick's sha256s already looked up."""
    font_keys = TemplateFonts(objects)
    found = in_order(
        lambda spec: current_sha256s(objects, uploaded_inputs(spec.parsed.spec, font_keys), known),
        specs,
        "spec-inputs",
    )
    return {spec.product_id: inputs for spec, inputs in zip(specs, found, strict=True)}


def _waiting_mark(
    spec: AcceptedSpec, missing: list[str], mark: SpecMark | None, version: str, now: float
) -> SpecMark:
    """The mark of a spec that waits for `missing`, waiting since it first waited."""
    since = mark.waiting_since if mark is not None and mark.waiting else now
    return SpecMark.waiting_on(
        spec.parsed.sha256,
        version or (mark.version if mark is not None else ""),
        output_megapixels(spec.parsed.spec),
        missing,
        since,
    )


def _requested_version(spec: AcceptedSpec, inputs: dict[str, str]) -> str:
    state = "\n".join(f"{key} {sha}" for key, sha in sorted(inputs.items()))
    return f"{spec.parsed.sha256} {hashlib.sha256(state.encode('utf-8')).hexdigest()[:16]}"


def _deleted_specs(objects: ObjectStore, product_ids: set[str]) -> set[str]:
    """The products among `product_ids` whose spec is no longer stored (HEADs, in parallel)."""
    ordered = sorted(product_ids)
    heads = in_order(lambda p: objects.head(keys.spec_key(p)), ordered, "spec-head")
    return {p for p, info in zip(ordered, heads, strict=True) if info is None}


def _forget_deleted(
    context: dg.SensorEvaluationContext, index: InputIndex, product_ids: list[str]
) -> None:
    """A product whose spec was deleted no longer follows its inputs: its edges and mark go."""
    for product_id in product_ids:
        index.record(product_id, {})
    index.unsee([keys.spec_key(p) for p in product_ids])
    context.log.info(
        f"{len(product_ids)} deleted spec(s) no longer requested by changes of their inputs: "
        + ", ".join(keys.spec_key(p) for p in product_ids[:10])
        + (" ..." if len(product_ids) > 10 else "")
    )


@dataclass(frozen=True)
class _PartitionOrder:
    positions: dict[str, int]  # every product partition -> its place in Dagster's ranges
    new: list[str]  # those this tick adds (at the end, in key order)


def _partition_order(
    instance: dg.DagsterInstance,
    spec_products: Sequence[str],
    input_users: dict[tuple[str, str], list[str]],
) -> _PartitionOrder:
    requested = set(spec_products).union(*input_users.values())
    if not requested:
        return _PartitionOrder({}, [])
    existing = instance.get_dynamic_partitions(products.name)
    new = sorted(requested.difference(existing))
    return _PartitionOrder({key: i for i, key in enumerate([*existing, *new])}, new)


def _batch_request(batch: Batch, run_key: str, run_tags: dict[str, str]) -> dg.RunRequest:
    if len(batch.product_ids) == 1:
        return dg.RunRequest(run_key=run_key, partition_key=batch.first, tags=run_tags)
    return dg.RunRequest(
        run_key=run_key,
        tags={
            **run_tags,
            tags.PARTITION_RANGE_START: batch.first,
            tags.PARTITION_RANGE_END: batch.last,
        },
    )


def _sweep(
    objects: ObjectStore,
    prefixes: Sequence[str],
    after: str,
    next_at: float,
    now: float,
    budget: int,
) -> tuple[dict[str, str], str, float]:
    """One step of a reconciliation sweep over `prefixes`, in key order, of at most `budget`
    keys: the keys listed with their listing versions, and the position and the time of the
    next step (a new pass after the sweep interval).

    Keys compare as strings, so a position whose object was deleted still works, and the sweep
    does not depend on timestamps (uploads in the same second all count).
    """
    if now < next_at:
        return {}, after, next_at
    listed = {
        summary.key: summary.version
        for summary in islice(
            (summary for prefix in prefixes for summary in objects.list(prefix, after)),
            budget,
        )
    }
    if len(listed) == budget:
        return listed, next(reversed(listed)), next_at  # the last key listed
    return listed, "", now + spec_sweep_interval_s()


def _products_for_changes(
    index: InputIndex,
    in_progress: list[list[str]],
    changed: dict[str, str],
) -> tuple[dict[tuple[str, str], list[tuple[str, str]]], list[list[str]], dict[str, str]]:
    """The products using changed inputs, at most MAX_INPUT_USERS_PER_TICK: {(input key,
    sha256): [(product, sha256 it was requested with)]}, the changes still in progress for the
    next tick and the changes whose every product is now looked at.

    A product whose last request already had this sha256 is left out. A product using two
    changed inputs is listed once: its run reads both. One recorded with "" waited for the
    input (or was requested without it).
    """
    queued = {key: [key, sha, after] for key, sha, after in in_progress}
    for key, sha in sorted(changed.items()):
        if key in queued and queued[key][1] == sha:
            continue  # already being requested
        if key not in queued and len(queued) >= MAX_CHANGES_IN_PROGRESS:
            continue  # not acted on: a later sweep finds it again
        queued[key] = [key, sha, ""]
    users_by_change: dict[tuple[str, str], list[tuple[str, str]]] = {}
    taken: set[str] = set()
    remaining: list[list[str]] = []
    done: dict[str, str] = {}
    budget = MAX_INPUT_USERS_PER_TICK
    for key, sha, after in queued.values():
        if budget <= 0:
            remaining.append([key, sha, after])
            continue
        users = index.users(key, after=after, limit=budget)
        budget -= len(users)
        wanted = [(p, with_sha) for p, with_sha in users if with_sha != sha and p not in taken]
        taken.update(p for p, _ in wanted)
        if wanted:
            users_by_change[(key, sha)] = wanted
        if len(users) == 0 or budget > 0:
            done[key] = sha
        else:
            remaining.append([key, sha, users[-1][0]])
    return users_by_change, remaining, done


def _requests_for_input_users(
    context: dg.SensorEvaluationContext,
    index: InputIndex,
    order: _PartitionOrder,
    input_users: dict[tuple[str, str], list[str]],
    rate: float,
) -> list[dg.RunRequest]:
    """Batched runs for the products of each changed input. Run keys name the input, its sha256
    and the products: the same change seen twice (a duplicate notification, a sweep, a tick that
    died) requests nothing new."""
    if not input_users:
        return []
    every_user = sorted({p for users in input_users.values() for p in users})
    # The size of each product's last render, from its spec's mark.
    marks = index.seen([keys.spec_key(p) for p in every_user])
    megapixels = {
        p: mark.megapixels
        if (mark := SpecMark.parse(marks.get(keys.spec_key(p)))) is not None
        else DEFAULT_PRODUCT_MEGAPIXELS
        for p in every_user
    }
    wanted: dict[str, tuple[Batch, str, str]] = {}
    for (key, sha), users in sorted(input_users.items()):
        seconds = {p: megapixels[p] / rate for p in users}
        for batch in plan_batches(
            order.positions, seconds, target_run_seconds(), max_products_per_run()
        ):
            run_key = batch.run_key(f"{key}@{sha[:16]}", dict.fromkeys(batch.product_ids, sha))
            wanted[run_key] = (batch, key, sha)
    launched = existing_run_keys(context.instance, SENSOR_NAME, wanted)
    return [
        _batch_request(
            batch,
            run_key,
            {
                tags.CHANGED_INPUT: key,
                tags.CHANGED_INPUT_SHA256: sha,
                tags.REASON: f"{key} changed (sha256 {sha[:12]})",
            },
        )
        for run_key, (batch, key, sha) in sorted(wanted.items())
        if run_key not in launched
    ]
