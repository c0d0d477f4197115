"""The bundled example catalog: specs, the photos they show and the template one of them uses.

The template and photos are stored the way a catalog team uploads its own (templates/,
assets/), so the examples go through the same validation and rendering as real content.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.templates import submit_template
from renderfarm_dagster.storage import ObjectStore


def _examples() -> Traversable:
    return resources.files("renderfarm_dagster") / "examples"


def example_specs() -> list[Traversable]:
    return sorted(
        (entry for entry in _examples().iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )


def example_templates() -> list[Traversable]:
    return sorted(
        (e for e in (_examples() / "templates").iterdir() if e.name.endswith(".svg")),
        key=lambda entry: entry.name,
    )


def example_photos() -> Iterator[tuple[str, Traversable]]:
    """Each example photo with the key it is stored at (assets/<path>)."""

    def walk(entry: Traversable, path: str) -> Iterator[tuple[str, Traversable]]:
        for child in sorted(entry.iterdir(), key=lambda child: child.name):
            if child.is_dir():
                yield from walk(child, f"{path}{child.name}/")
            else:
                yield keys.validate_asset_key(f"{keys.ASSETS_PREFIX}{path}{child.name}"), child

    yield from walk(_examples() / "assets", "")


def store_example_inputs(objects: ObjectStore) -> list[str]:
    """Store the example photos and templates that differ from what is stored; their keys."""
    stored = []
    for key, entry in example_photos():
        data = entry.read_bytes()
        current = objects.head(key)
        if current is None or current.sha256 != hashlib.sha256(data).hexdigest():
            objects.put(key, data, mimetypes.guess_type(key)[0] or "application/octet-stream")
            stored.append(key)
    for entry in example_templates():
        name = entry.name.removesuffix(".svg")
        _, changed = submit_template(
            objects, entry.read_bytes(), f"examples/templates/{entry.name}", name
        )
        if changed:
            stored.append(keys.template_key(name))
    return stored
