"""Uploaded templates, brand fonts and photos as inputs of products: what each product uses,
and which uploads changed since they were last acted on.

An uploaded template is validated when it arrives (a bad one goes to rejected/ with a report
naming element and line), and so is a brand font (a report with the reason); a photo is
validated when it is rendered, where a bad one fails only its product. A change is an input
whose sha256 differs from the one recorded in the input index when its previous change was
acted on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.fonts import (
    FontCatalogSource,
    UploadedFont,
    brand_families,
    reject_font,
    validate_font_upload,
)
from renderfarm_dagster.catalog.templates import (
    TemplateNotFoundError,
    bundled_names,
    check_layouts_agree,
    load_template,
    reject_template,
    validate_upload,
)
from renderfarm_dagster.catalog.threads import in_order
from renderfarm_dagster.render.errors import TemplateError, TemplateProblem
from renderfarm_dagster.render.fonts import FontError
from renderfarm_dagster.spec import ProductSpec
from renderfarm_dagster.storage import InputIndex, ObjectInfo, ObjectNotFoundError, ObjectStore

# Fonts before templates: a template arriving with the fonts it names is checked against them.
INPUT_PREFIXES = (keys.ASSETS_PREFIX, keys.FONTS_PREFIX, keys.TEMPLATES_PREFIX)
# The input index also keeps each photo's listing version and the sha256 it had then, under
# this prefix (no object key starts with it): a photo listed or notified again at the same
# version is known without reading it.
LISTED_PREFIX = "listed:"
# A brand font family a template names and no uploaded font provides yet: what a spec using
# that template waits for, as an input of its own (no object key starts with it either). The
# arrival of a font of that family is a change of this input.
FAMILY_PREFIX = "font-family:"


def family_input(family: str) -> str:
    return f"{FAMILY_PREFIX}{family}"


def is_input_key(key: str) -> bool:
    """A photo (assets/<path>), an uploaded template (templates/<name>.svg) or a brand font
    (fonts/<name>.ttf|otf)."""
    if key.startswith(keys.TEMPLATES_PREFIX):
        return keys.template_name_from_key(key) is not None
    if key.startswith(keys.FONTS_PREFIX):
        # Any upload under fonts/: one with an invalid name is rejected with the reason.
        try:
            keys.validate_foreign_key(key)
        except keys.InvalidKeyError:
            return False
        return True
    try:
        keys.validate_asset_key(key)
    except ValueError:
        return False
    return True


def uploaded_inputs(
    spec: ProductSpec, font_keys: Callable[[str], list[str]] = lambda template: []
) -> list[str]:
    """The keys of the uploads a spec's render reads: its template unless bundled, with the
    brand fonts it names (`font_keys` of the template name), and its photos."""
    uploaded = sorted(spec.photo_keys())
    if spec.template not in bundled_names():
        uploaded.append(keys.template_key(spec.template))
        uploaded += font_keys(spec.template)
    return uploaded


class TemplateFonts:
    """The brand fonts each uploaded template names, as inputs: the keys of the uploaded files,
    and a family input (`family_input`) for each family no uploaded font provides yet. Worked
    out once per template (and fonts/ listed once) for the life of this object: one sensor
    tick."""

    def __init__(self, objects: ObjectStore):
        self._objects = objects
        self._catalog = FontCatalogSource(objects)
        self._keys: dict[str, list[str]] = {}

    def __call__(self, template_name: str) -> list[str]:
        if template_name not in self._keys:
            try:
                template = load_template(self._objects, template_name).template
            except (TemplateNotFoundError, TemplateError):
                template = None  # the spec waits for it, or is rejected, elsewhere
            named = brand_families(template) if template is not None else frozenset()
            found = [font.key for font in self._catalog.for_template(template)] if named else []
            missing = sorted(named - self._catalog().families) if named else []
            self._keys[template_name] = found + [family_input(f) for f in missing]
        return self._keys[template_name]


@dataclass(frozen=True)
class RejectedInput:
    """An uploaded template or font that was moved to rejected/ (`rejected_key`)."""

    key: str
    error: TemplateError | FontError
    rejected_key: str


@dataclass(frozen=True)
class InputChanges:
    changed: dict[str, str]  # input key -> its new sha256
    rejected: list[RejectedInput]
    current: dict[str, str]  # every input key looked at that exists -> its sha256
    # Templates accepted with something mended (an id used again): key -> what, by line.
    warnings: dict[str, tuple[TemplateProblem, ...]] = field(default_factory=dict)


def indexed_key(key: str) -> str:
    """The key products are indexed under for an input: a template's other layouts under its
    main layout's key (products record the template by that key), so a new or changed layout
    finds every product of the set; each renders again only the outputs drawn from it."""
    named = keys.template_layout_from_key(key)
    return keys.template_key(named[0]) if named is not None else key


def current_sha256s(
    objects: ObjectStore, input_keys: Iterable[str], known: dict[str, str]
) -> dict[str, str]:
    """The sha256 of each input ("" when nothing is stored there, as for a font family
    TemplateFonts found no font of); `known` caches them."""
    for key in input_keys:
        if key not in known:
            info = None if key.startswith(FAMILY_PREFIX) else objects.head(key)
            known[key] = info.sha256 if info is not None else ""
    return {key: known[key] for key in input_keys}


def find_changes(
    objects: ObjectStore, index: InputIndex, input_versions: Mapping[str, str]
) -> InputChanges:
    """Which inputs (key -> listing version, "" when not known) now hold bytes other than those
    last acted on. Invalid uploaded fonts and templates among them are moved to rejected/
    instead (fonts first: templates are checked against the fonts that stay). Keys that
    vanished are skipped.

    A photo whose listing version is the one recorded when it was last looked at is not read:
    its sha256 is the one recorded then, so a sweep over unchanged photos reads nothing. Others
    are looked at several at once (a HEAD each on S3), and their version and sha256 recorded.
    Templates and fonts are always read: they are few, and a changed one is validated from
    its bytes.
    """
    ordered = sorted(input_versions)
    listed = index.seen([LISTED_PREFIX + key for key in ordered])
    current: dict[str, str] = {}
    to_look_at: list[str] = []
    for key in ordered:
        known = _ListedPhoto.parse(listed.get(LISTED_PREFIX + key))
        if known is not None and input_versions[key] and known.version == input_versions[key]:
            current[key] = known.sha256
        else:
            to_look_at.append(key)
    uploads: dict[str, bytes] = {}  # templates and fonts, by key
    learned: dict[str, str] = {}
    for key, looked in zip(
        to_look_at, in_order(lambda key: _look_at(objects, key), to_look_at, "input"), strict=True
    ):
        if looked is None:
            continue  # vanished
        if isinstance(looked, bytes):
            uploads[key] = looked
            current[key] = hashlib.sha256(looked).hexdigest()
        else:
            current[key] = looked.sha256
            if looked.version:
                listed_photo = _ListedPhoto(looked.version, looked.sha256)
                learned[LISTED_PREFIX + key] = listed_photo.serialize()
    index.see(learned)
    seen = index.seen(current)
    changed = {key: sha for key, sha in current.items() if seen.get(key) != sha}
    rejected = []
    warnings: dict[str, tuple[TemplateProblem, ...]] = {}
    fonts = FontCatalogSource(objects)
    changed_fonts = sorted(
        k for k in changed.keys() & uploads.keys() if k.startswith(keys.FONTS_PREFIX)
    )
    if changed_fonts:
        # Checked against the fonts accepted before, then each other in key order: of two
        # files for the same family and weight, the one already in use stays.
        accepted = fonts().without(changed_fonts)
        for key in changed_fonts:
            try:
                face = validate_font_upload(uploads[key], key, accepted)
            except FontError as error:
                rejected.append(RejectedInput(key, error, reject_font(objects, key, error)))
                del changed[key]
            else:
                accepted = accepted.with_font(UploadedFont(key, face, uploads[key]))
                # Specs waiting for this family of font wait no more.
                changed[family_input(face.family)] = changed[key]
        # Templates are checked against exactly the fonts that stay.
        fonts = FontCatalogSource.holding(accepted)
    for key in sorted(changed.keys() & uploads.keys()):
        if not key.startswith(keys.TEMPLATES_PREFIX):
            continue
        name = keys.template_name_from_key(key) or ""
        try:
            template = validate_upload(uploads[key], key, name, fonts)
            check_layouts_agree(objects, name)
        except TemplateError as error:
            rejected.append(RejectedInput(key, error, reject_template(objects, key, error)))
            del changed[key]
        else:
            if template.warnings:
                warnings[key] = template.warnings
    return InputChanges(changed, rejected, current, warnings)


def _look_at(objects: ObjectStore, key: str) -> bytes | ObjectInfo | None:
    """A template's or font's bytes, a photo's sha256 and version; None when nothing is stored
    there."""
    if key.startswith((keys.TEMPLATES_PREFIX, keys.FONTS_PREFIX)):
        try:
            return objects.get(key)
        except ObjectNotFoundError:
            return None
    return objects.head(key)


@dataclass(frozen=True)
class _ListedPhoto:
    """A photo's listing version and the sha256 of its bytes at that version."""

    version: str
    sha256: str

    def serialize(self) -> str:
        return f"{self.sha256} {self.version}"

    @classmethod
    def parse(cls, raw: str | None) -> _ListedPhoto | None:
        sha256, _, version = (raw or "").partition(" ")
        return cls(version, sha256) if sha256 and version else None
