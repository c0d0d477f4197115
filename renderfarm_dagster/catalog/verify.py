"""Verification of a manifest against its spec and of every output it lists: the three
verifications every published product gets, reported to Dagster as one check."""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.manifest import Manifest, ManifestOutput
from renderfarm_dagster.catalog.pool import available_cpus
from renderfarm_dagster.render.raster import encoded_problems
from renderfarm_dagster.spec import ProductSpec
from renderfarm_dagster.storage import ObjectNotFoundError, ObjectStore


def manifest_problems(manifest: Manifest, spec: ProductSpec) -> list[str]:
    """Differences between the outputs a manifest lists and the spec's variants x outputs."""
    expected = {(v.variant_id, o.name): o for v in spec.variants for o in spec.outputs}
    problems = []
    if manifest.product_id != spec.product_id:
        problems.append(f"manifest is for {manifest.product_id!r}, not {spec.product_id!r}")
    listed: set[tuple[str, str]] = set()
    for variant_id, entry in manifest.outputs():
        pair = (variant_id, entry.name)
        where = f"variant {pair[0]} output {pair[1]}"
        if pair in listed:
            problems.append(f"{where}: listed twice")
        listed.add(pair)
        output = expected.get(pair)
        if output is None:
            problems.append(f"{where}: not in the spec")
            continue
        wanted = (output.format, output.width, output.height)
        found = (entry.format, entry.width, entry.height)
        if found != wanted:
            problems.append(f"{where}: manifest says {found}, spec says {wanted}")
    for variant_id, name in sorted(set(expected) - listed):
        problems.append(f"variant {variant_id} output {name}: missing from the manifest")
    return problems


def stored_output_problems(manifest: Manifest, objects: ObjectStore) -> tuple[list[str], list[str]]:
    """Problems with the stored outputs: (integrity: presence, size, sha256; image: decoding).

    Integrity comes from each object's size and sha256 as the store reports them (S3 returns
    the SHA-256 it verified on upload with a HEAD, so nothing is downloaded). An object with
    the manifest's sha256 holds the very bytes the renderer checked before storing them: a
    rendition of more than one colour, encoded in the format and size asked for
    (render_variant). Every other object is read and decoded here, so that a damaged one is
    described, and one output per product is decoded anyway, a check of that guarantee.
    Objects are looked at in threads: S3 requests wait on the network, hashing and decoding
    release the GIL.
    """
    entries = manifest.outputs()
    # The smallest output of the product: decoding it costs least.
    sample = min(entries, key=lambda entry: entry[1].width * entry[1].height, default=None)
    with ThreadPoolExecutor(max_workers=4 * available_cpus()) as threads:
        verdicts = list(
            threads.map(lambda entry: _output_problems(objects, *entry, entry is sample), entries)
        )
    integrity = [problem for found, _ in verdicts for problem in found]
    image = [problem for _, found in verdicts for problem in found]
    return integrity, image


def _output_problems(
    objects: ObjectStore, variant_id: str, entry: ManifestOutput, decode: bool
) -> tuple[list[str], list[str]]:
    where = f"variant {variant_id} output {entry.name} ({entry.key})"
    info = objects.head(entry.key)
    if info is None:
        return [f"{where}: object is missing"], []
    integrity = []
    if info.size != entry.bytes:
        integrity.append(f"{where}: {info.size} bytes, manifest says {entry.bytes}")
    if info.sha256 != entry.sha256:
        integrity.append(f"{where}: sha256 differs from the manifest")
    if not integrity and not decode:
        return [], []
    try:
        data = objects.get(entry.key)
    except ObjectNotFoundError:
        return [f"{where}: object is missing"], []
    image = encoded_problems(data, entry.format, entry.width, entry.height, pixels=True)
    return integrity, [f"{where}: {problem}" for problem in image]


# The verifications, by the names a failed check's metadata and a failure's reason give them
# (defs/assets.py describes each).
MANIFEST_MATCHES_SPEC = "manifest_matches_spec"
OUTPUTS_MATCH_MANIFEST = "outputs_match_manifest"
OUTPUTS_ARE_VALID_IMAGES = "outputs_are_valid_images"
VERIFICATIONS = (MANIFEST_MATCHES_SPEC, OUTPUTS_MATCH_MANIFEST, OUTPUTS_ARE_VALID_IMAGES)


@dataclass(frozen=True)
class CheckVerdict:
    """One verification of one product: its problems (none: passed) and how many outputs it
    looked at."""

    problems: tuple[str, ...]
    checked: int

    @property
    def passed(self) -> bool:
        return not self.problems


def verify_product(
    product_id: str,
    spec: ProductSpec,
    manifest: Manifest | None,
    objects: ObjectStore,
    checks: Collection[str] = VERIFICATIONS,
) -> dict[str, CheckVerdict]:
    """The verdict of each of the verifications `checks` on a product's manifest (None: none
    is stored)."""
    if manifest is None:
        missing = (f"{keys.manifest_key(product_id)} is missing or not a manifest",)
        return {name: CheckVerdict(missing, 0) for name in checks}
    checked = len(manifest.outputs())
    verdicts = {}
    if MANIFEST_MATCHES_SPEC in checks:
        expected = len(spec.variants) * len(spec.outputs)
        verdicts[MANIFEST_MATCHES_SPEC] = CheckVerdict(
            tuple(manifest_problems(manifest, spec)), expected
        )
    if {OUTPUTS_MATCH_MANIFEST, OUTPUTS_ARE_VALID_IMAGES} & set(checks):
        # One look at each object serves both verdicts.
        integrity, images = stored_output_problems(manifest, objects)
        for name, problems in (
            (OUTPUTS_MATCH_MANIFEST, integrity),
            (OUTPUTS_ARE_VALID_IMAGES, images),
        ):
            if name in checks:
                verdicts[name] = CheckVerdict(tuple(problems), checked)
    return verdicts
