"""The template registry: bundled templates in the package, uploaded ones at templates/<name>.svg.

One registry that specs validate against and the renderer reads: a bundled name cannot be
uploaded over, and every other name is looked up in the object store.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.fonts import (
    FontCatalog,
    FontCatalogSource,
    check_families,
)
from renderfarm_dagster.catalog.rejections import set_aside
from renderfarm_dagster.render.errors import TemplateError, TemplateProblem
from renderfarm_dagster.render.template import Template, parse_template
from renderfarm_dagster.storage import ObjectNotFoundError, ObjectStore


@dataclass(frozen=True)
class TemplateSource:
    """A template's bytes (what the workers get) and its parsed, validated form."""

    name: str
    data: bytes
    template: Template
    bundled: bool

    @property
    def sha256(self) -> str:
        return self.template.sha256


class TemplateNotFoundError(LookupError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"template {name!r} is neither bundled ({', '.join(bundled_names())}) nor uploaded "
            f"at {keys.template_key(name) if keys.ID_PATTERN.fullmatch(name) else 'templates/'}"
        )


@functools.cache
def bundled_names() -> tuple[str, ...]:
    return tuple(
        sorted(f.name.removesuffix(".svg") for f in _bundled().iterdir() if f.name.endswith(".svg"))
    )


@functools.cache
def bundled_template(name: str) -> TemplateSource:
    data = _bundled().joinpath(f"{name}.svg").read_bytes()
    return TemplateSource(name, data, parse_template(data, f"bundled {name}.svg", name), True)


def _bundled():
    return resources.files("renderfarm_dagster").joinpath("templates")


def load_template(objects: ObjectStore, name: str) -> TemplateSource:
    """The template a spec names; raises TemplateNotFoundError, or TemplateError if invalid."""
    if name in bundled_names():
        return bundled_template(name)
    try:
        key = keys.template_key(name)
        data = objects.get(key)
    except (ObjectNotFoundError, keys.InvalidKeyError):
        raise TemplateNotFoundError(name) from None
    return TemplateSource(name, data, _parsed(data, key, name), False)


@functools.lru_cache(maxsize=64)
def _parsed(data: bytes, source: str, name: str) -> Template:
    # Its brand fonts are checked against the catalog's fonts where it is used
    # (catalog/product_inputs.load_inputs): they may have changed since it was uploaded.
    return parse_template(data, source, name, brand_families=None)


def validate_upload(
    data: bytes, source: str, name: str, fonts: FontCatalogSource | None = None
) -> Template:
    """An uploaded template, validated; raises TemplateError naming element and line.

    Each font family it names must be bundled or among `fonts` (the catalog's brand fonts).
    """
    if name in bundled_names():
        raise TemplateError(
            source,
            [TemplateProblem(0, "", f"{name!r} is a bundled template's name: choose another")],
        )
    template = parse_template(data, source, name, brand_families=None)
    check_families(template, fonts or FontCatalogSource.holding(FontCatalog(())), source)
    return template


def submit_template(
    objects: ObjectStore, data: bytes, source: str, name: str
) -> tuple[Template, bool]:
    """Validate a template file and store it at templates/<name>.svg; the template, and False
    when it was stored already."""
    template = validate_upload(data, source, name, FontCatalogSource(objects))
    key = keys.template_key(name)
    current = objects.head(key)
    if current is not None and current.sha256 == hashlib.sha256(data).hexdigest():
        return template, False
    objects.put(key, data, "image/svg+xml")
    return template, True


def reject_template(objects: ObjectStore, key: str, error: TemplateError) -> str:
    """Move an invalid uploaded template to rejected/, beside a report naming each problem.

    Copy and report are written before the original is deleted: a crash in between leaves it
    to be rejected again, never lost. Returns the rejected key.
    """
    # Under its own name, like a spec: the latest rejected upload of a template is what its
    # report describes.
    rejected_key = keys.validate_key(
        f"{keys.REJECTED_PREFIX}templates/{keys.template_name_from_key(key) or 'template'}.svg"
    )
    report = {**error.to_report(), "rejected_key": rejected_key}
    return rejected_key if set_aside(objects, key, rejected_key, report, "image/svg+xml") else ""
