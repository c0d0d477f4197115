"""Product manifests: what was rendered for a spec, where it is, and its sha256."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.fonts import FontCatalogSource
from renderfarm_dagster.catalog.inbox import load_spec
from renderfarm_dagster.catalog.rendering import MissingInputError, ProductInputs, load_inputs
from renderfarm_dagster.catalog.threads import in_order
from renderfarm_dagster.messaging import PRODUCT_RENDERED, Notifier
from renderfarm_dagster.render.variant import renderer_versions
from renderfarm_dagster.spec import ParsedSpec
from renderfarm_dagster.storage import CheckpointStore, ObjectInfo, ObjectStore, OutputCheckpoint

# 2: the template is identified by its sha256, and the photos used are listed.
MANIFEST_VERSION = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestOutput(_Model):
    name: str
    key: str
    format: str
    width: int
    height: int
    bytes: int
    sha256: str


class ManifestVariant(_Model):
    variant_id: str
    outputs: list[ManifestOutput]


class ManifestTemplate(_Model):
    name: str
    sha256: str
    bundled: bool


class Manifest(_Model):
    """manifests/<product_id>.json: written by the manifest asset, read by the checks and
    catalog/verify.py through this one model."""

    manifest_version: Literal[2] = MANIFEST_VERSION
    product_id: str
    spec_sha256: str
    template: ManifestTemplate
    # Every photo the product's layers show, by key, with the sha256 it was rendered from.
    photos: dict[str, str]
    renderer: dict[str, str]
    variants: list[ManifestVariant]

    def outputs(self) -> list[tuple[str, ManifestOutput]]:
        return [(v.variant_id, output) for v in self.variants for output in v.outputs]

    def to_bytes(self) -> bytes:
        """No timestamps or run ids: the same inputs always give the same manifest bytes."""
        return (self.model_dump_json(indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        return cls.model_validate_json(data)


class IncompleteRenderError(RuntimeError):
    """The checkpoints do not cover every output of the current spec."""


def build_manifest(
    parsed: ParsedSpec,
    inputs: ProductInputs,
    checkpoints: dict[tuple[str, str], OutputCheckpoint],
) -> Manifest:
    """The manifest of a fully rendered product, from the checkpoints of its outputs."""
    spec = parsed.spec
    missing = []
    variants = []
    for variant in spec.variants:
        entries = []
        for output in spec.outputs:
            checkpoint = checkpoints.get((variant.variant_id, output.name))
            if checkpoint is None or checkpoint.fingerprint != inputs.fingerprint(
                variant.variant_id, output
            ):
                missing.append(f"{variant.variant_id}/{output.name}")
                continue
            entries.append(
                ManifestOutput(
                    name=output.name,
                    key=checkpoint.key,
                    format=checkpoint.format,
                    width=checkpoint.width,
                    height=checkpoint.height,
                    bytes=checkpoint.size,
                    sha256=checkpoint.sha256,
                )
            )
        variants.append(ManifestVariant(variant_id=variant.variant_id, outputs=entries))
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise IncompleteRenderError(
            f"{spec.product_id}: {len(missing)} outputs are not rendered for the current spec: "
            f"{shown}"
        )
    template = inputs.template
    return Manifest(
        product_id=spec.product_id,
        spec_sha256=parsed.sha256,
        template=ManifestTemplate(
            name=template.name, sha256=template.sha256, bundled=template.bundled
        ),
        photos=dict(sorted(inputs.photo_sha256.items())),
        renderer=renderer_versions(),
        variants=variants,
    )


@dataclass(frozen=True)
class PublishedManifest:
    info: ObjectInfo
    # The PRODUCT_RENDERED notification's body (README: Notifications).
    notification: dict[str, Any]


def publish_manifest(
    product_id: str,
    objects: ObjectStore,
    checkpoints: CheckpointStore,
    notifier: Notifier,
    run_id: str,
    run_url: str,
    fonts: FontCatalogSource | None = None,
) -> PublishedManifest:
    """Write the manifest of a fully rendered product from its current spec and checkpoints,
    then announce it.

    Raises SpecError when the stored spec is missing or invalid, and IncompleteRenderError when
    an output of the current spec has no checkpoint: nothing is written then.
    """
    parsed = load_spec(objects, product_id)
    try:
        inputs = load_inputs(parsed.spec, objects, fonts)
    except MissingInputError as error:
        raise IncompleteRenderError(f"{product_id}: {error}") from None
    manifest = build_manifest(parsed, inputs, checkpoints.read(product_id))
    info = objects.put(keys.manifest_key(product_id), manifest.to_bytes(), "application/json")
    outputs = [output for _, output in manifest.outputs()]
    notification = {
        "product_id": product_id,
        "run_id": run_id,
        "manifest_key": info.key,
        "variants": len(manifest.variants),
        "outputs": len(outputs),
        "bytes": sum(o.bytes for o in outputs),
        "run_url": run_url,
    }
    notifier.publish(PRODUCT_RENDERED, notification)
    return PublishedManifest(info, notification)


def publish_manifests(
    product_ids: Sequence[str],
    objects: ObjectStore,
    checkpoints: CheckpointStore,
    notifier: Notifier,
    run_id: str,
    run_url: str,
) -> Iterator[PublishedManifest]:
    """`publish_manifest` for each product, several at once (catalog/threads.py), yielded in
    the order of `product_ids`. The first product that raises stops the iteration; products
    after it may already be published."""
    fonts = FontCatalogSource(objects)  # fonts/ listed once for all of them
    return in_order(
        lambda product_id: publish_manifest(
            product_id, objects, checkpoints, notifier, run_id, run_url, fonts
        ),
        product_ids,
        "manifest",
    )
