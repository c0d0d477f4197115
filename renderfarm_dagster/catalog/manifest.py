"""Product manifests: what was rendered for a spec, where it is, and its sha256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.product_inputs import ProductInputs
from renderfarm_dagster.keys import MAIN_LAYOUT
from renderfarm_dagster.render.kinds.image import subject_photo_keys
from renderfarm_dagster.render.subject import Subject, find_subject
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
# 3: the subject found in each photo placed by its subject (`subjects`).
MANIFEST_VERSION = 3


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
    sha256: str  # the main layout's
    bundled: bool
    # The set's other layouts, by name, with their sha256 (render/layouts.py).
    layouts: dict[str, str] = {}


class Manifest(_Model):
    """manifests/<product_id>.json: written by the manifest asset, read by the checks and
    catalog/verify.py through this one model."""

    manifest_version: Literal[2, 3] = MANIFEST_VERSION
    product_id: str
    spec_sha256: str
    template: ManifestTemplate
    # Every photo the product's layers show, by key, with the sha256 it was rendered from.
    photos: dict[str, str]
    # For each photo placed by its subject (fit "subject", or "cover" without a focal point):
    # what was found in it and how (render/subject.py's Subject.to_manifest), so a reviewer
    # sees why a crop came out as it did.
    subjects: dict[str, dict] = {}
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
    subjects: dict[str, Subject] | None = None,
) -> Manifest:
    """The manifest of a fully rendered product, from the checkpoints of its outputs and the
    subjects of its photos placed by subject (photo_subjects)."""
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
            name=template.name,
            sha256=template.sha256,
            bundled=template.bundled,
            layouts={
                layout: layout_template.sha256
                for layout, layout_template in template.layouts.layouts.items()
                if layout != MAIN_LAYOUT
            },
        ),
        photos=dict(sorted(inputs.photo_sha256.items())),
        subjects={key: subject.to_manifest() for key, subject in sorted((subjects or {}).items())},
        renderer=renderer_versions(),
        variants=variants,
    )


def photo_subjects(inputs: ProductInputs, objects: ObjectStore) -> dict[str, Subject]:
    """The subject found in each photo the product places by its subject, from the stored
    bytes it was rendered from: the search depends on the bytes alone, so this is what the
    renderer found. Raises IncompleteRenderError when a photo changed since."""
    spec = inputs.spec
    keys_placed = set()
    # Each layout of the set says for itself how its image layers fit their photos.
    for layout in inputs.template.layouts.layouts.values():
        for variant in spec.variants:
            keys_placed |= subject_photo_keys(layout, spec.layer_values(variant.variant_id))
    subjects = {}
    for key in sorted(keys_placed):
        try:
            data = objects.get(key)
        except ObjectNotFoundError:
            raise IncompleteRenderError(f"{key}: deleted since it was rendered") from None
        if hashlib.sha256(data).hexdigest() != inputs.photo_sha256.get(key):
            raise IncompleteRenderError(f"{key}: changed since it was rendered")
        subjects[key] = find_subject(data, key)
    return subjects


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
    manifest = build_manifest(
        parsed, inputs, checkpoints.read(product_id), photo_subjects(inputs, objects)
    )
    info = objects.put(keys.manifest_key(product_id), manifest.to_bytes(), "application/json")
    return PublishedManifest(info, manifest)


def load_manifest(objects: ObjectStore, product_id: str) -> Manifest | None:
    """The stored manifest of a product; None when there is none or it is not a manifest."""
    try:
        return Manifest.from_bytes(objects.get(keys.manifest_key(product_id)))
    except (ObjectNotFoundError, ValidationError):
        return None
