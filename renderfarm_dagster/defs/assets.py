"""Rendered variants and manifests of each product, as partitioned assets."""

import base64

import dagster as dg
from pydantic import Field

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.inbox import load_spec
from renderfarm_dagster.catalog.manifest import (
    IncompleteRenderError,
    build_manifest,
    manifest_bytes,
)
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.rendering import ProductRenderReport, render_product
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import MessagingResource, StorageResource
from renderfarm_dagster.deployment import partitions_per_run, ui_url
from renderfarm_dagster.messaging import PRODUCT_RENDERED
from renderfarm_dagster.render.contact_sheet import downscale_jpeg
from renderfarm_dagster.spec import SpecError

# Each backfill run renders up to N products: in production a run is a container whose cold
# start (image pull, Python, imports) costs more than rendering one small product.
BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=partitions_per_run())
OWNERS = ["team:catalog-platform"]
PREVIEW_WIDTH = 640


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
    reports = []
    if attempt:
        context.log.info(
            f"retry {attempt} of run {context.run.tags.get(tags.RETRY_OF)}: resuming from "
            "checkpoints"
        )
    try:
        with RenderPool(config.workers) as pool:
            context.log.info(
                f"rendering {len(context.partition_keys)} product(s) with {pool.workers} worker(s)"
            )
            for product_id in context.partition_keys:
                try:
                    parsed = load_spec(objects, product_id)
                except SpecError as error:
                    raise _spec_failure(error) from None
                report = render_product(
                    parsed.spec,
                    objects,
                    checkpoints,
                    pool,
                    context.run.run_id,
                    attempt,
                    context.log.info,
                )
                context.log.info(
                    f"{product_id}: {report.rendered} rendered, {report.skipped} skipped "
                    f"in {report.duration_s:.1f}s"
                )
                reports.append(report)
    except dg.DagsterExecutionInterruptedError:
        # SIGTERM: on Fargate Spot, the two-minute warning. What landed is checkpointed; the
        # tag tells the failure notifier this run will be retried, not reported.
        context.instance.add_run_tags(context.run.run_id, {tags.INTERRUPTED: "sigterm"})
        context.log.warning(
            f"interrupted after {sum(r.rendered for r in reports)} outputs of finished products; "
            "everything stored is checkpointed"
        )
        raise
    metadata = _render_metadata(reports)
    if attempt:
        metadata["retry_of"] = context.run.tags.get(tags.RETRY_OF, "")
        metadata["attempt"] = attempt
    return dg.MaterializeResult(metadata=metadata)


def _attempt(run: dg.DagsterRun) -> int:
    raw = run.tags.get(tags.INTERRUPTIONS, "0")
    if not raw.isdigit():
        raise dg.Failure(description=f"run tag {tags.INTERRUPTIONS}={raw!r} is not a count")
    return int(raw)


def _render_metadata(reports: list[ProductRenderReport]) -> dict:
    metadata = {
        "products": len(reports),
        "variants": sum(r.variants for r in reports),
        "outputs": sum(r.outputs for r in reports),
        "rendered": sum(r.rendered for r in reports),
        "skipped": sum(r.skipped for r in reports),
        "bytes_written": sum(r.bytes_written for r in reports),
        "total_bytes": sum(r.total_bytes for r in reports),
        "duration_s": round(sum(r.duration_s for r in reports), 3),
    }
    if len(reports) > 1:
        rows = "\n".join(
            f"| {r.product_id} | {r.variants} | {r.rendered} | {r.skipped} | {r.preview_key} |"
            for r in reports
        )
        metadata["per_product"] = dg.MetadataValue.md(
            "| product | variants | rendered | skipped | contact sheet |\n|---|---|---|---|---|\n"
            + rows
        )
    first = reports[0]
    thumbnail = base64.b64encode(downscale_jpeg(first.preview, PREVIEW_WIDTH)).decode("ascii")
    metadata["contact_sheet_key"] = dg.MetadataValue.path(first.preview_key)
    metadata["preview"] = dg.MetadataValue.md(
        f"![{first.product_id} contact sheet](data:image/jpeg;base64,{thumbnail})"
    )
    return metadata


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
    written = []
    for product_id in context.partition_keys:
        try:
            parsed = load_spec(objects, product_id)
            manifest = build_manifest(parsed, checkpoints.read(product_id))
        except SpecError as error:
            raise _spec_failure(error) from None
        except IncompleteRenderError as error:
            raise dg.Failure(description=str(error)) from None
        info = objects.put(
            keys.manifest_key(product_id), manifest_bytes(manifest), "application/json"
        )
        context.log.info(f"{product_id}: wrote {info.key} ({info.size} bytes)")
        written.append((info, manifest))
        notifier.publish(PRODUCT_RENDERED, _completion(context.run.run_id, info.key, manifest))
    return dg.MaterializeResult(
        metadata={
            "manifests": dg.MetadataValue.json({info.key: info.sha256 for info, _ in written}),
            "variants": sum(len(m["variants"]) for _, m in written),
            "outputs": sum(len(v["outputs"]) for _, m in written for v in m["variants"]),
            "output_bytes": sum(
                o["bytes"] for _, m in written for v in m["variants"] for o in v["outputs"]
            ),
        }
    )


def _completion(run_id: str, manifest_key: str, manifest: dict) -> dict:
    outputs = [o for v in manifest["variants"] for o in v["outputs"]]
    return {
        "product_id": manifest["product_id"],
        "run_id": run_id,
        "manifest_key": manifest_key,
        "variants": len(manifest["variants"]),
        "outputs": len(outputs),
        "bytes": sum(o["bytes"] for o in outputs),
        "run_url": f"{ui_url()}/runs/{run_id}",
    }
