"""The files a `renderfarm` command is given: brand fonts (.ttf, .otf), templates (.svg) and
specs (.json), read and checked in the order each needs the one before it. Fonts first; then
templates, which may name those fonts; then specs, each checked against its template: one given
in the same command, else a bundled or stored one. `validate` and `preview` both read them here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.templates import TemplateSource
from renderfarm_dagster.problems import FileProblems
from renderfarm_dagster.render.errors import TemplateError, TemplateProblem
from renderfarm_dagster.render.fonts import MAX_FONT_BYTES, FontError, FontFace
from renderfarm_dagster.render.svg_document import MAX_TEMPLATE_BYTES
from renderfarm_dagster.spec import MAX_SPEC_BYTES, ParsedSpec, SpecError, SpecProblem, parse_spec

if TYPE_CHECKING:
    from renderfarm_dagster.catalog.fonts import FontCatalog
    from renderfarm_dagster.storage import ObjectStore

FONT_SUFFIXES = (".ttf", ".otf")

# What checking one given file gave: the problems that make it unusable, or what it is.
Checked = FileProblems | FontFace | TemplateSource | ParsedSpec


def input_files(names: Sequence[str]) -> list[Path]:
    """The files named, with folders expanded to the specs, templates and brand fonts in them,
    in sorted order."""
    files: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            files += sorted(
                p for p in path.iterdir() if p.suffix in (".json", ".svg", *FONT_SUFFIXES)
            )
        else:
            files.append(path)
    return files


def is_template(path: Path) -> bool:
    return path.suffix.lower() == ".svg"


def is_font(path: Path) -> bool:
    return path.suffix.lower() in FONT_SUFFIXES


def is_spec(path: Path) -> bool:
    return not is_template(path) and not is_font(path)


def read_file(path: Path, limit: int, error: Callable[[str], FileProblems]) -> bytes:
    try:
        with path.open("rb") as file:
            # Reading one byte past the limit is enough to report an oversized file.
            return file.read(limit + 1)
    except OSError as failure:
        raise error(f"cannot read file: {failure.strerror}") from None


def read_spec(path: Path) -> bytes:
    return read_file(path, MAX_SPEC_BYTES, lambda m: SpecError(str(path), [SpecProblem("$", m)]))


def read_font(path: Path) -> bytes:
    return read_file(path, MAX_FONT_BYTES, lambda m: FontError(str(path), m))


def read_template(path: Path) -> tuple[str, str, bytes]:
    """A template file's name, layout and bytes: `card.svg` is template card's main layout,
    `card.story.svg` its layout "story" (render/layouts.py)."""

    def error(message: str) -> TemplateError:
        return TemplateError(str(path), [TemplateProblem(0, "", message)])

    named = keys.template_layout_from_key(f"{keys.TEMPLATES_PREFIX}{path.name}")
    if named is None:
        raise error(
            f"the file name {path.name!r} does not name a template: <name>.svg or "
            "<name>.<layout>.svg, the name 1 to 64 of a-z, 0-9, '-' and '_', the layout 1 to 32 "
            "of a-z, 0-9 and '-' (not 'main': that is <name>.svg)"
        )
    name, layout = named
    return name, layout, read_file(path, MAX_TEMPLATE_BYTES, error)


class GivenFiles:
    """The fonts and templates of the catalog, with the files given over them as each is checked.

    `as_uploads`: templates are checked as an upload of them would be (`validate`: a bundled
    template's name is refused); otherwise a bundled template may be given, edited, to preview.
    """

    def __init__(self, objects: ObjectStore, *, as_uploads: bool):
        from renderfarm_dagster.catalog.fonts import uploaded_fonts

        self.objects = objects
        self.as_uploads = as_uploads
        self._stored_fonts = uploaded_fonts(objects)
        self.fonts: FontCatalog = self._stored_fonts
        self.templates: dict[str, TemplateSource] = {}

    def template(self, name: str) -> TemplateSource:
        """A template given in this command, else the bundled or stored one of that name."""
        from renderfarm_dagster.catalog.templates import load_template

        return self.templates[name] if name in self.templates else load_template(self.objects, name)

    def check(self, paths: Sequence[Path]) -> Iterator[tuple[Path, Checked]]:
        """Each file with what checking it gave: fonts, then templates, then specs."""
        for path in filter(is_font, paths):
            yield path, self._font(path)
        # Main layouts first: another layout of a set given with it joins it.
        for path in sorted(filter(is_template, paths), key=lambda path: path.name.count(".")):
            yield path, self._template(path)
        for path in filter(is_spec, paths):
            yield path, self._spec(path)

    def _font(self, path: Path) -> FontFace | FontError:
        from renderfarm_dagster.catalog.fonts import UploadedFont, validate_font_upload

        try:
            key = keys.font_key(path.name)
        except keys.InvalidKeyError as error:
            return FontError(str(path), str(error))
        try:
            data = read_font(path)
            face = validate_font_upload(data, key, self._stored_fonts.without([key]))
        except FontError as error:
            # Named by the file given, not by the key it would be stored at.
            return FontError(str(path), error.reason)
        self.fonts = self.fonts.without([key]).with_font(UploadedFont(key, face, data))
        return face

    def _template(self, path: Path) -> TemplateSource | TemplateError:
        from renderfarm_dagster.catalog.fonts import FontCatalogSource, check_families
        from renderfarm_dagster.catalog.templates import TemplateNotFoundError, validate_upload
        from renderfarm_dagster.render.template import parse_template

        fonts = FontCatalogSource.holding(self.fonts)
        try:
            name, layout, data = read_template(path)
            if self.as_uploads:
                template = validate_upload(data, str(path), name, fonts)
            else:
                template = parse_template(data, str(path), name, brand_families=None)
                check_families(template, fonts, str(path))
            if layout == keys.MAIN_LAYOUT:
                base = self.templates.get(name)
                others = dict(base.other_layouts) if base is not None else {}
                source = TemplateSource(name, data, template, False, others)
            else:
                # Another layout of a set: given with its main layout, or the stored set's.
                try:
                    base = self.template(name)
                except TemplateNotFoundError:
                    return TemplateError(
                        str(path),
                        [TemplateProblem(0, "", f"give {name}.svg, its main layout, too")],
                    )
                others = {**base.other_layouts, layout: (data, template)}
                source = TemplateSource(name, base.data, base.template, base.bundled, others)
            source.layouts  # noqa: B018 - the set's layouts must share their layers
        except TemplateError as error:
            return error
        self.templates[name] = source
        return source

    def _spec(self, path: Path) -> ParsedSpec | SpecError:
        from renderfarm_dagster.catalog.inbox import check_against_template

        try:
            parsed = parse_spec(read_spec(path), str(path))
            check_against_template(parsed, str(path), lambda name: self.template(name).layouts)
        except SpecError as error:
            return error
        return parsed
