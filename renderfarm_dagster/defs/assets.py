"""Rendered variants and manifests of each product, as partitioned assets."""

import base64
import unicodedata
from contextlib import closing

import dagster as dg
from pydantic import Field

from renderfarm_dagster.catalog.inbox import load_specs
from renderfarm_dagster.catalog.manifest import IncompleteRenderError, publish_manifests
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.rendering import ProductRenderReport, render_products
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.interrupts import latched_interrupts
from renderfarm_dagster.defs.partition_metadata import PartitionMetadata
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import MessagingResource, StorageResource
from renderfarm_dagster.settings import partitions_per_run, ui_url
from renderfarm_dagster.spec import SpecError

# Each backfill run renders up to N products: in production a run is a container whose cold
# start (image pull, Python, imports) costs more than rendering one small product.
BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=partitions_per_run())
OWNERS = ["team:catalog-platform"]


class RenderConfig(dg.Config):
    workers: int = Field(
        default=0, ge=0, description="Render processes to use; 0 means one per available CPU."
    )


def _spec_failure(error: SpecError) -> dg.Failure:
    return dg.Failure(
        description=f"The stored spec is invalid:\n{error}",
        metadata={"errors": dg.MetadataValue.json(error.to_report())},
    )


@dg.asset(
    partitions_def=products,
    backfill_policy=BACKFILL_POLICY,
    group_name="catalog",
    kinds={"python", "svg"},
    owners=OWNERS,
    description=(
        "Every output image of every variant of a product, rendered from its spec and stored "
        "under renders/<product_id>/. Outputs already checkpointed with a matching object are "
        "skipped, so a retried run only renders what is missing."
    ),
)
def rendered_variants(
    context: dg.AssetExecutionContext, config: RenderConfig, storage: StorageResource
) -> dg.MaterializeResult:
    objects, checkpoints = storage.objects(), storage.checkpoints()
    attempt = _attempt(context.run)
    if attempt:
        context.log.info(
            f"retry {attempt} of run {context.run.tags.get(tags.RETRY_OF)}: resuming from "
            "checkpoints"
        )
    # Every spec of the run is read before anything renders: an invalid one fails the run at
    # once, with its errors, instead of after the products before it.
    # Read once: each read of a run's dynamic partition keys is a query of every key.
    product_ids = context.partition_keys
    try:
        specs = [parsed.spec for parsed in load_specs(objects, product_ids)]
    except SpecError as error:
        raise _spec_failure(error) from None
    partition_metadata = PartitionMetadata(context, product_ids)
    reason = context.run.tags.get(tags.REASON)
    if reason:
        context.log.info(f"requested because {reason}")
    rendered = 0
    failed: dict[str, dict[str, str]] = {}
    try:
        with (
            latched_interrupts() as interrupts,
            RenderPool(config.workers) as pool,
            # Closed before the pool: an interruption stores what the workers already drew.
            closing(
                render_products(
                    specs,
                    objects,
                    checkpoints,
                    pool,
                    context.run.run_id,
                    attempt,
                    context.log.info,
                    between_variants=interrupts.raise_if_signalled,
                )
            ) as reports,
        ):
            context.log.info(f"rendering {len(specs)} product(s) with {pool.workers} worker(s)")
            for report in reports:
                if report.failures:
                    # A bad photo or template fails its product; the others go on rendering.
                    failed[report.product_id] = report.failures
                    context.log.error(
                        f"{report.product_id}: cannot be rendered: "
                        + "; ".join(f"{key}: {reason}" for key, reason in report.failures.items())
                    )
                    continue
                context.log.info(
                    f"{report.product_id}: {report.rendered} rendered, {report.skipped} skipped "
                    f"in {report.duration_s:.1f}s"
                )
                if report.uncovered_text:
                    context.log.warning(
                        f"{report.product_id}: characters no bundled or brand font has, drawn "
                        "as boxes: "
                        + "; ".join(
                            f"{where}: {_named(characters)}"
                            for where, characters in report.uncovered_text.items()
                        )
                    )
                # Each partition's materialisation shows its own product, not the run's.
                partition_metadata.add(
                    report.product_id,
                    {**_render_metadata(report), **({"reason": reason} if reason else {})},
                )
                rendered += report.rendered
    except dg.DagsterExecutionInterruptedError:
        # SIGTERM: on Fargate Spot, the two-minute warning. What landed is checkpointed; the
        # tag tells the failure notifier this run will be retried, not reported.
        context.instance.add_run_tags(context.run.run_id, {tags.INTERRUPTED: "sigterm"})
        context.log.warning(
            f"interrupted after {rendered} outputs of finished products; "
            "everything stored is checkpointed"
        )
        raise
    if failed:
        raise dg.Failure(
            description=(
                f"{len(failed)} of {len(specs)} product(s) cannot be rendered: "
                + "; ".join(
                    f"{product_id}: {key}: {reason}"
                    for product_id, failures in failed.items()
                    for key, reason in failures.items()
                )
                + ". Everything else rendered is stored and checkpointed; fix the input and "
                "re-run (finished outputs are skipped)."
            ),
            metadata={"failed": dg.MetadataValue.json(failed)},
        )
    if not attempt:
        return dg.MaterializeResult()
    return dg.MaterializeResult(
        metadata={"retry_of": context.run.tags.get(tags.RETRY_OF, ""), "attempt": attempt}
    )


def _attempt(run: dg.DagsterRun) -> int:
    raw = run.tags.get(tags.INTERRUPTIONS, "0")
    if not raw.isdigit():
        raise dg.Failure(description=f"run tag {tags.INTERRUPTIONS}={raw!r} is not a count")
    return int(raw)


def _render_metadata(report: ProductRenderReport) -> dict:
    thumbnail = base64.b64encode(report.preview_jpeg).decode("ascii")
    return {
        "variants": report.variants,
        "outputs": report.outputs,
        "rendered": report.rendered,
        "skipped": report.skipped,
        "bytes_written": report.bytes_written,
        "total_bytes": report.total_bytes,
        "duration_s": round(report.duration_s, 3),
        "contact_sheet_key": dg.MetadataValue.path(report.preview_key),
        # What the outputs were rendered from: a change to any of these re-renders them.
        "inputs": dg.MetadataValue.json(report.inputs),
        # Empty when every character had a font: what a reviewer looks for before publishing.
        "uncovered_characters": dg.MetadataValue.json(
            {where: _named(chars) for where, chars in report.uncovered_text.items()}
        ),
        "preview": dg.MetadataValue.md(
            f"![{report.product_id} contact sheet](data:image/jpeg;base64,{thumbnail})"
        ),
    }


@dg.asset(
    partitions_def=products,
    backfill_policy=BACKFILL_POLICY,
    deps=[rendered_variants],
    group_name="catalog",
    kinds={"python", "json"},
    owners=OWNERS,
    description=(
        "manifests/<product_id>.json: the spec's sha256, template and renderer versions, and "
        "for every variant every output's key, format, size, bytes and sha256."
    ),
)
def product_manifest(
    context: dg.AssetExecutionContext, storage: StorageResource, messaging: MessagingResource
) -> dg.MaterializeResult:
    objects, checkpoints = storage.objects(), storage.checkpoints()
    notifier = messaging.notifier()
    run_url = f"{ui_url()}/runs/{context.run.run_id}"
    # Read once: each read of a run's dynamic partition keys is a query of every key.
    product_ids = context.partition_keys
    partition_metadata = PartitionMetadata(context, product_ids)
    published = publish_manifests(
        product_ids, objects, checkpoints, notifier, context.run.run_id, run_url
    )
    try:
        with closing(published):
            for product_id, manifest in zip(product_ids, published, strict=True):
                notification = manifest.notification
                partition_metadata.add(
                    product_id,
                    {
                        "manifest_key": dg.MetadataValue.path(manifest.info.key),
                        "manifest_sha256": manifest.info.sha256,
                        "manifest_bytes": manifest.info.size,
                        "variants": notification["variants"],
                        "outputs": notification["outputs"],
                        "output_bytes": notification["bytes"],
                    },
                )
    except SpecError as error:
        raise _spec_failure(error) from None
    except IncompleteRenderError as error:
        raise dg.Failure(description=str(error)) from None
    # One line for the step: each manifest is in its partition's materialisation.
    context.log.info(f"wrote {len(product_ids)} manifest(s) and published their notifications")
    return dg.MaterializeResult()


def _named(characters: str) -> str:
    """Characters as code points and names: "U+1F642 SLIGHTLY SMILING FACE"."""
    return ", ".join(
        f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}" for char in characters
    )
