"""`renderfarm preview`: templates (with sample values) and specs drawn to PNG files, before
they are uploaded."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.templates import TemplateSource
from renderfarm_dagster.cli.context import EXIT_INVALID, EXIT_OK
from renderfarm_dagster.cli.files import GivenFiles, input_files
from renderfarm_dagster.problems import FileProblems
from renderfarm_dagster.render.errors import RenderInputError
from renderfarm_dagster.spec import ParsedSpec


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
    preview.set_defaults(handler=preview_files)


def preview_files(args: argparse.Namespace) -> int:
    """Write <out>/<template>.png for each template and <out>/<product>/<variant>/<output>.png
    for each spec; templates and previews are drawn in the catalog's brand fonts with the font
    files given over them."""
    from renderfarm_dagster.catalog.preview import template_preview
    from renderfarm_dagster.deployment import storage

    out = Path(args.out)
    failed = 0
    with storage() as resource:
        given = GivenFiles(resource.objects(), as_uploads=False)
        for path, checked in given.check(input_files(args.files)):
            if isinstance(checked, FileProblems):
                failed += 1
                print(checked, file=sys.stderr)
            elif isinstance(checked, TemplateSource):
                fonts = given.fonts.for_template(checked.template)
                try:
                    preview = template_preview(checked, fonts)
                except RenderInputError as error:
                    failed += 1
                    print(f"{path}: {error}", file=sys.stderr)
                    continue
                target = out / f"{checked.name}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(preview)
                print(f"wrote {target}")
            elif isinstance(checked, ParsedSpec):
                try:
                    _write_spec_previews(checked, given, out, args.assets)
                except RenderInputError as error:
                    failed += 1
                    print(f"{path}: {error}", file=sys.stderr)
    return EXIT_INVALID if failed else EXIT_OK


def _write_spec_previews(
    parsed: ParsedSpec, given: GivenFiles, out: Path, assets: str | None
) -> None:
    from renderfarm_dagster.catalog.preview import spec_previews

    spec = parsed.spec
    photos = {key: _photo(key, assets, given) for key in spec.photo_keys()}
    source = given.template(spec.template)
    fonts = given.fonts.for_template(source.template)
    previews = spec_previews(spec, source, photos, fonts)
    for relative, data in previews.items():
        target = out / spec.product_id / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"wrote {len(previews)} preview(s) of {spec.product_id} to {out / spec.product_id}")


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
