"""The template registry: bundled templates in the package, uploaded ones at templates/<name>.svg,
each with its other layouts beside it (templates/<name>.<layout>.svg: render/layouts.py).

One registry that specs validate against and the renderer reads: a bundled name cannot be
uploaded over, and every other name is looked up in the object store.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.fonts import (
    FontCatalog,
    FontCatalogSource,
    check_families,
)
from renderfarm_dagster.catalog.rejections import set_aside
from renderfarm_dagster.keys import MAIN_LAYOUT
from renderfarm_dagster.render.errors import TemplateError, TemplateProblem
from renderfarm_dagster.render.layouts import TemplateSet, template_set
from renderfarm_dagster.render.template import Template, parse_template
from renderfarm_dagster.storage import ObjectNotFoundError, ObjectStore


@dataclass(frozen=True)
class TemplateSource:
    """A template's bytes (what the workers get) and its parsed, validated form: its main
    layout, and its other layouts by name (each file's bytes and parsed form)."""

    name: str
    data: bytes
    template: Template
    bundled: bool
    other_layouts: Mapping[str, tuple[bytes, Template]] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return self.template.sha256

    @functools.cached_property
    def layouts(self) -> TemplateSet:
        """Every layout, checked to share the main layout's layers; raises TemplateError."""
        layouts = {MAIN_LAYOUT: self.template}
        layouts.update({name: template for name, (_, template) in self.other_layouts.items()})
        return template_set(self.name, layouts, self.sources())

    def layout_data(self) -> dict[str, bytes]:
        """Each layout's bytes by name, the main layout first."""
        return {MAIN_LAYOUT: self.data, **{n: d for n, (d, _) in self.other_layouts.items()}}

    def sources(self) -> dict[str, str]:
        """Where each layout comes from: its key, or its file in the package."""
        return {
            layout: (
                f"bundled {keys.template_file_name(self.name, layout)}"
                if self.bundled
                else keys.template_key(self.name, layout)
            )
            for layout in self.layout_data()
        }


class TemplateNotFoundError(LookupError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"template {name!r} is neither bundled ({', '.join(bundled_names())}) nor uploaded "
            f"at {keys.template_key(name) if keys.ID_PATTERN.fullmatch(name) else 'templates/'}"
        )


@functools.cache
def bundled_names() -> tuple[str, ...]:
    return tuple(sorted({name for name, _ in _bundled_files()}))


def _bundled_files() -> list[tuple[str, str]]:
    """(template, layout) of each bundled file."""
    found = []
    for file in _bundled().iterdir():
        named = keys.template_layout_from_key(f"{keys.TEMPLATES_PREFIX}{file.name}")
        if named is not None:
            found.append(named)
    return found


@functools.cache
def bundled_template(name: str) -> TemplateSource:
    def parsed(layout: str) -> tuple[bytes, Template]:
        file_name = keys.template_file_name(name, layout)
        data = _bundled().joinpath(file_name).read_bytes()
        return data, parse_template(data, f"bundled {file_name}", name)

    data, template = parsed(MAIN_LAYOUT)
    others = {
        layout: parsed(layout)
        for template_name, layout in sorted(_bundled_files())
        if template_name == name and layout != MAIN_LAYOUT
    }
    source = TemplateSource(name, data, template, True, others)
    source.layouts  # noqa: B018 - a bundled set whose layouts differ is a bug: fail on first use
    return source


def _bundled():
    return resources.files("renderfarm_dagster").joinpath("templates")


def load_template(objects: ObjectStore, name: str) -> TemplateSource:
    """The template a spec names, with every layout stored beside it; raises
    TemplateNotFoundError, or TemplateError if a layout is invalid or the layouts' layers
    differ (naming the layout's key and the layer)."""
    if name in bundled_names():
        return bundled_template(name)
    try:
        key = keys.template_key(name)
        data = objects.get(key)
    except (ObjectNotFoundError, keys.InvalidKeyError):
        raise TemplateNotFoundError(name) from None
    others = {}
    for listed in objects.list(keys.template_layouts_prefix(name)):
        named = keys.template_layout_from_key(listed.key)
        if named is None or named[0] != name:
            continue  # another template's name starts the same ("card." is not "card-x.")
        try:
            layout_data = objects.get(listed.key)
        except ObjectNotFoundError:
            continue  # deleted since it was listed: the set is what is there now
        others[named[1]] = (layout_data, _parsed(layout_data, listed.key, name))
    source = TemplateSource(name, data, _parsed(data, key, name), False, others)
    source.layouts  # noqa: B018 - raises TemplateError when the layouts' layers differ
    return source


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


def check_layouts_agree(objects: ObjectStore, name: str) -> None:
    """Raise TemplateError when the layouts stored for template `name` do not share their
    layers (naming layout and layer); a set without its main layout yet is checked when the
    main layout arrives."""
    with contextlib.suppress(TemplateNotFoundError):
        load_template(objects, name)


def submit_template(
    objects: ObjectStore, data: bytes, source: str, name: str, layout: str = MAIN_LAYOUT
) -> tuple[Template, bool]:
    """Validate a template file (a layout of the set `name`) and store it at
    templates/<name>.svg or templates/<name>.<layout>.svg; the template, and False when it was
    stored already. A layout whose layers differ from the set's is refused, naming the layer."""
    template = validate_upload(data, source, name, FontCatalogSource(objects))
    key = keys.template_key(name, layout)
    current = objects.head(key)
    if current is not None and current.sha256 == hashlib.sha256(data).hexdigest():
        return template, False
    _check_joins_set(objects, name, layout, template, source)
    objects.put(key, data, "image/svg+xml")
    return template, True


def _check_joins_set(
    objects: ObjectStore, name: str, layout: str, template: Template, source: str
) -> None:
    """Raise TemplateError when `template`, as layout `layout` of the stored set `name`, does not
    share the set's layers (nothing to check while the set has no main layout)."""
    try:
        stored = load_template(objects, name)
    except TemplateNotFoundError:
        return
    others = {n: pair for n, pair in stored.other_layouts.items() if n != layout}
    if layout == MAIN_LAYOUT:
        candidate = TemplateSource(name, b"", template, False, others)
    else:
        others[layout] = (b"", template)
        candidate = TemplateSource(name, stored.data, stored.template, False, others)
    try:
        candidate.layouts  # noqa: B018
    except TemplateError as error:
        raise TemplateError(source, error.problems) from None


def reject_template(objects: ObjectStore, key: str, error: TemplateError) -> str:
    """Move an invalid uploaded template to rejected/, beside a report naming each problem.

    Copy and report are written before the original is deleted: a crash in between leaves it
    to be rejected again, never lost. Returns the rejected key.
    """
    # Under its own name, like a spec: the latest rejected upload of a template is what its
    # report describes.
    file_name = key.removeprefix(keys.TEMPLATES_PREFIX)
    if keys.template_name_from_key(key) is None:
        file_name = "template.svg"
    rejected_key = keys.validate_key(f"{keys.REJECTED_PREFIX}templates/{file_name}")
    report = {**error.to_report(), "rejected_key": rejected_key}
    return rejected_key if set_aside(objects, key, rejected_key, report, "image/svg+xml") else ""
