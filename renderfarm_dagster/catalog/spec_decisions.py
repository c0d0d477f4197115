"""The spec sensor's decisions, as pure functions of what a tick found: which specs to read,
which to request and in which runs, which wait for inputs, and where the next tick resumes.

catalog/spec_tick.py does the I/O (the queue, the listings, the input index, reading specs)
and calls these in turn; nothing here reads or writes anything, so each is tested on plain
values (tests/catalog/test_spec_decisions.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from renderfarm_dagster.catalog.batches import Batch, output_megapixels, plan_batches
from renderfarm_dagster.catalog.inbox import AcceptedSpec, RejectedSpec, WaitingSpec
from renderfarm_dagster.catalog.spec_marks import SpecMark

# The estimate for a product whose spec this sensor never read (nor its size): 25 variants of
# about 1 megapixel of outputs.
DEFAULT_PRODUCT_MEGAPIXELS = 25.0


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
    def parse(cls, raw: str | None) -> SpecSensorCursor:
        if not raw:
            return cls()
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError):
            # A cursor from before notifications: it was the sweep position alone.
            return cls(sweep_after=raw)

    def serialize(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


@dataclass
class Inbox:
    to_read: list[str]  # spec keys that may hold bytes not yet requested
    marks: dict[str, SpecMark]  # of the specs to read, those requested (or waiting) before
    settled: dict[str, SpecMark]  # marks to rewrite: their run exists, a new version, a wait


def triage(
    versions: Mapping[str, str],
    marks: Mapping[str, SpecMark],
    launched: Collection[str],
    now: float,
    forced: Collection[str],
    max_wait_s: float,
) -> Inbox:
    """Which specs to read, of those listed or notified (key -> listing version, "" when not
    known): those whose version differs from their mark's, whose mark names a run that never
    came (not among `launched`), that waited longer than `max_wait_s`, or that are `forced`
    (an input they waited for changed)."""
    expired_before = now - max_wait_s
    inbox = Inbox([], {}, {})
    for key, version in sorted(versions.items()):
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


@dataclass(frozen=True)
class Candidate:
    """A valid spec, to request once its inputs are stored."""

    spec: AcceptedSpec
    # Inputs it waits for whatever is stored at their keys (a template that is invalid), and
    # why, as the log says it.
    unusable: tuple[str, ...] = ()
    why: str = ""


@dataclass
class ReadSpecs:
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[RejectedSpec] = field(default_factory=list)
    # Forced specs that are gone: their products no longer follow their inputs.
    deleted: list[str] = field(default_factory=list)


def sort_read(
    read: Sequence[tuple[str, AcceptedSpec | RejectedSpec | WaitingSpec | None]],
    inbox: Inbox,
    versions: Mapping[str, str],
    forced: Mapping[str, str],
) -> ReadSpecs:
    """What the specs read say (`forced`: spec key -> product, for specs read because an input
    they waited for changed): valid specs to request or to wait, rejections, deleted specs. An
    unchanged spec read again (a duplicate notification, a touched file) is neither: its mark
    is settled at its new version."""
    found = ReadSpecs()
    for key, decision in read:
        if decision is None:
            if key in forced:
                found.deleted.append(forced[key])
            continue
        if isinstance(decision, AcceptedSpec):
            mark = inbox.marks.get(key)
            version = versions[key]
            if (
                mark is not None
                and mark.sha256 == decision.parsed.sha256
                and not mark.waiting
                and key not in forced
            ):
                if version and version != mark.version:
                    inbox.settled[key] = mark.settle(version)
                continue
            found.candidates.append(Candidate(decision))
        elif isinstance(decision, WaitingSpec):
            template = decision.template_key
            found.candidates.append(
                Candidate(
                    AcceptedSpec(decision.key, decision.parsed),
                    (template,),
                    f" ({decision.reason})",
                )
            )
        else:
            found.rejected.append(decision)
    return found


@dataclass(frozen=True)
class Wait:
    """A spec that waits for `missing`, with the mark that says so."""

    spec: AcceptedSpec
    inputs: dict[str, str]
    missing: list[str]
    mark: SpecMark
    why: str
    new: bool  # its first tick waiting, or waiting for other inputs: recorded and logged


@dataclass
class Requested:
    wanted: list[AcceptedSpec] = field(default_factory=list)
    waits: list[Wait] = field(default_factory=list)
    # Specs requested because they waited longer than the longest wait: (spec, missing, hours).
    expired: list[tuple[AcceptedSpec, list[str], float]] = field(default_factory=list)


def decide_waits(
    candidates: Sequence[Candidate],
    spec_inputs: dict[str, dict[str, str]],
    marks: Mapping[str, SpecMark],
    versions: Mapping[str, str],
    now: float,
    max_wait_s: float,
) -> Requested:
    """A valid spec is requested once every photo, template and brand font it uses is stored
    (`spec_inputs`: product -> input key -> sha256, "" for one not stored); until then it
    waits, for at most `max_wait_s`. Each candidate's inputs in `spec_inputs` are completed
    with the ones it waits for whatever is stored."""
    found = Requested()
    for candidate in candidates:
        spec = candidate.spec
        inputs = {**spec_inputs[spec.product_id], **dict.fromkeys(candidate.unusable, "")}
        spec_inputs[spec.product_id] = inputs
        missing = sorted(key for key, sha in inputs.items() if not sha)
        if missing:
            mark = marks.get(spec.key)
            waits = waiting_mark(spec, missing, mark, versions[spec.key], now)
            waited = now - waits.waiting_since
            if waited < max_wait_s:
                found.waits.append(Wait(spec, inputs, missing, waits, candidate.why, waits != mark))
                continue
            found.expired.append((spec, missing, waited / 3600))
        found.wanted.append(spec)
    return found


def waiting_mark(
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


@dataclass(frozen=True)
class RunPlan:
    """A run to request: its products (a range), its run key, why, and the input whose change
    requests it, if any (key, sha256)."""

    batch: Batch
    run_key: str
    reason: str
    changed_input: tuple[str, str] | None = None


@dataclass(frozen=True)
class RunSizing:
    """How runs are sized (settings.py): render rate, target seconds, most products."""

    megapixels_per_s: float
    target_s: float
    max_products: int


def partition_order(
    existing: Sequence[str], requested: Collection[str]
) -> tuple[dict[str, int], list[str]]:
    """Every product partition's place in Dagster's ranges, with the requested products not
    yet partitions added at the end in key order (a drop is then one contiguous stretch), and
    those new ones."""
    new = sorted(set(requested).difference(existing))
    return {key: i for i, key in enumerate([*existing, *new])}, new


def spec_runs(
    wanted: Sequence[AcceptedSpec],
    positions: Mapping[str, int],
    spec_inputs: Mapping[str, Mapping[str, str]],
    versions: Mapping[str, str],
    forced: Collection[str],
    now: float,
    sizing: RunSizing,
) -> tuple[list[RunPlan], dict[str, SpecMark]]:
    """The runs for the wanted specs, sized by their work, and each spec's mark (its bytes,
    listing version, size and the run requested, in flight until the run exists)."""
    megapixels = {spec.product_id: output_megapixels(spec.parsed.spec) for spec in wanted}
    seconds = {p: mp / sizing.megapixels_per_s for p, mp in megapixels.items()}
    by_product = {spec.product_id: spec for spec in wanted}
    plans, marks = [], {}
    for batch in plan_batches(positions, seconds, sizing.target_s, sizing.max_products):
        specs = [by_product[product_id] for product_id in batch.product_ids]
        # The spec's bytes and its inputs' state: a spec requested while a photo was missing
        # is requested again, under another key, when the photo arrives.
        run_key = batch.run_key(
            "specs",
            {s.product_id: requested_version(s, spec_inputs[s.product_id]) for s in specs},
        )
        plans.append(RunPlan(batch, run_key, _reason(specs, forced)))
        for spec in specs:
            marks[spec.key] = SpecMark(
                spec.parsed.sha256, versions[spec.key], megapixels[spec.product_id], run_key, now
            )
    return plans, marks


def _reason(specs: Sequence[AcceptedSpec], forced: Collection[str]) -> str:
    if len(specs) > 1:
        what = (
            "new, changed or complete" if {s.key for s in specs} & set(forced) else "new or changed"
        )
        return f"{len(specs)} specs are {what} ({specs[0].key} to {specs[-1].key})"
    if specs[0].key in forced:
        return f"{specs[0].key}: the inputs it waited for are stored"
    return f"{specs[0].key} is new or changed"


def requested_version(spec: AcceptedSpec, inputs: Mapping[str, str]) -> str:
    """What a spec is requested as: its bytes and the state of its inputs."""
    state = "\n".join(f"{key} {sha}" for key, sha in sorted(inputs.items()))
    return f"{spec.parsed.sha256} {hashlib.sha256(state.encode('utf-8')).hexdigest()[:16]}"


def change_runs(
    input_users: Mapping[tuple[str, str], Sequence[str]],
    positions: Mapping[str, int],
    megapixels: Mapping[str, float],
    sizing: RunSizing,
) -> dict[str, RunPlan]:
    """Batched runs for the products of each changed input ((key, sha256) -> products), by run
    key. Run keys name the input, its sha256 and the products: the same change seen twice (a
    duplicate notification, a sweep, a tick that died) requests nothing new."""
    plans: dict[str, RunPlan] = {}
    for (key, sha), users in sorted(input_users.items()):
        seconds = {
            p: megapixels.get(p, DEFAULT_PRODUCT_MEGAPIXELS) / sizing.megapixels_per_s
            for p in users
        }
        for batch in plan_batches(positions, seconds, sizing.target_s, sizing.max_products):
            run_key = batch.run_key(f"{key}@{sha[:16]}", dict.fromkeys(batch.product_ids, sha))
            plans[run_key] = RunPlan(
                batch, run_key, f"{key} changed (sha256 {sha[:12]})", changed_input=(key, sha)
            )
    return plans
