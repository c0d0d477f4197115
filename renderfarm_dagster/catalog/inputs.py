"""Uploaded templates and photos as inputs of products: what each product uses, and which
uploads changed since they were last acted on.

An uploaded template is validated when it arrives (a bad one goes to rejected/ with a report
naming element and line); a photo is validated when it is rendered, where a bad one fails only
its product. A change is an input whose sha256 differs from the one recorded in the input index
when its previous change was acted on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.templates import bundled_names, reject_template, validate_upload
from renderfarm_dagster.render.template import TemplateError
from renderfarm_dagster.spec import ProductSpec
from renderfarm_dagster.storage import InputIndex, ObjectNotFoundError, ObjectStore

INPUT_PREFIXES = (keys.ASSETS_PREFIX, keys.TEMPLATES_PREFIX)


def is_input_key(key: str) -> bool:
    """A photo (assets/<path>) or an uploaded template (templates/<name>.svg)."""
    if key.startswith(keys.TEMPLATES_PREFIX):
        return keys.template_name_from_key(key) is not None
    try:
        keys.validate_asset_key(key)
    except ValueError:
        return False
    return True


def uploaded_inputs(spec: ProductSpec) -> list[str]:
    """The keys of the uploads a spec's render reads: its template unless bundled, its photos."""
    uploaded = sorted(spec.photo_keys())
    if spec.template not in bundled_names():
        uploaded.append(keys.template_key(spec.template))
    return uploaded


@dataclass(frozen=True)
class RejectedTemplate:
    key: str
    error: TemplateError
    rejected_key: str


@dataclass(frozen=True)
class InputChanges:
    changed: dict[str, str]  # input key -> its new sha256
    rejected: list[RejectedTemplate]
    current: dict[str, str]  # every input key looked at that exists -> its sha256


def current_sha256s(
    objects: ObjectStore, input_keys: Iterable[str], known: dict[str, str]
) -> dict[str, str]:
    """The sha256 of each input ("" when nothing is stored there); `known` caches them."""
    for key in input_keys:
        if key not in known:
            info = objects.head(key)
            known[key] = info.sha256 if info is not None else ""
    return {key: known[key] for key in input_keys}


def find_changes(
    objects: ObjectStore, index: InputIndex, input_keys: Iterable[str]
) -> InputChanges:
    """Which of `input_keys` now hold bytes other than those last acted on. Invalid uploaded
    templates among them are moved to rejected/ instead. Keys that vanished are skipped."""
    current: dict[str, str] = {}
    templates: dict[str, bytes] = {}
    for key in sorted(set(input_keys)):
        if key.startswith(keys.TEMPLATES_PREFIX):
            try:
                templates[key] = objects.get(key)
            except ObjectNotFoundError:
                continue
            current[key] = hashlib.sha256(templates[key]).hexdigest()
        else:
            info = objects.head(key)
            if info is not None:
                current[key] = info.sha256
    seen = index.seen(current)
    changed = {key: sha for key, sha in current.items() if seen.get(key) != sha}
    rejected = []
    for key in sorted(changed.keys() & templates.keys()):
        name = keys.template_name_from_key(key) or ""
        try:
            validate_upload(templates[key], key, name)
        except TemplateError as error:
            rejected.append(RejectedTemplate(key, error, reject_template(objects, key, error)))
            del changed[key]
    return InputChanges(changed, rejected, current)
