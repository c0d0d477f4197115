"""A run's products, each carried to an outcome of its own.

A product is rendered (each variant checkpointed as it lands), published (its manifest written)
and verified (the three checks of catalog/verify.py), or it fails with its reasons, named where
they are: a bad or missing photo, a template, an invalid spec, a check that does not pass. One
product's failure never holds back another: a batch of 800 products with one truncated photo
publishes 799.

Products are published while the next ones render: a manifest and its checks are a few object
reads and writes, which on S3 wait on the network, so they run in threads beside the render
pool and never leave its workers idle.

Each outcome is announced once per request (product_rendered or render_failed), after the
caller has recorded it (the Dagster events), and the announcement is recorded in the checkpoint
store: the retry of an interrupted run skips the products its request already published, and
reports a failure again only if it is a different one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, field

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.fonts import FontCatalogSource
from renderfarm_dagster.catalog.inbox import load_spec
from renderfarm_dagster.catalog.manifest import (
    IncompleteRenderError,
    PublishedManifest,
    load_manifest,
    write_manifest,
)
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.product_inputs import MissingInputError, load_inputs
from renderfarm_dagster.catalog.rendering import ProductRenderReport, render_products
from renderfarm_dagster.catalog.threads import in_order
from renderfarm_dagster.catalog.verify import VERIFICATIONS, CheckVerdict, verify_product
from renderfarm_dagster.messaging import Notifier
from renderfarm_dagster.messaging.notifications import (
    ProductFailed,
    ProductRendered,
    notification_id,
)
from renderfarm_dagster.spec import ParsedSpec, SpecError
from renderfarm_dagster.storage import CheckpointStore, ObjectStore, ProductOutcome

# Where a product failed: its spec, its render (inputs or a variant), its manifest, its checks.
SPEC, RENDER, MANIFEST, CHECK = "spec", "render", "manifest", "checks"
# Products published at once beside the render pool; each verifies its outputs with threads of
# its own (catalog/verify.py).
PUBLISHING_THREADS = 4
# Notifications sent at once (each an SNS request on aws).
ANNOUNCING_THREADS = 4


@dataclass(frozen=True)
class Stages:
    """What a run does to each product: the assets and checks it was asked for."""

    render: bool = True
    publish: bool = True
    checks: tuple[str, ...] = VERIFICATIONS  # the verifications to run (none: no check)


@dataclass(frozen=True)
class Request:
    """The run rendering a batch, and the request it serves: its first run, shared by the spot
    retries that resume it (`attempt` counts the interruptions before this run)."""

    run_id: str
    request_id: str
    attempt: int = 0
    run_url: str = ""


@dataclass
class ProductResult:
    product_id: str
    report: ProductRenderReport | None = None  # when this run rendered it
    published: PublishedManifest | None = None  # when this run wrote its manifest
    verdicts: dict[str, CheckVerdict] = field(default_factory=dict)
    # Why it failed, when it did: where (a key, a JSON path, a check) -> reason.
    problems: dict[str, str] = field(default_factory=dict)
    stage: str = ""
    # An earlier attempt of the same request announced this very outcome (and recorded it).
    announced_before: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    @property
    def reason(self) -> str:
        return "; ".join(f"{where}: {why}" for where, why in self.problems.items())

    def detail(self) -> str:
        """What is announced, in short: the manifest's sha256, or a digest of the problems."""
        if self.failed:
            text = json.dumps(self.problems, sort_keys=True)
            return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
        return self.published.info.sha256 if self.published else ""


def _failure(product_id: str, stage: str, problems: dict[str, str], **found) -> ProductResult:
    return ProductResult(product_id, stage=stage, problems=problems, **found)


class ProductBatch:
    """The products of one run, rendered, published and verified; use as a context manager."""

    def __init__(
        self,
        product_ids: Sequence[str],
        objects: ObjectStore,
        checkpoints: CheckpointStore,
        notifier: Notifier,
        pool: RenderPool,
        request: Request,
        stages: Stages = Stages(),
        log: Callable[[str], None] = lambda message: None,
        between_variants: Callable[[], None] = lambda: None,
    ):
        self.product_ids = list(product_ids)
        self._objects, self._checkpoints, self._notifier = objects, checkpoints, notifier
        self._pool = pool
        self.request = request
        self.stages = stages
        self._log = log
        self._between_variants = between_variants
        self._fonts = FontCatalogSource(objects)  # fonts/ listed once for the run
        self._publishing = ThreadPoolExecutor(PUBLISHING_THREADS, thread_name_prefix="publish")
        self._announcing = ThreadPoolExecutor(ANNOUNCING_THREADS, thread_name_prefix="announce")
        self._announced: list[Future] = []
        # Products an earlier attempt of this request already published: not looked at again.
        self.published_before: list[str] = []

    def __enter__(self) -> ProductBatch:
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        # Publications not started are dropped (the retry does them); announcements always
        # finish, so that what was announced is also recorded.
        self._publishing.shutdown(wait=True, cancel_futures=True)
        self._announcing.shutdown(wait=True)
        if error_type is None:
            for future in self._announced:
                future.result()  # a notification that could not be sent fails the run

    def results(self) -> Iterator[ProductResult]:
        """Each product's result as it is known: failures at once, published products as
        their manifests and checks complete (not in partition order)."""
        earlier = (
            self._checkpoints.outcomes(self.request.request_id, self.product_ids)
            if self.request.attempt
            else {}
        )
        self.published_before = [
            p for p in self.product_ids if p in earlier and earlier[p].published
        ]
        skipped = set(self.published_before)
        todo = [p for p in self.product_ids if p not in skipped]
        specs: list[ParsedSpec] = []
        for loaded in in_order(self._load_spec, todo, "spec"):
            if isinstance(loaded, ProductResult):
                yield self._settled(loaded, earlier)
            else:
                specs.append(loaded)
        publishing: set[Future] = set()
        for result, parsed in self._rendered(specs):
            if result.failed or not (self.stages.publish or self.stages.checks):
                yield self._settled(result, earlier)
            else:
                publishing.add(self._publishing.submit(self._publish, parsed, result))
            done = {future for future in publishing if future.done()}
            publishing -= done
            for future in done:
                yield self._settled(future.result(), earlier)
        while publishing:
            done, publishing = wait(publishing, return_when=FIRST_COMPLETED)
            for future in done:
                yield self._settled(future.result(), earlier)

    def announce(self, result: ProductResult) -> None:
        """Send the product's notification and record it, once its outcome is recorded by the
        caller; a failure or a publication, not an outcome an earlier attempt announced."""
        if result.announced_before or not (result.failed or result.published):
            return
        self._announced.append(self._announcing.submit(self._announce, result))

    def _announce(self, result: ProductResult) -> None:
        request = self.request
        # What is announced, in the request it is announced for: the same for every attempt.
        same = notification_id(
            request.request_id, result.product_id, str(not result.failed), result.detail()
        )
        if result.failed:
            ProductFailed(
                notification_id=same,
                product_id=result.product_id,
                run_id=request.run_id,
                stage=result.stage,
                reason=result.reason,
                problems=result.problems,
                run_url=request.run_url,
            ).send(self._notifier)
        else:
            assert result.published is not None
            variants, outputs, size = result.published.totals()
            ProductRendered(
                notification_id=same,
                product_id=result.product_id,
                run_id=request.run_id,
                manifest_key=result.published.info.key,
                variants=variants,
                outputs=outputs,
                bytes=size,
                run_url=request.run_url,
            ).send(self._notifier)
        self._checkpoints.record_outcome(
            ProductOutcome(
                product_id=result.product_id,
                request_id=request.request_id,
                published=not result.failed,
                detail=result.detail(),
                run_id=request.run_id,
            )
        )

    def _load_spec(self, product_id: str) -> ParsedSpec | ProductResult:
        try:
            return load_spec(self._objects, product_id)
        except SpecError as error:
            problems = {f"{error.source}: {p.path}": p.message for p in error.problems}
            return _failure(product_id, SPEC, problems)

    def _rendered(self, specs: list[ParsedSpec]) -> Iterator[tuple[ProductResult, ParsedSpec]]:
        """Each product rendered (or, when the run does not render, as it is), in the order
        their renders finish."""
        if not self.stages.render:
            for parsed in specs:
                yield ProductResult(parsed.spec.product_id), parsed
            return
        by_id = {parsed.spec.product_id: parsed for parsed in specs}
        reports = render_products(
            [parsed.spec for parsed in specs],
            self._objects,
            self._checkpoints,
            self._pool,
            self.request.run_id,
            self.request.attempt,
            self._log,
            between_variants=self._between_variants,
            fonts=self._fonts,
        )
        # Closed early (an interruption, a caller that stops): what the workers already drew
        # is stored before the pool goes.
        with closing(reports):
            for report in reports:
                parsed = by_id[report.product_id]
                if report.failures:
                    yield (
                        _failure(report.product_id, RENDER, report.failures, report=report),
                        parsed,
                    )
                else:
                    yield ProductResult(report.product_id, report=report), parsed

    def _publish(self, parsed: ParsedSpec, result: ProductResult) -> ProductResult:
        """Write the manifest and run the checks (in a publishing thread)."""
        product_id = parsed.spec.product_id
        if self.stages.publish:
            try:
                inputs = (
                    result.report.source
                    if result.report and result.report.source
                    else load_inputs(parsed.spec, self._objects, self._fonts)
                )
                result.published = write_manifest(parsed, inputs, self._objects, self._checkpoints)
            except MissingInputError as error:
                return _failure(
                    product_id, MANIFEST, {error.key: error.reason}, report=result.report
                )
            except IncompleteRenderError as error:
                key = keys.manifest_key(product_id)
                return _failure(product_id, MANIFEST, {key: str(error)}, report=result.report)
        if self.stages.checks:
            manifest = (
                result.published.manifest
                if result.published
                else load_manifest(self._objects, product_id)
            )
            result.verdicts = verify_product(
                product_id, parsed.spec, manifest, self._objects, self.stages.checks
            )
            failing = {name: v for name, v in result.verdicts.items() if not v.passed}
            if failing:
                result.stage = CHECK
                result.problems = {
                    name: verdict.problems[0]
                    + (
                        f" (and {len(verdict.problems) - 1} more)"
                        if len(verdict.problems) > 1
                        else ""
                    )
                    for name, verdict in failing.items()
                }
        return result

    @staticmethod
    def _settled(result: ProductResult, earlier: dict[str, ProductOutcome]) -> ProductResult:
        before = earlier.get(result.product_id)
        result.announced_before = (
            before is not None
            and before.published == (not result.failed)
            and before.detail == result.detail()
        )
        return result
