"""Render a product into the object store, checkpointing each variant, resuming from checkpoints."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.render.contact_sheet import contact_sheet
from renderfarm_dagster.render.variant import RenderedOutput, render_fingerprint
from renderfarm_dagster.spec import EXTENSIONS, OutputSpec, ProductSpec
from renderfarm_dagster.storage import CheckpointStore, ObjectStore, OutputCheckpoint

CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}
# The contact sheet shows at most this many variants: enough to review, small enough to embed.
CONTACT_SHEET_MAX_VARIANTS = 64
# Progress is logged at most this often while a product renders (the caller reports the end).
# By time, not by count: each line is an event in Dagster's event log (~15 ms to write, in
# `make bench`), and a steady cadence is what someone watching a run wants.
PROGRESS_INTERVAL_S = 10.0


@dataclass
class ProductRenderReport:
    product_id: str
    variants: int
    outputs: int
    rendered: int = 0
    skipped: int = 0
    bytes_written: int = 0
    total_bytes: int = 0
    duration_s: float = 0.0
    preview_key: str = ""
    preview: bytes = field(default=b"", repr=False)


def plan(
    spec: ProductSpec, objects: ObjectStore, checkpoints: CheckpointStore
) -> tuple[dict[str, tuple[str, ...]], list[OutputCheckpoint]]:
    """Split a product's outputs into those still to render and those already done.

    An output is done when its checkpoint was made from the same inputs (fingerprint) and
    the object it names is still there with the same sha256: a checkpoint alone is not trusted.
    """
    recorded = checkpoints.read(spec.product_id)
    todo: dict[str, tuple[str, ...]] = {}
    done: list[OutputCheckpoint] = []
    for variant in spec.variants:
        missing = []
        for output in spec.outputs:
            checkpoint = recorded.get((variant.variant_id, output.name))
            if checkpoint and _still_valid(checkpoint, spec, output, objects):
                done.append(checkpoint)
            else:
                missing.append(output.name)
        if missing:
            todo[variant.variant_id] = tuple(missing)
    return todo, done


def _still_valid(
    checkpoint: OutputCheckpoint, spec: ProductSpec, output: OutputSpec, objects: ObjectStore
) -> bool:
    if checkpoint.fingerprint != render_fingerprint(spec, checkpoint.variant_id, output):
        return False
    info = objects.head(checkpoint.key)
    return info is not None and info.sha256 == checkpoint.sha256 and info.size == checkpoint.size


def render_product(
    spec: ProductSpec,
    objects: ObjectStore,
    checkpoints: CheckpointStore,
    pool: RenderPool,
    run_id: str,
    attempt: int = 0,
    log: Callable[[str], None] = lambda message: None,
) -> ProductRenderReport:
    """Render every output of `spec` not already done; checkpoint each variant as it lands.

    `attempt` counts the interruptions before this run, so that checkpoints of an interrupted
    run that is still shutting down never replace those of its retry.
    """
    started = time.monotonic()
    todo, done = plan(spec, objects, checkpoints)
    report = ProductRenderReport(
        product_id=spec.product_id,
        variants=len(spec.variants),
        outputs=len(spec.variants) * len(spec.outputs),
        skipped=len(done),
        total_bytes=sum(c.size for c in done),
    )
    if done:
        log(f"{spec.product_id}: {len(done)} outputs already rendered, {len(todo)} variants to go")
    jobs = [(spec, variant_id, names) for variant_id, names in todo.items()]
    next_progress = started + PROGRESS_INTERVAL_S
    try:
        for finished, outputs in enumerate(pool.render(jobs), start=1):
            _store_variant(spec, outputs, objects, checkpoints, run_id, attempt, report)
            if time.monotonic() >= next_progress and finished < len(jobs):
                log(f"{spec.product_id}: {finished}/{len(jobs)} variants rendered")
                next_progress = time.monotonic() + PROGRESS_INTERVAL_S
    except BaseException as stop:
        if isinstance(stop, Exception):
            raise  # a failure, not an interruption: the store itself may be what failed
        # SIGTERM (on Fargate Spot, a two-minute warning) arrives as a BaseException such as
        # Dagster's DagsterExecutionInterruptedError or KeyboardInterrupt. The variants the
        # workers are drawing finish in well under a second: storing them now means the retry
        # does not draw them again.
        saved = 0
        for outputs in pool.finish_started():
            _store_variant(spec, outputs, objects, checkpoints, run_id, attempt, report)
            saved += 1
        if saved:
            log(f"{spec.product_id}: interrupted; stored the {saved} variant(s) already drawn")
        raise
    report.preview = _contact_sheet(spec, objects)
    report.preview_key = keys.preview_key(spec.product_id)
    objects.put(report.preview_key, report.preview, "image/jpeg")
    report.duration_s = time.monotonic() - started
    return report


def _store_variant(
    spec: ProductSpec,
    outputs: list[RenderedOutput],
    objects: ObjectStore,
    checkpoints: CheckpointStore,
    run_id: str,
    attempt: int,
    report: ProductRenderReport,
) -> None:
    landed: list[OutputCheckpoint] = []
    try:
        for output in outputs:
            checkpoint = _store(spec, output, objects, run_id, attempt)
            landed.append(checkpoint)
            report.rendered += 1
            report.bytes_written += checkpoint.size
            report.total_bytes += checkpoint.size
    finally:
        # Recorded only once its object is stored, so a checkpoint never points at nothing;
        # in `finally` so that an interruption (SIGTERM) mid-variant still records what
        # landed, and the retry redoes only the rest.
        checkpoints.record(landed)


def _store(
    spec: ProductSpec, output: RenderedOutput, objects: ObjectStore, run_id: str, attempt: int
) -> OutputCheckpoint:
    key = keys.output_key(
        spec.product_id, output.variant_id, output.output_name, EXTENSIONS[output.format]
    )
    info = objects.put(key, output.data, CONTENT_TYPES[output.format])
    return OutputCheckpoint(
        product_id=spec.product_id,
        variant_id=output.variant_id,
        output_name=output.output_name,
        key=key,
        fingerprint=output.fingerprint,
        sha256=info.sha256,
        size=info.size,
        format=output.format,
        width=output.width,
        height=output.height,
        run_id=run_id,
        attempt=attempt,
    )


def _contact_sheet(spec: ProductSpec, objects: ObjectStore) -> bytes:
    # The smallest output of each variant is enough for a 160 px tile and cheapest to read.
    smallest = min(spec.outputs, key=lambda o: o.width * o.height)
    images = [
        objects.get(
            keys.output_key(spec.product_id, variant.variant_id, smallest.name, smallest.extension)
        )
        for variant in spec.variants[:CONTACT_SHEET_MAX_VARIANTS]
    ]
    return contact_sheet(images)
