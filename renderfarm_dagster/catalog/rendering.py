"""Render a product into the object store, checkpointing each variant, resuming from checkpoints
(what is already done: product_inputs.py)."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.fonts import (
    FontCatalogSource,
    UploadedFont,
)
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.product_inputs import (
    MissingInputError,
    ProductInputs,
    load_inputs,
    plan,
)
from renderfarm_dagster.catalog.templates import (
    TemplateSource,
    bundled_template,
)
from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.render.contact_sheet import contact_sheet
from renderfarm_dagster.render.kinds import photo_keys
from renderfarm_dagster.render.variant import (
    RenderedOutput,
    VariantFailure,
    VariantJob,
    render_variant,
)
from renderfarm_dagster.spec import ProductSpec
from renderfarm_dagster.spec_fields import OutputSpec
from renderfarm_dagster.storage import (
    CheckpointStore,
    ObjectNotFoundError,
    ObjectStore,
    OutputCheckpoint,
)

# The contact sheet shows at most this many variants: enough to review, small enough to open.
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
    # Where the contact sheet is stored.
    preview_key: str = ""
    # Inputs that could not be rendered (a bad photo, a missing template): key -> reason.
    # A product with failures has no contact sheet and no manifest until they are fixed.
    failures: dict[str, str] = field(default_factory=dict)
    # The template, photos and brand fonts rendered with, and their sha256 (what a change
    # re-renders).
    inputs: dict[str, str] = field(default_factory=dict)
    # Characters no available font has, drawn as boxes: "<variant>/<layer>" -> characters.
    # Only for the variants rendered now (a resumed run does not lay out the others again).
    uncovered_text: dict[str, str] = field(default_factory=dict)
    # Photos not placed as asked (fit "subject" with no subject found: contained instead):
    # "<variant>/<layer>" -> why. Only for the variants rendered now, like uncovered_text.
    photo_warnings: dict[str, str] = field(default_factory=dict)
    # What the outputs were rendered from, for the manifest that lists them (None when the
    # inputs could not be loaded).
    source: ProductInputs | None = field(default=None, repr=False)


def render_spec_variant(
    spec: ProductSpec,
    variant_id: str,
    wanted: Iterable[str] | None = None,
    template: TemplateSource | None = None,
    photos: dict[str, bytes] | None = None,
    fonts: tuple[UploadedFont, ...] = (),
) -> list[RenderedOutput]:
    """One variant rendered in this process, from inputs in hand rather than in a store:
    `renderfarm preview`, the bench and the tests. The template defaults to the bundled one
    the spec names; `photos` are the bytes of every photo the spec's layers show, `fonts` the
    brand fonts its template names."""
    photos = photos or {}
    template = template or bundled_template(spec.template)
    inputs = ProductInputs(
        spec,
        template,
        {key: hashlib.sha256(data).hexdigest() for key, data in photos.items()},
        fonts,
    )
    return render_variant(
        variant_job(inputs, variant_id, photos, tuple(wanted) if wanted is not None else None)
    )


def variant_job(
    inputs: ProductInputs,
    variant_id: str,
    photos: dict[str, bytes],
    wanted: tuple[str, ...] | None = None,
) -> VariantJob:
    """What a render worker needs for one variant; `photos` holds the bytes of its photos."""
    spec = inputs.spec
    layers = spec.layer_values(variant_id)
    outputs = tuple(spec.outputs)
    wanted = wanted or tuple(output.name for output in outputs)
    return VariantJob(
        product_id=spec.product_id,
        variant_id=variant_id,
        template_name=inputs.template.name,
        template_layouts=inputs.template.layout_data(),
        layers=layers,
        photos=photos,
        outputs=outputs,
        wanted=wanted,
        fingerprints={
            o.name: inputs.fingerprint(variant_id, o) for o in outputs if o.name in wanted
        },
        language=spec.locale_of(variant_id),
        fonts=tuple(font.for_render() for font in inputs.fonts),
    )


@dataclass
class _Progress:
    """A product whose variants are being drawn: what is left, and its report so far."""

    spec: ProductSpec
    report: ProductRenderReport
    started: float
    inputs: ProductInputs | None
    todo: dict[str, tuple[str, ...]]
    stored: int = 0

    @property
    def to_render(self) -> int:
        return len(self.todo)


def render_products(
    specs: Iterable[ProductSpec],
    objects: ObjectStore,
    checkpoints: CheckpointStore,
    pool: RenderPool,
    run_id: str,
    attempt: int = 0,
    log: Callable[[str], None] = lambda message: None,
    between_variants: Callable[[], None] = lambda: None,
    fonts: FontCatalogSource | None = None,
) -> Iterator[ProductRenderReport]:
    """Render every output of `specs` not already done, checkpointing each variant as it lands;
    yield each product's report once its last variant is stored.

    The products share one stream of variants through the pool: the next product is planned
    and its variants queued while the workers still draw the last ones of the previous, so
    they never sit idle at a product boundary while this process makes a contact sheet, plans
    the next product or the caller logs and records the finished one. Close the generator
    (`contextlib.closing`) before the pool if the caller may stop early: closing stores what
    the workers had already drawn.

    `attempt` counts the interruptions before this run, so that checkpoints of an interrupted
    run that is still shutting down never replace those of its retry. `between_variants` is
    called after each variant is stored; a BaseException it raises stops the render as an
    interruption does. A product whose inputs or a variant fail is yielded with its
    `failures`; the others go on.
    """
    drawing: dict[str, _Progress] = {}
    finished: deque[_Progress] = deque()
    # fonts/ is listed once per call (or by the caller's `fonts`), when the first product
    # whose template names a brand font comes: a font uploaded meanwhile is the sensor's to
    # act on.
    fonts = fonts or FontCatalogSource(objects)

    def variant_jobs() -> Iterator[VariantJob | VariantFailure]:
        # Runs in this process whenever the pool has room for another variant.
        for spec in specs:
            progress = _start(spec, objects, checkpoints, fonts, log)
            if progress.to_render:
                drawing[spec.product_id] = progress
            else:
                finished.append(progress)
            for variant_id, wanted in progress.todo.items():
                yield _job_or_failure(progress, variant_id, wanted, objects)

    next_progress = time.monotonic() + PROGRESS_INTERVAL_S
    try:
        for job, outputs in pool.render(variant_jobs()):
            progress = drawing[job.product_id]
            if isinstance(outputs, VariantFailure):
                progress.report.failures[outputs.key] = outputs.reason
                log(f"{job.product_id}: variant {job.variant_id} failed: {outputs}")
            else:
                _store_variant(
                    progress.spec, outputs, objects, checkpoints, run_id, attempt, progress.report
                )
            progress.stored += 1
            between_variants()
            if progress.stored == progress.to_render:
                finished.append(drawing.pop(job.product_id))
            elif time.monotonic() >= next_progress:
                log(f"{job.product_id}: {progress.stored}/{progress.to_render} variants rendered")
                next_progress = time.monotonic() + PROGRESS_INTERVAL_S
            while finished:
                yield _finish(finished.popleft(), objects)
    except BaseException as stop:
        if isinstance(stop, Exception):
            raise  # a failure, not an interruption: the store itself may be what failed
        # SIGTERM (on Fargate Spot, a two-minute warning) arrives as a BaseException such as
        # Dagster's DagsterExecutionInterruptedError or KeyboardInterrupt; a caller that stops
        # early closes this generator (GeneratorExit). The variants the workers are drawing
        # finish in well under a second: storing them now means the retry does not draw them
        # again.
        saved = 0
        for job, outputs in pool.finish_started():
            if isinstance(outputs, VariantFailure):
                continue
            progress = drawing[job.product_id]
            _store_variant(
                progress.spec, outputs, objects, checkpoints, run_id, attempt, progress.report
            )
            saved += 1
        if saved:
            log(f"interrupted; stored the {saved} variant(s) already drawn")
        raise
    while finished:
        yield _finish(finished.popleft(), objects)


def render_product(
    spec: ProductSpec,
    objects: ObjectStore,
    checkpoints: CheckpointStore,
    pool: RenderPool,
    run_id: str,
    attempt: int = 0,
    log: Callable[[str], None] = lambda message: None,
) -> ProductRenderReport:
    """`render_products` for one product."""
    (report,) = render_products([spec], objects, checkpoints, pool, run_id, attempt, log)
    return report


def _start(
    spec: ProductSpec,
    objects: ObjectStore,
    checkpoints: CheckpointStore,
    fonts: FontCatalogSource,
    log: Callable[[str], None],
) -> _Progress:
    started = time.monotonic()
    report = ProductRenderReport(
        product_id=spec.product_id,
        variants=len(spec.variants),
        outputs=len(spec.variants) * len(spec.outputs),
    )
    try:
        inputs = load_inputs(spec, objects, fonts)
    except MissingInputError as error:
        report.failures[error.key] = error.reason
        log(f"{spec.product_id}: cannot render: {error}")
        return _Progress(spec, report, started, None, {})
    report.inputs = inputs.sha256s()
    report.source = inputs
    todo, done = plan(inputs, objects, checkpoints)
    report.skipped = len(done)
    report.total_bytes = sum(c.size for c in done)
    if done:
        log(f"{spec.product_id}: {len(done)} outputs already rendered, {len(todo)} variants to go")
    return _Progress(spec, report, started, inputs, todo)


def _job_or_failure(
    progress: _Progress, variant_id: str, wanted: tuple[str, ...], objects: ObjectStore
) -> VariantJob | VariantFailure:
    """The variant's job with its photos read now (one variant's photos in memory at a time)."""
    assert progress.inputs is not None  # a product whose inputs failed has nothing to do
    used = photo_keys(progress.spec.layer_values(variant_id))
    photos = {}
    for key in sorted(used):
        try:
            photos[key] = objects.get(key)
        except ObjectNotFoundError:
            return VariantFailure(
                progress.spec.product_id, variant_id, key, "photo deleted while rendering"
            )
    return variant_job(progress.inputs, variant_id, photos, wanted)


def _finish(progress: _Progress, objects: ObjectStore) -> ProductRenderReport:
    report = progress.report
    report.duration_s = time.monotonic() - progress.started
    if report.failures:
        return report  # its outputs are incomplete: no contact sheet
    assert progress.inputs is not None  # without its inputs, a product has failures
    sheet = _contact_sheet(progress.inputs, objects)
    report.preview_key = keys.preview_key(progress.spec.product_id)
    objects.put(report.preview_key, sheet, "image/jpeg")
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
    for output in outputs[:1]:
        for layer, characters in output.uncovered.items():
            report.uncovered_text[f"{output.variant_id}/{layer}"] = characters
        for layer, warning in output.photo_warnings.items():
            report.photo_warnings[f"{output.variant_id}/{layer}"] = warning
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
    output_format = FORMATS[output.format]
    key = keys.output_key(
        spec.product_id, output.variant_id, output.output_name, output_format.extension
    )
    info = objects.put(key, output.data, output_format.content_type)
    return OutputCheckpoint(
        **output.record_fields(),
        product_id=spec.product_id,
        key=key,
        sha256=info.sha256,
        size=info.size,
        run_id=run_id,
        attempt=attempt,
    )


def _contact_sheet(inputs: ProductInputs, objects: ObjectStore) -> bytes:
    """Every variant in every layout its outputs are drawn from, one band per layout."""
    spec = inputs.spec
    by_layout: dict[str, list[OutputSpec]] = defaultdict(list)
    for output in spec.outputs:
        by_layout[inputs.template.layouts.for_output(output).name].append(output)
    groups = []
    for layout, outputs in by_layout.items():
        # The smallest output of each variant is enough for a 160 px tile and cheapest to read.
        smallest = min(outputs, key=lambda o: o.width * o.height)
        images = [
            objects.get(
                keys.output_key(
                    spec.product_id, variant.variant_id, smallest.name, smallest.extension
                )
            )
            for variant in spec.variants[:CONTACT_SHEET_MAX_VARIANTS]
        ]
        groups.append((layout, images))
    return contact_sheet(groups)
