"""One tick of the spec sensor, over storage and the spec queue: what it reads and writes.

Two sources feed it: S3 notifications from a queue (cost per tick grows with new uploads, not
with the bucket) and bounded reconciliation sweeps of specs/, assets/, fonts/ and templates/
that catch any upload whose notification never came. Locally there are no notifications, so
the sweeps run every tick. The decisions are catalog/spec_decisions.py's; what Dagster knows
(the runs already launched, the partitions) comes through `RunsSeen`, and the caller turns the
plans into run requests (defs/spec_sensor.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from renderfarm_dagster import keys
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
    indexed_key,
    is_input_key,
    uploaded_inputs,
)
from renderfarm_dagster.catalog.spec_decisions import (
    RunPlan,
    RunSizing,
    SpecSensorCursor,
    change_runs,
    decide_waits,
    partition_order,
    sort_read,
    spec_runs,
    triage,
)
from renderfarm_dagster.catalog.spec_marks import SpecMark
from renderfarm_dagster.catalog.threads import in_order
from renderfarm_dagster.messaging.events import EventReader, ObjectCreated, Unreadable
from renderfarm_dagster.settings import (
    max_products_per_run,
    render_megapixels_per_s,
    spec_sweep_interval_s,
    target_run_seconds,
)
from renderfarm_dagster.storage import InputIndex, ObjectStore


@dataclass(frozen=True)
class TickBudget:
    """What one tick may take on, so that a tick stays short whatever lands at once."""

    # Queue messages drained, and keys of specs/ listed by a sweep step. Only specs new or
    # changed since they were last requested are read, in parallel: a bulk drop of 100,000
    # specs takes about 25 ticks.
    messages: int = 4000
    sweep: int = 4000
    # Uploaded inputs swept. A photo whose listing version is unchanged is not read; a new or
    # changed one is hashed (a HEAD on S3; locally the file is read and hashed), and templates
    # are always read: fewer per tick than specs, so that a pass after many uploads stays a
    # short tick.
    input_sweep: int = 200
    # Products looked at because an input they use changed, and changed inputs whose products
    # are still being looked at (the rest wait for a sweep).
    input_users: int = 4000
    changes_in_progress: int = 500


def run_sizing() -> RunSizing:
    """How runs are sized, as the settings say."""
    return RunSizing(render_megapixels_per_s(), target_run_seconds(), max_products_per_run())


class RunsSeen(Protocol):
    """What the instance knows, as far as a tick needs it."""

    def launched(self, run_keys: Collection[str]) -> set[str]:
        """The run keys among `run_keys` that this sensor already launched a run for."""

    def partitions(self) -> list[str]:
        """Every product partition, in the order Dagster's ranges use."""


class Log(Protocol):
    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...


@dataclass
class TickResult:
    plans: list[RunPlan] = field(default_factory=list)
    # Partitions to add before the runs are requested (the wanted products not yet ones).
    new_partitions: list[str] = field(default_factory=list)
    cursor: SpecSensorCursor = field(default_factory=SpecSensorCursor)


def spec_tick(
    cursor: SpecSensorCursor,
    events: EventReader[list[ObjectCreated]],
    objects: ObjectStore,
    index: InputIndex,
    runs: RunsSeen,
    now: float,
    sizing: RunSizing,
    max_wait_s: float,
    log: Log,
    budget: TickBudget = TickBudget(),
) -> TickResult:
    events.delete(cursor.acks)
    index.see(cursor.acted_on)
    spec_versions, input_versions, acks = _notified(events, budget.messages, log)
    result = TickResult(cursor=SpecSensorCursor(acks=acks))
    next_cursor = result.cursor

    swept_inputs, next_cursor.input_sweep_after, next_cursor.next_input_sweep_at = _sweep(
        objects,
        INPUT_PREFIXES,
        cursor.input_sweep_after,
        cursor.next_input_sweep_at,
        now,
        budget.input_sweep,
    )
    input_versions.update((k, v) for k, v in swept_inputs.items() if is_input_key(k))
    # Templates first: a spec arriving in the same tick is checked against the new one.
    changes = find_changes(objects, index, input_versions)
    input_sha256s = dict(changes.current)  # this tick's heads, shared with the specs below
    for rejected in changes.rejected:
        log.warning(f"rejected {rejected.key} -> {rejected.rejected_key}:\n{rejected.error}")
    for key, mended in changes.warnings.items():
        log.warning(f"accepted {key}, with warnings:\n" + "\n".join(f"{key}: {w}" for w in mended))

    swept, next_cursor.sweep_after, next_cursor.next_sweep_at = _sweep(
        objects, (keys.SPECS_PREFIX,), cursor.sweep_after, cursor.next_sweep_at, now, budget.sweep
    )
    # The listing's version is what the next sweep compares with.
    spec_versions.update(swept)

    # The products using changed inputs: those that were waiting for one have their spec read
    # again below (it may be complete now), the others are re-rendered if their spec is still
    # there.
    users, next_cursor.changes, next_cursor.acted_on = products_for_changes(
        index, cursor.changes, changes.changed, budget
    )
    forced = {keys.spec_key(p): p for found in users.values() for p, sha in found if not sha}
    for key in forced:
        spec_versions.setdefault(key, "")
    marks = {
        key: mark
        for key, raw in index.seen(spec_versions).items()
        if (mark := SpecMark.parse(raw)) is not None
    }
    launched = runs.launched({mark.run_key for mark in marks.values() if not mark.settled})
    inbox = triage(spec_versions, marks, launched, now, forced, max_wait_s)
    read = sort_read(
        list(zip(inbox.to_read, _read_all(objects, inbox.to_read), strict=True)),
        inbox,
        spec_versions,
        forced,
    )
    if read.deleted:
        _forget_deleted(index, read.deleted, log)
    for rejected in read.rejected:
        move_to_rejected(objects, rejected)
        log.warning(f"rejected {rejected.key} -> {rejected.rejected_key}:\n{rejected.error}")

    spec_inputs = _current_inputs(objects, [c.spec for c in read.candidates], input_sha256s)
    requested = decide_waits(
        read.candidates, spec_inputs, inbox.marks, spec_versions, now, max_wait_s
    )
    for wait in requested.waits:
        if wait.new:
            index.record(wait.spec.product_id, wait.inputs)
            inbox.settled[wait.spec.key] = wait.mark
            log.warning(f"{wait.spec.key} waits for {', '.join(wait.missing)}{wait.why}")
    for spec, missing, hours in requested.expired:
        log.warning(
            f"{spec.key} waited {hours:.1f} h for {', '.join(missing)}: requested anyway, its "
            "run reports what is missing"
        )
    index.see({key: mark.serialize() for key, mark in inbox.settled.items()})

    wanted = requested.wanted
    # Products re-rendered for their changed inputs: not those requested for their spec in
    # this tick (that run reads the new input), nor those whose spec is gone.
    requested_now = {spec.product_id for spec in wanted} | set(forced.values())
    input_users = {
        change: [p for p, _ in found if p not in requested_now] for change, found in users.items()
    }
    gone = _deleted_specs(objects, {p for found in input_users.values() for p in found})
    if gone:
        _forget_deleted(index, sorted(gone), log)
    input_users = {
        change: kept
        for change, found in input_users.items()
        if (kept := [p for p in found if p not in gone])
    }
    products_requested = {spec.product_id for spec in wanted}.union(*input_users.values())
    positions, result.new_partitions = (
        partition_order(runs.partitions(), products_requested) if products_requested else ({}, [])
    )
    plans, spec_marks = spec_runs(
        wanted, positions, spec_inputs, spec_versions, forced, now, sizing
    )
    # Before the requests leave: a tick that dies after this requests these specs again once
    # their marks are out of flight (catalog/spec_marks.py).
    list(
        in_order(
            lambda spec: index.record(spec.product_id, spec_inputs[spec.product_id]),
            wanted,
            "index-record",
        )
    )
    index.see({key: mark.serialize() for key, mark in spec_marks.items()})
    change_plans = _change_runs(index, runs, input_users, positions, sizing)
    result.plans = plans + change_plans
    if wanted or acks or change_plans:
        log.info(
            f"{len(wanted)} spec(s) to render in {len(plans)} run(s), "
            f"{sum(len(users) for users in input_users.values())} product(s) to re-render for "
            f"changed templates or photos in {len(change_plans)} run(s), {len(acks)} "
            f"notification(s) handled, {len(inbox.to_read)} spec(s) read, "
            f"{len(result.new_partitions)} product partition(s) added"
        )
    return result


def _notified(
    events: EventReader[list[ObjectCreated]], limit: int, log: Log
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """The spec keys and the uploaded inputs the queue's notifications name, each with its
    listing version, and the receipts of the messages read."""
    spec_versions: dict[str, str] = {}
    input_versions: dict[str, str] = {}
    acks: list[str] = []
    for delivery in events.receive(limit):
        if isinstance(delivery, Unreadable):
            # Not acknowledged: after the queue's maxReceiveCount it moves to the dead-letter
            # queue; meanwhile it blocks nothing behind it.
            log.error(
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
    return spec_versions, input_versions, acks


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


def _deleted_specs(objects: ObjectStore, product_ids: set[str]) -> set[str]:
    """The products among `product_ids` whose spec is no longer stored (HEADs, in parallel)."""
    ordered = sorted(product_ids)
    heads = in_order(lambda p: objects.head(keys.spec_key(p)), ordered, "spec-head")
    return {p for p, info in zip(ordered, heads, strict=True) if info is None}


def _forget_deleted(index: InputIndex, product_ids: list[str], log: Log) -> None:
    """A product whose spec was deleted no longer follows its inputs: its edges and mark go."""
    for product_id in product_ids:
        index.record(product_id, {})
    index.unsee([keys.spec_key(p) for p in product_ids])
    log.info(
        f"{len(product_ids)} deleted spec(s) no longer requested by changes of their inputs: "
        + ", ".join(keys.spec_key(p) for p in product_ids[:10])
        + (" ..." if len(product_ids) > 10 else "")
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


def products_for_changes(
    index: InputIndex,
    in_progress: list[list[str]],
    changed: dict[str, str],
    budget: TickBudget,
) -> tuple[dict[tuple[str, str], list[tuple[str, str]]], list[list[str]], dict[str, str]]:
    """The products using changed inputs, at most `budget.input_users`: {(input key, sha256):
    [(product, sha256 it was requested with)]}, the changes still in progress for the next
    tick and the changes whose every product is now looked at.

    A product whose last request already had this sha256 is left out. A product using two
    changed inputs is listed once: its run reads both. One recorded with "" waited for the
    input (or was requested without it).
    """
    queued = {key: [key, sha, after] for key, sha, after in in_progress}
    for key, sha in sorted(changed.items()):
        if key in queued and queued[key][1] == sha:
            continue  # already being requested
        if key not in queued and len(queued) >= budget.changes_in_progress:
            continue  # not acted on: a later sweep finds it again
        queued[key] = [key, sha, ""]
    users_by_change: dict[tuple[str, str], list[tuple[str, str]]] = {}
    taken: set[str] = set()
    remaining: list[list[str]] = []
    done: dict[str, str] = {}
    left = budget.input_users
    for key, sha, after in queued.values():
        if left <= 0:
            remaining.append([key, sha, after])
            continue
        users = index.users(indexed_key(key), after=after, limit=left)
        left -= len(users)
        wanted = [(p, with_sha) for p, with_sha in users if with_sha != sha and p not in taken]
        taken.update(p for p, _ in wanted)
        if wanted:
            users_by_change[(key, sha)] = wanted
        if len(users) == 0 or left > 0:
            done[key] = sha
        else:
            remaining.append([key, sha, users[-1][0]])
    return users_by_change, remaining, done


def _change_runs(
    index: InputIndex,
    runs: RunsSeen,
    input_users: dict[tuple[str, str], list[str]],
    positions: dict[str, int],
    sizing: RunSizing,
) -> list[RunPlan]:
    """The runs for the products of changed inputs, sized by each product's last render (its
    spec's mark), but those already launched."""
    if not input_users:
        return []
    every_user = sorted({p for users in input_users.values() for p in users})
    marks = index.seen([keys.spec_key(p) for p in every_user])
    megapixels = {
        p: mark.megapixels
        for p in every_user
        if (mark := SpecMark.parse(marks.get(keys.spec_key(p)))) is not None
    }
    plans = change_runs(input_users, positions, megapixels, sizing)
    launched = runs.launched(plans)
    return [plan for run_key, plan in sorted(plans.items()) if run_key not in launched]
