"""`renderfarm preview`: templates (every layout, with sample values) and specs drawn to PNG files
before they are uploaded; with `--watch`, drawn again on every save and shown on a local page
(cli/preview_page.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.templates import TemplateSource
from renderfarm_dagster.cli.context import EXIT_INVALID, EXIT_OK
from renderfarm_dagster.cli.files import GivenFiles, input_files
from renderfarm_dagster.problems import FileProblems
from renderfarm_dagster.render.errors import RenderInputError
from renderfarm_dagster.spec import ParsedSpec

if TYPE_CHECKING:
    from renderfarm_dagster.catalog.preview import PreviewCache


def add_to(commands: argparse._SubParsersAction) -> None:
    preview = commands.add_parser(
        "preview",
        help="render templates (with sample values) and specs to PNG files, before uploading",
    )
    preview.add_argument(
        "files", nargs="+", help="template (.svg) and spec (.json) files, or folders of them"
    )
    preview.add_argument("--out", default="preview", help="folder for the PNG files")
    preview.add_argument(
        "--assets",
        help="a local folder of the photos specs name (assets/<path> is <folder>/<path>); "
        "by default they are read from the deployment's bucket",
    )
    preview.add_argument(
        "--watch",
        action="store_true",
        help="keep running: draw each file again when it is saved, and serve every preview on "
        "a local page that refreshes itself",
    )
    preview.add_argument(
        "--port", type=int, default=8765, help="the local page's port with --watch (0: any free)"
    )
    preview.set_defaults(handler=preview_files)


@dataclass
class Drawn:
    """What one given file gave: its previews by path under --out, or its problems as the
    command prints them."""

    path: Path
    title: str  # "template product-card", "spec shoe", "font inter-regular.ttf"
    images: dict[str, bytes] = field(default_factory=dict)
    problems: str = ""
    # For a template: its name, which the specs drawn from it name; "" otherwise.
    template: str = ""
    # For a spec: the template it is drawn from.
    uses: str = ""
    # False while a spec's variants are still being drawn (`--watch` shows them as they come).
    complete: bool = True


def preview_files(args: argparse.Namespace) -> int:
    """Write <out>/<template>.png (and <out>/<template>.<layout>.png for each other layout) for
    each template and <out>/<product>/<variant>/<output>.png, with a contact sheet by layout, for
    each spec; drawn in the catalog's brand fonts with the font files given over them."""
    from renderfarm_dagster.deployment import storage

    out = Path(args.out)
    with storage() as resource:
        if args.watch:
            from renderfarm_dagster.cli.preview_page import watch

            return watch(args.files, resource.objects(), out, args.assets, args.port)
        given = GivenFiles(resource.objects(), as_uploads=False)
        failed = 0
        for drawn in draw(input_files(args.files), given, args.assets):
            failed += bool(drawn.problems)
            report(drawn, out)
    return EXIT_INVALID if failed else EXIT_OK


def report(drawn: Drawn, out: Path) -> None:
    """Write a file's previews under `out` and say so, or print its problems."""
    if not drawn.complete:
        return
    if drawn.problems:
        print(drawn.problems, file=sys.stderr)
        return
    for relative, data in drawn.images.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if drawn.template:
            print(f"wrote {target}")
    if drawn.uses and drawn.images:
        folder = out / next(iter(drawn.images)).split("/", 1)[0]
        print(f"wrote {len(drawn.images)} preview(s) of {drawn.title} to {folder}")


def draw(
    paths: Sequence[Path],
    given: GivenFiles,
    assets: str | None,
    only: Iterable[Path] | None = None,
    drawn_before: PreviewCache | None = None,
) -> Iterator[Drawn]:
    """Every file checked (fonts, then templates, then specs: each may use the ones before)
    and drawn: a template once with every layout given (its files are one set), a spec with
    its template. With `only`, just those files, the sets they belong to and the specs drawn
    from those sets are drawn (every file is still checked: the others depend on it).
    `drawn_before`: previews drawn earlier, drawn again only if what they show changed. Each
    file's previews are yielded as soon as they are drawn."""
    wanted = set(only) if only is not None else None
    checked = list(given.check(paths))
    sets: dict[str, tuple[list[Path], TemplateSource]] = {}
    for path, result in checked:
        if isinstance(result, TemplateSource):
            files = sets.get(result.name, ([], result))[0]
            sets[result.name] = ([*files, path], result)  # the last holds every layout given
    redrawn = {name for name, (files, _) in sets.items() if wanted is None or wanted & set(files)}
    for path, result in checked:
        if isinstance(result, FileProblems):
            yield Drawn(path, path.name, problems=str(result))
        elif isinstance(result, TemplateSource):
            files, source = sets[result.name]
            if result.name in redrawn and path == files[0]:
                yield _template_previews(path, source, given, drawn_before)
        elif isinstance(result, ParsedSpec):
            if wanted is None or path in wanted or result.spec.template in redrawn:
                yield from _spec_previews(path, result, given, assets, drawn_before)
        elif wanted is None or path in wanted:
            yield Drawn(path, f"font {path.name}")


def _template_previews(
    path: Path, source: TemplateSource, given: GivenFiles, drawn_before: PreviewCache | None
) -> Drawn:
    from renderfarm_dagster.catalog.preview import template_previews

    fonts = given.fonts.for_template(source.template)
    title = f"template {source.name}"
    try:
        images = template_previews(source, fonts, drawn_before)
    except RenderInputError as error:
        return Drawn(path, title, problems=f"{path}: {error}", template=source.name)
    return Drawn(path, title, images, template=source.name)


def _spec_previews(
    path: Path,
    parsed: ParsedSpec,
    given: GivenFiles,
    assets: str | None,
    drawn_before: PreviewCache | None,
) -> Iterator[Drawn]:
    from renderfarm_dagster.catalog.preview import spec_previews

    spec = parsed.spec
    title = f"spec {spec.product_id}"
    try:
        photos = {key: _photo(key, assets, given) for key in spec.photo_keys()}
        source = given.template(spec.template)
        fonts = given.fonts.for_template(source.template)
        previews: dict[str, bytes] = {}
        for previews in spec_previews(spec, source, photos, fonts, drawn_before):
            images = {f"{spec.product_id}/{relative}": data for relative, data in previews.items()}
            yield Drawn(path, title, images, uses=spec.template, complete=False)
    except RenderInputError as error:
        yield Drawn(path, title, problems=f"{path}: {error}", uses=spec.template)
        return
    yield Drawn(path, title, images, uses=spec.template)


def _photo(key: str, assets: str | None, given: GivenFiles) -> bytes:
    """A photo a spec names: from --assets (assets/<path> is <folder>/<path>), else the store."""
    from renderfarm_dagster.storage import ObjectNotFoundError

    if assets is not None:
        path = Path(assets) / key.removeprefix(keys.ASSETS_PREFIX)
        try:
            return path.read_bytes()
        except OSError as error:
            raise RenderInputError(key, f"cannot read {path}: {error.strerror}") from None
    try:
        return given.objects.get(key)
    except ObjectNotFoundError:
        raise RenderInputError(
            key, "no photo stored at this key (give a local folder of photos with --assets)"
        ) from None
