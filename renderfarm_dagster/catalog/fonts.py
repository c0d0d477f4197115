"""Brand fonts uploaded at fonts/<file>.ttf|otf: checked on arrival, found by family name.

A template names fonts by family ("Acme Sans"); the catalog holds the files. Each upload is
checked when it arrives (a real font, under the size limit, a family no other file already
provides in the same weight) and moved to rejected/ with a report otherwise. A template naming
a family that is neither bundled nor uploaded is refused with the name.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.rejections import set_aside
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.fonts import (
    GENERIC_FAMILIES,
    FontError,
    FontFace,
    bundled_families,
    inspect_font,
)
from renderfarm_dagster.render.kinds.text import TextLayer
from renderfarm_dagster.render.static_text import CSS_GENERIC_FAMILIES
from renderfarm_dagster.render.template import (
    Template,
    unavailable_font_families,
    unavailable_static_fonts,
)
from renderfarm_dagster.storage import ObjectNotFoundError, ObjectStore

# Uploaded fonts kept parsed, with their bytes, per object store: a run's products share them.
FONTS_KEPT = 16


@dataclass(frozen=True)
class UploadedFont:
    key: str
    face: FontFace
    data: bytes

    def for_render(self) -> tuple[FontFace, bytes]:
        return (self.face, self.data)


class FontCatalog:
    """The brand fonts fonts/ holds now, by family."""

    def __init__(self, fonts: Iterable[UploadedFont]):
        self.by_key = {font.key: font for font in sorted(fonts, key=lambda f: f.key)}

    @property
    def families(self) -> frozenset[str]:
        return frozenset(font.face.family for font in self.by_key.values())

    def for_template(self, template: Template) -> tuple[UploadedFont, ...]:
        """Every uploaded file of the families the template's text layers name, by key.

        Of two files with the same family and weight (both arrived before the sensor checked
        either; it rejects the later one), the first key is used.
        """
        named = brand_families(template)
        taken: set[tuple[str, bool]] = set()
        fonts = []
        for font in self.by_key.values():
            style = (font.face.family, font.face.bold)
            if font.face.family in named and style not in taken:
                taken.add(style)
                fonts.append(font)
        return tuple(fonts)

    def with_font(self, font: UploadedFont) -> FontCatalog:
        return FontCatalog([*self.by_key.values(), font])

    def without(self, font_keys: Iterable[str]) -> FontCatalog:
        excluded = set(font_keys)
        return FontCatalog(font for key, font in self.by_key.items() if key not in excluded)

    def provider(self, face: FontFace, other_than: str) -> str | None:
        """The key of another file with the same family and weight, if any."""
        for key, font in self.by_key.items():
            if key != other_than and (font.face.family, font.face.bold) == (face.family, face.bold):
                return key
        return None


def brand_families(template: Template) -> frozenset[str]:
    """The families the template's text (its layers and its own) names that are neither
    bundled nor generic."""
    built_in = {*bundled_families(), *GENERIC_FAMILIES, *CSS_GENERIC_FAMILIES}
    layer_families = [
        family
        for layer in template.layers.values()
        if isinstance(layer, TextLayer)
        for family in layer.families
    ]
    static_families = [family for use in template.static_fonts for family in use.families]
    return frozenset(
        family for family in (*layer_families, *static_families) if family not in built_in
    )


def check_families(template: Template, catalog_of: Callable[[], FontCatalog], source: str) -> None:
    """Raise TemplateError when the template names a family no font provides; fonts/ is only
    listed (`catalog_of`) for a template that names a brand family."""
    if brand_families(template):
        families = catalog_of().families
        problems = unavailable_font_families(template.layers.values(), families)
        problems += unavailable_static_fonts(template.static_fonts, families)
        if problems:
            raise TemplateError(source, problems)


class FontCatalogSource:
    """fonts/ listed once, on first use: one run's or one tick's view of the brand fonts."""

    def __init__(self, objects: ObjectStore | None, catalog: FontCatalog | None = None):
        self._objects = objects
        self._catalog = catalog

    @classmethod
    def holding(cls, catalog: FontCatalog) -> FontCatalogSource:
        """A source that lists nothing: `catalog` is the view."""
        return cls(None, catalog)

    def __call__(self) -> FontCatalog:
        if self._catalog is None:
            assert self._objects is not None
            self._catalog = uploaded_fonts(self._objects)
        return self._catalog

    def for_template(self, template: Template) -> tuple[UploadedFont, ...]:
        """The brand fonts the template names; fonts/ is listed only for a template that
        names one."""
        return self().for_template(template) if brand_families(template) else ()


def uploaded_fonts(objects: ObjectStore) -> FontCatalog:
    """The valid fonts under fonts/ (invalid ones wait there for the sensor to reject them)."""
    found: list[UploadedFont] = []
    for summary in objects.list(keys.FONTS_PREFIX):
        if keys.font_file_from_key(summary.key) is None:
            continue
        font = _read_font(objects, summary.key, summary.version)
        if font is not None:
            found.append(font)
    return FontCatalog(found)


def validate_font_upload(data: bytes, key: str, catalog: FontCatalog) -> FontFace:
    """An uploaded font, checked against the fonts already accepted (`catalog`); raises
    FontError naming the file and the reason."""
    if keys.font_file_from_key(key) is None:
        raise FontError(
            key,
            "a brand font is fonts/<name>.ttf or fonts/<name>.otf, the name 1 to 64 of a-z, "
            "0-9, '-' and '_'",
        )
    face = inspect_font(data, key)
    if face.family in bundled_families():
        raise FontError(key, f'"{face.family}" is a bundled family: upload it under another name')
    other = catalog.provider(face, other_than=key)
    if other is not None:
        weight = "bold" if face.bold else "regular"
        raise FontError(key, f'{other} already provides "{face.family}" ({weight})')
    return face


def submit_font(objects: ObjectStore, data: bytes, file_name: str) -> bool:
    """Check a brand font file and store it at fonts/<file_name>; False when unchanged.
    Raises FontError with the reason."""
    try:
        key = keys.font_key(file_name)
    except keys.InvalidKeyError as error:
        raise FontError(file_name, str(error)) from None
    face = validate_font_upload(data, key, uploaded_fonts(objects))
    current = objects.head(key)
    if current is not None and current.sha256 == face.sha256:
        return False
    content_type = "font/otf" if file_name.endswith(".otf") else "font/ttf"
    objects.put(key, data, content_type)
    return True


def reject_font(objects: ObjectStore, key: str, error: FontError) -> str:
    """Move an invalid uploaded font to rejected/fonts/, beside a report with the reason.

    Copy and report are written before the original is deleted: a crash in between leaves it
    to be rejected again, never lost. Returns the rejected key ("" if it vanished).
    """
    rejected_key = keys.rejected_font_key(key)
    report = {"source": key, "problems": [error.reason], "rejected_key": rejected_key}
    stored = set_aside(objects, key, rejected_key, report, "application/octet-stream")
    return rejected_key if stored else ""


_kept: weakref.WeakKeyDictionary[ObjectStore, OrderedDict] = weakref.WeakKeyDictionary()
_kept_lock = threading.Lock()


def _read_font(objects: ObjectStore, key: str, version: str) -> UploadedFont | None:
    """The font at `key` as listed at `version`, from this process's small cache if read
    before; None if it vanished or is invalid."""
    with _kept_lock:
        kept = _kept.setdefault(objects, OrderedDict())
        if version and (key, version) in kept:
            kept.move_to_end((key, version))
            return kept[(key, version)]
    try:
        data = objects.get(key)
        font = UploadedFont(key, inspect_font(data, key), data)
    except (ObjectNotFoundError, FontError):
        return None
    if version:
        with _kept_lock:
            kept[(key, version)] = font
            while len(kept) > FONTS_KEPT:
                kept.popitem(last=False)
    return font
