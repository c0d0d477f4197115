"""Product manifests: what was rendered for a spec, where it is, and its sha256."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.inbox import load_spec
from renderfarm_dagster.messaging import PRODUCT_RENDERED, Notifier
from renderfarm_dagster.render.templates import TEMPLATES
from renderfarm_dagster.render.variant import render_fingerprint, renderer_versions
from renderfarm_dagster.spec import ParsedSpec
from renderfarm_dagster.storage import CheckpointStore, ObjectInfo, ObjectStore, OutputCheckpoint

MANIFEST_VERSION = 1


class IncompleteRenderError(RuntimeError):
    """The checkpoints do not cover every output of the current spec."""


def build_manifest(
    parsed: ParsedSpec, checkpoints: dict[tuple[str, str], OutputCheckpoint]
) -> dict[str, Any]:
    """The manifest of a fully rendered product, from the checkpoints of its outputs.

    No timestamps or run ids: the same spec and renderer always give the same manifest bytes.
    """
    spec = parsed.spec
    missing = []
    variants = []
    for variant in spec.variants:
        entries = []
        for output in spec.outputs:
            checkpoint = checkpoints.get((variant.variant_id, output.name))
            fingerprint = render_fingerprint(spec, variant.variant_id, output)
            if checkpoint is None or checkpoint.fingerprint != fingerprint:
                missing.append(f"{variant.variant_id}/{output.name}")
                continue
            entries.append(
                {
                    "name": output.name,
                    "key": checkpoint.key,
                    "format": checkpoint.format,
                    "width": checkpoint.width,
                    "height": checkpoint.height,
                    "bytes": checkpoint.size,
                    "sha256": checkpoint.sha256,
                }
            )
        variants.append({"variant_id": variant.variant_id, "outputs": entries})
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise IncompleteRenderError(
            f"{spec.product_id}: {len(missing)} outputs are not rendered for the current spec: "
            f"{shown}"
        )
    template = TEMPLATES[spec.template]
    return {
        "manifest_version": MANIFEST_VERSION,
        "product_id": spec.product_id,
        "spec_sha256": parsed.sha256,
        "template": {"name": template.name, "version": template.version},
        "renderer": renderer_versions(),
        "variants": variants,
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


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
) -> PublishedManifest:
    """Write the manifest of a fully rendered product from its current spec and checkpoints,
    then announce it.

    Raises SpecError when the stored spec is missing or invalid, and IncompleteRenderError when
    an output of the current spec has no checkpoint: nothing is written then.
    """
    manifest = build_manifest(load_spec(objects, product_id), checkpoints.read(product_id))
    info = objects.put(keys.manifest_key(product_id), manifest_bytes(manifest), "application/json")
    outputs = [o for v in manifest["variants"] for o in v["outputs"]]
    notification = {
        "product_id": product_id,
        "run_id": run_id,
        "manifest_key": info.key,
        "variants": len(manifest["variants"]),
        "outputs": len(outputs),
        "bytes": sum(o["bytes"] for o in outputs),
        "run_url": run_url,
    }
    notifier.publish(PRODUCT_RENDERED, notification)
    return PublishedManifest(info, notification)
