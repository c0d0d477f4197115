"""Product manifests: what was rendered for a spec, where it is, and its sha256."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.product_inputs import ProductInputs
from renderfarm_dagster.render.variant import renderer_versions
from renderfarm_dagster.spec import ParsedSpec
from renderfarm_dagster.storage import (
    CheckpointStore,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    OutputCheckpoint,
)

# 2: the template is identified by its sha256, and the photos used are listed.
MANIFEST_VERSION = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestOutput(_Model):
    """A stored output as the manifest file lists it."""

    name: str
    key: str
    format: str
    width: int
    height: int
    bytes: int
    sha256: str

    @classmethod
    def of(cls, checkpoint: OutputCheckpoint) -> ManifestOutput:
        return cls(
            name=checkpoint.output_name,
            key=checkpoint.key,
            format=checkpoint.format,
            width=checkpoint.width,
            height=checkpoint.height,
            bytes=checkpoint.size,
            sha256=checkpoint.sha256,
        )


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
            entries.append(ManifestOutput.of(checkpoint))
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
    """A manifest as written to the store."""

    info: ObjectInfo
    manifest: Manifest

    def totals(self) -> tuple[int, int, int]:
        """(variants, outputs, bytes of every output)."""
        outputs = [output for _, output in self.manifest.outputs()]
        return len(self.manifest.variants), len(outputs), sum(o.bytes for o in outputs)


def write_manifest(
    parsed: ParsedSpec,
    inputs: ProductInputs,
    objects: ObjectStore,
    checkpoints: CheckpointStore,
) -> PublishedManifest:
    """Write the manifest of a fully rendered product from its spec, the inputs it was rendered
    from and its checkpoints.

    Raises IncompleteRenderError when an output of the spec has no checkpoint from these
    inputs: nothing is written then.
    """
    product_id = parsed.spec.product_id
    manifest = build_manifest(parsed, inputs, checkpoints.read(product_id))
    info = objects.put(keys.manifest_key(product_id), manifest.to_bytes(), "application/json")
    return PublishedManifest(info, manifest)


def load_manifest(objects: ObjectStore, product_id: str) -> Manifest | None:
    """The stored manifest of a product; None when there is none or it is not a manifest."""
    try:
        return Manifest.from_bytes(objects.get(keys.manifest_key(product_id)))
    except (ObjectNotFoundError, ValidationError):
        return None
