"""Rendered variants and manifests of each product, as partitioned assets, with their checks.

One step renders, publishes and checks every product of its run (catalog/batch.py), and records
each product's outcome as it is known: its own materialisations, check results and, for a
product that cannot be published, a failed partition with the reason. So a run over 800
products with one bad photo materialises 799 and fails one (docs/outcomes.md).
"""

import unicodedata
import warnings
from collections.abc import Callable, Iterator

import dagster as dg
from pydantic import Field

from renderfarm_dagster.catalog.batch import (
    CHECK,
    MANIFEST,
    ProductBatch,
    ProductResult,
    Request,
    Stages,
)
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.rendering import ProductRenderReport
from renderfarm_dagster.catalog.verify import (
    MANIFEST_MATCHES_SPEC,
    OUTPUTS_ARE_VALID_IMAGES,
    OUTPUTS_MATCH_MANIFEST,
    VERIFICATIONS,
    CheckVerdict,
)
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.dagster_internals import (
    AssetCheckEvaluationTargetMaterializationData,
    latest_materialization,
    plan_failed,
)
from renderfarm_dagster.defs.interrupts import InterruptLatch
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import MessagingResource, StorageResource
from renderfarm_dagster.keys import FONTS_PREFIX
from renderfarm_dagster.settings import partitions_per_run, ui_url

# Each backfill run renders up to N products: in production a run is a container whose cold
# start (image pull, Python, imports) costs more than rendering one small product.
BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=partitions_per_run())
OWNERS = ["team:catalog-platform"]
RENDERED_VARIANTS = dg.AssetKey("rendered_variants")
PRODUCT_MANIFEST = dg.AssetKey("product_manifest")
# A failing check lists this many problems in its metadata; the count says how many there were.
MAX_LISTED_PROBLEMS = 50
# The run's failure message names this many failed products; its metadata lists them all.
MAX_NAMED_FAILURES = 20

# One check per product, not one per verification: each evaluation is a row of about 1.6 KB
# in the event log and another in Dagster's check-execution table, whatever it says, and every
# product of every render writes it (docs/scale-and-performance.md, "A lean Dagster record").
PRODUCT_VERIFIED = "product_verified"
VERIFICATION_DESCRIPTIONS = {
    MANIFEST_MATCHES_SPEC: (
        "the manifest lists exactly the spec's variants x outputs, with their formats and sizes"
    ),
    OUTPUTS_MATCH_MANIFEST: (
        "every output the manifest lists exists with the listed size and sha256, as the store "
        "reports them (an S3 HEAD returns the SHA-256 S3 verified on upload)"
    ),
    OUTPUTS_ARE_VALID_IMAGES: (
        "every output decodes in its requested format and dimensions and is not blank (not a "
        "single flat colour): the renderer refuses a blank rendition and checks each "
        "encoding's format and size before storing it, an object with the manifest's sha256 "
        "holds exactly those bytes, and any other object, plus one output per product, is "
        "decoded here"
    ),
}
CHECK_DESCRIPTION = "Three verifications of the product; a failure names which.\n" + "\n".join(
    f"- {name}: {description}." for name, description in VERIFICATION_DESCRIPTIONS.items()
)


ProductEvent = dg.AssetMaterialization | dg.AssetObservation | dg.AssetCheckEvaluation


def _check_spec() -> dg.AssetCheckSpec:
    # Partitioned check specs are a preview feature of Dagster 1.13, chosen on purpose (each
    # product's result is its partition's, as the Checks tab shows them; docs/design-notes.md):
    # its notice would be printed by every process that loads the definitions.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)
        # Blocking: a failed check fails the run: `dagster job execute` in CI exits non-zero.
        return dg.AssetCheckSpec(
            PRODUCT_VERIFIED,
            asset=PRODUCT_MANIFEST,
            blocking=True,
            description=CHECK_DESCRIPTION,
            partitions_def=products,
        )


class RenderConfig(dg.Config):
    workers: int = Field(
        default=0, ge=0, description="Render processes to use; 0 means one per available CPU."
    )


@dg.multi_asset(
    name="render_products",
    specs=[
        dg.AssetSpec(
            RENDERED_VARIANTS,
            group_name="catalog",
            kinds={"python", "svg"},
            owners=OWNERS,
            skippable=True,
            description=(
                "Every output image of every variant of a product, rendered from its spec and "
                "stored under renders/<product_id>/. Outputs already checkpointed with a "
                "matching object are skipped, so a retried run only renders what is missing."
            ),
        ),
        dg.AssetSpec(
            PRODUCT_MANIFEST,
            deps=[RENDERED_VARIANTS],
            group_name="catalog",
            kinds={"python", "json"},
            owners=OWNERS,
            skippable=True,
            description=(
                "manifests/<product_id>.json: the spec's sha256, template and renderer "
                "versions, and for every variant every output's key, format, size, bytes and "
                "sha256."
            ),
        ),
    ],
    check_specs=[_check_spec()],
    partitions_def=products,
    backfill_policy=BACKFILL_POLICY,
    # Checks alone re-verify stored products without rendering; either asset alone works too.
    can_subset=True,
)
def render_products(
    context: dg.AssetExecutionContext,
    config: RenderConfig,
    storage: StorageResource,
    messaging: MessagingResource,
) -> Iterator[ProductEvent | dg.Output]:
    """Each product of the run rendered, published and checked, or failed with its reason."""
    latch = InterruptLatch()
    yield from latch.around(_run_products(context, config, storage, messaging, latch))


def _run_products(
    context: dg.AssetExecutionContext,
    config: RenderConfig,
    storage: StorageResource,
    messaging: MessagingResource,
    latch: InterruptLatch,
) -> Iterator[ProductEvent | dg.Output]:
    run = context.run
    request = Request(
        run_id=run.run_id,
        request_id=run.tags.get(tags.REQUEST, run.run_id),
        attempt=_attempt(run),
        run_url=f"{ui_url()}/runs/{run.run_id}",
    )
    stages = Stages(
        render=RENDERED_VARIANTS in context.selected_asset_keys,
        publish=PRODUCT_MANIFEST in context.selected_asset_keys,
        checks=VERIFICATIONS if context.selected_asset_check_keys else (),
    )
    materialised = [
        key for key in (RENDERED_VARIANTS, PRODUCT_MANIFEST) if key in context.selected_asset_keys
    ]
    if request.attempt:
        context.log.info(
            f"retry {request.attempt} of run {run.tags.get(tags.RETRY_OF)}: resuming from "
            "checkpoints"
        )
    reason = run.tags.get(tags.REASON)
    if reason:
        context.log.info(f"requested because {reason}")
    # Why and how each product was rendered, beside its own figures.
    render_context = {
        **({"reason": reason} if reason else {}),
        **(
            {"retry_of": run.tags.get(tags.RETRY_OF, ""), "attempt": request.attempt}
            if request.attempt
            else {}
        ),
    }
    # Read once: each read of a run's dynamic partition keys is a query of every key.
    product_ids = context.partition_keys
    published, failed = 0, {}
    finished: set[str] = set()
    objects = storage.objects()
    with (
        RenderPool(config.workers) as pool,
        ProductBatch(
            product_ids,
            objects,
            storage.checkpoints(),
            messaging.notifier(),
            pool,
            request,
            stages,
            context.log.info,
            between_variants=latch.raise_if_signalled,
        ) as batch,
    ):
        context.log.info(f"{len(product_ids)} product(s), {pool.workers} render worker(s)")
        # The product whose events are being yielded, and how many of them: if the step is
        # stopped right after its last (an interruption), it is still announced, once.
        held: ProductResult | None = None
        sent = total = 0
        # Closed before the batch and the pool: an interruption stores what the workers drew.
        results = batch.results()
        try:
            for result in results:
                finished.add(result.product_id)
                if result.failed:
                    failed[result.product_id] = result
                    context.log.error(
                        f"{result.product_id}: cannot be published ({result.stage}): "
                        f"{result.reason}"
                    )
                    if not result.announced_before and result.stage != CHECK:
                        plan_failed(
                            context, _failed_assets(result, materialised), result.product_id
                        )
                else:
                    published += 1
                if result.report and result.report.uncovered_text:
                    context.log.warning(
                        f"{result.product_id}: characters no bundled or brand font has, drawn "
                        "as boxes: "
                        + "; ".join(
                            f"{where}: {_named(characters)}"
                            for where, characters in result.report.uncovered_text.items()
                        )
                    )
                if result.report and result.report.photo_warnings:
                    context.log.warning(
                        f"{result.product_id}: photos not placed as asked: "
                        + "; ".join(
                            f"{where}: {warning}"
                            for where, warning in result.report.photo_warnings.items()
                        )
                    )
                if result.announced_before:
                    continue  # an earlier attempt of this request recorded and announced it
                records = list(
                    _records(result, materialised, run.run_id, render_context, objects.link)
                )
                held, sent, total = result, 0, len(records) + bool(result.verdicts)
                for event in records:
                    sent += 1
                    yield event
                if result.verdicts:
                    # Check results name the materialisation they are about: the one just
                    # stored (or, for checks alone, the latest).
                    target = latest_materialization(
                        context.instance, PRODUCT_MANIFEST, result.product_id
                    )
                    sent += 1
                    yield _check_evaluation(result.product_id, result.verdicts, target)
                held = None
                batch.announce(result)
        except dg.DagsterExecutionInterruptedError:
            # SIGTERM: on Fargate Spot, the two-minute warning. What landed is checkpointed;
            # the tag tells the failure notifier this run will be retried, not reported.
            context.instance.add_run_tags(run.run_id, {tags.INTERRUPTED: "sigterm"})
            context.log.warning(
                f"interrupted after {len(finished)} of {len(product_ids)} product(s); "
                "everything stored is checkpointed"
            )
            raise
        except Exception:
            # The run itself failed (a store, the instance): the products it had not finished
            # are failed too, rather than left looking as if never requested.
            done = finished.union(batch.published_before)
            _fail_unfinished(context, [p for p in product_ids if p not in done], materialised)
            raise
        finally:
            results.close()
            # Stopped at a yield: an event Dagster received is stored. Announced only when
            # every event of the product was.
            if held is not None and sent == total:
                batch.announce(held)
    before = batch.published_before
    context.log.info(
        f"{published} product(s) done, {len(failed)} failed"
        + (
            f", {len(before)} already published by an earlier attempt of this request"
            if before
            else ""
        )
    )
    # Each selected check was evaluated per product above; its output says so to Dagster.
    for check_key in context.selected_asset_check_keys:
        yield dg.Output(None, context.assets_def.get_output_name_for_asset_check_key(check_key))
    if failed:
        context.instance.add_run_tags(run.run_id, {tags.FAILED_PRODUCTS: str(len(failed))})
        named = list(failed.values())[:MAX_NAMED_FAILURES]
        raise dg.Failure(
            description=(
                f"{len(failed)} of {len(product_ids)} product(s) could not be published: "
                + "; ".join(f"{r.product_id}: {r.reason}" for r in named)
                + (f"; and {len(failed) - len(named)} more" if len(failed) > len(named) else "")
                + ". Every other product is published; each failed one is a failed partition "
                "with its reason, and a render_failed notification."
            ),
            metadata={
                "failed": dg.MetadataValue.json(
                    {product_id: r.problems for product_id, r in failed.items()}
                )
            },
        )


def _fail_unfinished(
    context: dg.AssetExecutionContext, product_ids: list[str], materialised: list[dg.AssetKey]
) -> None:
    try:
        for product_id in product_ids:
            plan_failed(context, materialised, product_id)
    except Exception as error:  # the instance may be what failed: the run's error comes first
        context.log.warning(
            f"could not mark {len(product_ids)} unfinished product(s) failed: {error}"
        )


def _failed_assets(result: ProductResult, materialised: list[dg.AssetKey]) -> list[dg.AssetKey]:
    """The assets a failed product could not materialise: its manifest only when it rendered."""
    if result.stage == MANIFEST:
        return [key for key in materialised if key == PRODUCT_MANIFEST]
    return materialised


def _records(
    result: ProductResult,
    materialised: list[dg.AssetKey],
    run_id: str,
    render_context: dict[str, str | int],
    link: Callable[[str], str],
) -> Iterator[ProductEvent]:
    """What Dagster records of one product before its check results: its materialisations, and
    for a product that failed before its checks, an observation with the reason on each asset
    it could not materialise (the UI shows it with the partition)."""
    product_id = result.product_id
    report = result.report
    if report is not None and not report.failures and RENDERED_VARIANTS in materialised:
        contact_sheet = link(report.preview_key)
        yield dg.AssetMaterialization(
            RENDERED_VARIANTS,
            partition=product_id,
            metadata={**_render_metadata(report, contact_sheet), **render_context},
        )
    if result.published is not None:
        info = result.published.info
        variants, outputs, size = result.published.totals()
        yield dg.AssetMaterialization(
            PRODUCT_MANIFEST,
            partition=product_id,
            metadata={
                "manifest_key": dg.MetadataValue.path(info.key),
                "manifest_sha256": info.sha256,
                "manifest_bytes": info.size,
                "variants": variants,
                "outputs": outputs,
                "output_bytes": size,
            },
        )
    if result.failed and result.stage != CHECK:
        for asset_key in _failed_assets(result, materialised):
            yield dg.AssetObservation(
                asset_key,
                partition=product_id,
                description=f"failed ({result.stage}): {result.reason}",
                metadata={
                    "failed": result.reason,
                    "stage": result.stage,
                    "problems": dg.MetadataValue.json(result.problems),
                    "run_id": run_id,
                },
            )


def _check_evaluation(
    product_id: str,
    verdicts: dict[str, CheckVerdict],
    target: AssetCheckEvaluationTargetMaterializationData | None,
) -> dg.AssetCheckEvaluation:
    """The product's one check, from the verdicts of its verifications."""
    checked = max(verdict.checked for verdict in verdicts.values())
    failing = {name: verdict.problems for name, verdict in verdicts.items() if verdict.problems}
    # A passed check records only what it looked at: every product of every render writes one.
    metadata: dict = {"checked": checked}
    description = None
    if failing:
        problems = [f"{name}: {problem}" for name, found in failing.items() for problem in found]
        listed = "\n".join(f"- {p}" for p in problems[:MAX_LISTED_PROBLEMS])
        if len(problems) > MAX_LISTED_PROBLEMS:
            listed += f"\n- ... and {len(problems) - MAX_LISTED_PROBLEMS} more"
        metadata.update(
            {name: len(found) for name, found in failing.items()},
            problems=len(problems),
            details=dg.MetadataValue.md(listed),
        )
        description = f"{product_id}: {problems[0]}"
    return dg.AssetCheckEvaluation(
        asset_key=PRODUCT_MANIFEST,
        check_name=PRODUCT_VERIFIED,
        passed=not failing,
        partition=product_id,
        blocking=True,
        target_materialization_data=target,
        description=description,
        metadata=metadata,
    )


def _attempt(run: dg.DagsterRun) -> int:
    raw = run.tags.get(tags.INTERRUPTIONS, "0")
    if not raw.isdigit():
        raise dg.Failure(description=f"run tag {tags.INTERRUPTIONS}={raw!r} is not a count")
    return int(raw)


def _render_metadata(report: ProductRenderReport, contact_sheet: str) -> dict:
    # Every product of every render writes this to the event log: figures and links, no
    # payloads (docs/scale-and-performance.md, "A lean Dagster record"). The template and
    # photos the outputs were rendered from are in the manifest; the contact sheet is a link.
    metadata = {
        "variants": report.variants,
        "outputs": report.outputs,
        "rendered": report.rendered,
        "skipped": report.skipped,
        "bytes_written": report.bytes_written,
        "total_bytes": report.total_bytes,
        "duration_s": round(report.duration_s, 3),
        "contact_sheet": dg.MetadataValue.url(contact_sheet),
    }
    # The brand fonts the product was set in, which the manifest does not list (a new upload
    # of one re-renders it), only for a product that uses some.
    fonts = {key: sha for key, sha in report.inputs.items() if key.startswith(FONTS_PREFIX)}
    if fonts:
        metadata["brand_fonts"] = dg.MetadataValue.json(fonts)
    # Only when there is something to look at before publishing: characters no font has, and
    # photos placed whole because no subject was found in them (fit "subject").
    if report.uncovered_text:
        metadata["uncovered_characters"] = dg.MetadataValue.json(
            {where: _named(chars) for where, chars in report.uncovered_text.items()}
        )
    if report.photo_warnings:
        metadata["photo_warnings"] = dg.MetadataValue.json(report.photo_warnings)
    return metadata


def _named(characters: str) -> str:
    """Characters as code points and names: "U+1F642 SLIGHTLY SMILING FACE"."""
    return ", ".join(
        f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}" for char in characters
    )
