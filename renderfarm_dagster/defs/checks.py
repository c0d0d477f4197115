"""Asset checks on each product's manifest and on every output it lists."""

from collections.abc import Iterator

import dagster as dg
from pydantic import ValidationError

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.inbox import load_spec
from renderfarm_dagster.catalog.manifest import Manifest
from renderfarm_dagster.catalog.verify import manifest_problems, stored_output_problems
from renderfarm_dagster.defs.assets import product_manifest
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.defs.resources import StorageResource
from renderfarm_dagster.spec import SpecError
from renderfarm_dagster.storage import ObjectNotFoundError, ObjectStore

# A failing check lists this many problems in its metadata; the count says how many there were.
MAX_LISTED_PROBLEMS = 50


def _load_manifest(objects: ObjectStore, product_id: str) -> Manifest | None:
    try:
        return Manifest.from_bytes(objects.get(keys.manifest_key(product_id)))
    except (ObjectNotFoundError, ValidationError):
        return None


def _result(check_name: str, problems: list[str], checked: int) -> dg.AssetCheckResult:
    listed = "\n".join(f"- {p}" for p in problems[:MAX_LISTED_PROBLEMS])
    if len(problems) > MAX_LISTED_PROBLEMS:
        listed += f"\n- ... and {len(problems) - MAX_LISTED_PROBLEMS} more"
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not problems,
        description=problems[0] if problems else None,
        metadata={
            "checked": checked,
            "problems": len(problems),
            "details": dg.MetadataValue.md(listed or "no problems"),
        },
    )


@dg.asset_check(
    asset=product_manifest,
    partitions_def=products,
    # Blocking: a failed check fails the run, so `dagster job execute` in CI exits non-zero.
    blocking=True,
    description=(
        "The manifest lists exactly the spec's variants x outputs, with their formats and sizes."
    ),
)
def manifest_matches_spec(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> dg.AssetCheckResult:
    objects = storage.objects()
    problems, checked = [], 0
    for product_id in context.op_execution_context.partition_keys:
        manifest = _load_manifest(objects, product_id)
        if manifest is None:
            problems.append(
                f"{product_id}: {keys.manifest_key(product_id)} is missing or not a manifest"
            )
            continue
        try:
            spec = load_spec(objects, product_id).spec
        except SpecError as error:
            problems.append(f"{product_id}: {error}")
            continue
        checked += len(spec.variants) * len(spec.outputs)
        problems.extend(f"{product_id}: {p}" for p in manifest_problems(manifest, spec))
    return _result("manifest_matches_spec", problems, checked)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "outputs_match_manifest",
            asset=product_manifest,
            partitions_def=products,
            blocking=True,
            description=(
                "Every output the manifest lists exists with the listed size and sha256, as the "
                "store reports them (an S3 HEAD returns the SHA-256 S3 verified on upload)."
            ),
        ),
        dg.AssetCheckSpec(
            "outputs_are_valid_images",
            asset=product_manifest,
            partitions_def=products,
            blocking=True,
            description=(
                "Every output decodes in its requested format and dimensions and is not blank "
                "(not a single flat colour): the renderer refuses a blank rendition and checks "
                "each encoding's format and size before storing it, an object with the "
                "manifest's sha256 holds exactly those bytes, and any other object, plus one "
                "output per product, is decoded here."
            ),
        ),
    ],
)
def stored_outputs_checks(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> Iterator[dg.AssetCheckResult]:
    # One check step for both: each object is looked at once and serves both verdicts.
    objects = storage.objects()
    integrity, images, checked = [], [], 0
    for product_id in context.op_execution_context.partition_keys:
        manifest = _load_manifest(objects, product_id)
        if manifest is None:
            problem = f"{product_id}: {keys.manifest_key(product_id)} is missing or not a manifest"
            integrity.append(problem)
            images.append(problem)
            continue
        product_integrity, product_images = stored_output_problems(manifest, objects)
        checked += len(manifest.outputs())
        integrity.extend(f"{product_id}: {p}" for p in product_integrity)
        images.extend(f"{product_id}: {p}" for p in product_images)
    yield _result("outputs_match_manifest", integrity, checked)
    yield _result("outputs_are_valid_images", images, checked)
