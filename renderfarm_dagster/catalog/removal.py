"""Products that leave the catalog: everything the render farm stored for them, found and
removed.

A product's spec, its outputs, manifest and contact sheet, its checkpoints and announced
outcomes, its edges and mark in the input index. Its photos, template and fonts stay: other
products may use them, and they are the catalog team's uploads. The Dagster partition is the
caller's to delete (the CLI does).
"""

from __future__ import annotations

from dataclasses import dataclass

from renderfarm_dagster import keys
from renderfarm_dagster.storage import CheckpointStore, InputIndex, ObjectStore


@dataclass(frozen=True)
class StoredProduct:
    """What is stored for one product."""

    product_id: str
    objects: tuple[str, ...]  # spec, outputs, manifest, contact sheet (those that exist)
    checkpoints: int
    inputs: tuple[str, ...]  # the uploads the input index says it uses

    @property
    def found(self) -> bool:
        return bool(self.objects or self.checkpoints or self.inputs)


def stored_product(
    product_id: str, objects: ObjectStore, checkpoints: CheckpointStore, index: InputIndex
) -> StoredProduct:
    single = [
        keys.spec_key(product_id),
        keys.manifest_key(product_id),
        keys.preview_key(product_id),
    ]
    found = [key for key in single if objects.head(key) is not None]
    renders = [s.key for s in objects.list(f"{keys.RENDERS_PREFIX}{product_id}/")]
    return StoredProduct(
        product_id=product_id,
        objects=tuple(found[:1] + renders + found[1:]),
        checkpoints=len(checkpoints.read(product_id)),
        inputs=tuple(sorted(index.inputs_of(product_id))),
    )


def remove_product(
    stored: StoredProduct, objects: ObjectStore, checkpoints: CheckpointStore, index: InputIndex
) -> None:
    """Remove what `stored` lists. The spec goes first, so that nothing requests the product
    again meanwhile; its index entries next, so that no change of its inputs does; then its
    checkpoints before their objects, so that a checkpoint never names a deleted object. A
    removal that stops half-way is finished by running it again."""
    spec = keys.spec_key(stored.product_id)
    objects.delete(spec)
    index.record(stored.product_id, {})
    index.unsee([spec])
    checkpoints.forget(stored.product_id)
    for key in stored.objects:
        if key != spec:
            objects.delete(key)
