"""Verification of a manifest against its spec and of every output it lists."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, UnidentifiedImageError

from renderfarm_dagster.catalog.manifest import Manifest, ManifestOutput
from renderfarm_dagster.catalog.pool import available_cpus
from renderfarm_dagster.formats import FORMATS
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

    Each object is read once and serves both checks. Objects are read and decoded in threads:
    Pillow's decoders and hashlib release the GIL and S3 reads wait on the network, so this
    is several times faster than one object at a time (bench/: `make bench`).
    """
    entries = manifest.outputs()
    with ThreadPoolExecutor(max_workers=2 * available_cpus()) as threads:
        verdicts = list(threads.map(lambda entry: _output_problems(objects, *entry), entries))
    integrity = [problem for found, _ in verdicts for problem in found]
    image = [problem for _, found in verdicts for problem in found]
    return integrity, image


def _output_problems(
    objects: ObjectStore, variant_id: str, entry: ManifestOutput
) -> tuple[list[str], list[str]]:
    where = f"variant {variant_id} output {entry.name} ({entry.key})"
    try:
        data = objects.get(entry.key)
    except ObjectNotFoundError:
        return [f"{where}: object is missing"], []
    integrity = []
    if len(data) != entry.bytes:
        integrity.append(f"{where}: {len(data)} bytes, manifest says {entry.bytes}")
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        integrity.append(f"{where}: sha256 differs from the manifest")
    return integrity, [f"{where}: {p}" for p in image_problems(data, entry)]


def image_problems(data: bytes, entry: ManifestOutput) -> list[str]:
    """Whether `data` decodes as the entry's format and size and shows more than one colour."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            problems = []
            expected = FORMATS.get(entry.format)
            if expected is None or image.format != expected.pillow_format:
                problems.append(f"decodes as {image.format}, expected {entry.format}")
            if image.size != (entry.width, entry.height):
                problems.append(
                    f"is {image.width}x{image.height}, expected {entry.width}x{entry.height}"
                )
            if all(low == high for low, high in _extrema(image)):
                problems.append("is blank (a single flat colour)")
            return problems
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        return [f"does not decode: {error}"]


def _extrema(image: Image.Image) -> list[tuple[int, int]]:
    extrema = image.getextrema()
    return [extrema] if isinstance(extrema[0], int) else list(extrema)
