"""The `renderfarm` command: validate and submit specs and templates, preview them, and run the
demo catalog."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from renderfarm_dagster import keys
from renderfarm_dagster.render.errors import TemplateError, TemplateProblem
from renderfarm_dagster.render.fonts import FontError, FontFace
from renderfarm_dagster.render.svg_document import MAX_TEMPLATE_BYTES
from renderfarm_dagster.render.template import Template
from renderfarm_dagster.spec import MAX_SPEC_BYTES, SpecError, SpecProblem, parse_spec

if TYPE_CHECKING:
    from renderfarm_dagster.catalog.fonts import FontCatalog

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


FONT_SUFFIXES = (".ttf", ".otf")


def _input_files(paths: Sequence[str]) -> Iterator[Path]:
    """The files named, with folders expanded to the *.json specs, *.svg templates and
    *.ttf/*.otf brand fonts in them, in sorted order."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(
                p for p in path.iterdir() if p.suffix in (".json", ".svg", *FONT_SUFFIXES)
            )
        else:
            yield path


def _is_template(path: Path) -> bool:
    return path.suffix.lower() == ".svg"


def _is_font(path: Path) -> bool:
    return path.suffix.lower() in FONT_SUFFIXES


def _submit_fonts(paths: Sequence[Path], objects) -> int:
    """Store the valid brand font files at fonts/<name>; the number rejected."""
    from renderfarm_dagster.catalog.fonts import submit_font
    from renderfarm_dagster.render.fonts import MAX_FONT_BYTES

    rejected = 0
    for path in paths:
        try:
            data = _read(path, MAX_FONT_BYTES, lambda m, path=path: FontError(str(path), m))
            changed = submit_font(objects, data, path.name)
        except FontError as error:
            rejected += 1
            print(f"rejected {path}: {error.reason}", file=sys.stderr)
            continue
        state = "submitted" if changed else "unchanged"
        print(f"{state} font {path.name} -> {keys.font_key(path.name)}")
    return rejected


def _read(path: Path, limit: int, error: Callable[[str], Exception]) -> bytes:
    try:
        with path.open("rb") as file:
            # Reading one byte past the limit is enough to report an oversized file.
            return file.read(limit + 1)
    except OSError as failure:
        raise error(f"cannot read file: {failure.strerror}") from None


def _read_spec(path: Path) -> bytes:
    return _read(path, MAX_SPEC_BYTES, lambda m: SpecError(str(path), [SpecProblem("$", m)]))


def _read_template(path: Path) -> tuple[str, bytes]:
    """A template file's name (its file name without .svg) and bytes."""

    def error(message: str) -> TemplateError:
        return TemplateError(str(path), [TemplateProblem(0, "", message)])

    name = path.stem
    if not keys.ID_PATTERN.fullmatch(name):
        raise error(
            f"the file name gives the template name {name!r}, which is not an id: 1 to 64 of "
            "a-z, 0-9, '-' and '_', starting with a letter or digit"
        )
    return name, _read(path, MAX_TEMPLATE_BYTES, error)


def _fonts(paths: Sequence[Path], objects, report: Callable[[Path, object], None]):
    """The brand fonts stored in the catalog, with the font files among `paths` over them
    (each checked and reported): what templates given with them may name."""
    from renderfarm_dagster.catalog.fonts import (
        UploadedFont,
        uploaded_fonts,
        validate_font_upload,
    )
    from renderfarm_dagster.render.fonts import MAX_FONT_BYTES

    stored = uploaded_fonts(objects)
    catalog = stored
    for path in paths:
        if not _is_font(path):
            continue
        try:
            key = keys.font_key(path.name)
            data = _read(path, MAX_FONT_BYTES, lambda m, path=path: FontError(str(path), m))
            face = validate_font_upload(data, key, stored.without([key]))
        except (keys.InvalidKeyError, FontError) as error:
            report(path, error)
            continue
        report(path, face)
        catalog = catalog.without([key]).with_font(UploadedFont(key, face, data))
    return catalog


def _given_templates(
    paths: Sequence[Path],
    report: Callable[[Path, Template | TemplateError], None],
    fonts: FontCatalog,
) -> dict[str, Template]:
    """Validate every template file among `paths` (against `fonts`); the valid ones by name."""
    from renderfarm_dagster.catalog.fonts import FontCatalogSource
    from renderfarm_dagster.catalog.templates import validate_upload

    valid = {}
    for path in paths:
        if not _is_template(path):
            continue
        try:
            name, data = _read_template(path)
            valid[name] = validate_upload(data, str(path), name, FontCatalogSource.holding(fonts))
        except TemplateError as error:
            report(path, error)
            continue
        report(path, valid[name])
    return valid


def _template_finder(given: dict[str, Template], objects) -> Callable[[str], Template]:
    """Templates given on the command line first, then bundled or uploaded ones."""
    from renderfarm_dagster.catalog.templates import load_template

    def find(name: str) -> Template:
        return given[name] if name in given else load_template(objects, name).template

    return find


def cmd_validate(args: argparse.Namespace) -> int:
    from renderfarm_dagster.catalog.inbox import check_against_template
    from renderfarm_dagster.deployment import storage

    paths = list(_input_files(args.files))
    invalid = 0

    def report(path: Path, outcome) -> None:
        nonlocal invalid
        if isinstance(outcome, (TemplateError, FontError, keys.InvalidKeyError)):
            invalid += 1
            reason = outcome.reason if isinstance(outcome, FontError) else None
            print(f"{path}: {reason}" if reason else outcome, file=sys.stderr)
        elif isinstance(outcome, FontFace):
            weight = "bold" if outcome.bold else "regular"
            print(f"ok {path}: font family {outcome.family!r} ({weight})")
        else:
            kinds = ", ".join(f"{n} ({layer.kind})" for n, layer in outcome.layers.items())
            print(f"ok {path}: template {outcome.name!r}, layers {kinds or 'none'}")

    with storage() as resource:
        fonts = _fonts(paths, resource.objects(), report)
        given = _given_templates(paths, report, fonts)
        find_template = _template_finder(given, resource.objects())
        for path in paths:
            if _is_template(path) or _is_font(path):
                continue
            try:
                parsed = parse_spec(_read_spec(path), str(path))
                check_against_template(parsed, str(path), find_template)
            except SpecError as error:
                invalid += 1
                print(error, file=sys.stderr)
                continue
            spec = parsed.spec
            print(
                f"ok {path}: {spec.product_id}, "
                f"{len(spec.variants)} variants x {len(spec.outputs)} outputs"
            )
    return EXIT_INVALID if invalid else EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    """Render templates (with sample values) and specs to PNG files under --out."""
    from renderfarm_dagster.catalog.fonts import FontCatalogSource, check_families
    from renderfarm_dagster.catalog.inbox import check_against_template
    from renderfarm_dagster.catalog.preview import spec_previews, template_preview
    from renderfarm_dagster.catalog.templates import TemplateSource, load_template
    from renderfarm_dagster.deployment import storage
    from renderfarm_dagster.render.errors import RenderInputError
    from renderfarm_dagster.render.template import parse_template

    out = Path(args.out)
    paths = list(_input_files(args.files))
    failed = 0

    def report_font(path: Path, outcome) -> None:
        nonlocal failed
        if isinstance(outcome, (FontError, keys.InvalidKeyError)):
            failed += 1
            reason = outcome.reason if isinstance(outcome, FontError) else outcome
            print(f"{path}: {reason}", file=sys.stderr)

    given: dict[str, TemplateSource] = {}
    with storage() as resource:
        objects = resource.objects()
        # The catalog's brand fonts, with the font files given over them: what the templates
        # given and stored may name, and what their previews are drawn in.
        fonts = _fonts(paths, objects, report_font)
        for path in paths:
            if not _is_template(path):
                continue
            try:
                name, data = _read_template(path)
                template = parse_template(data, str(path), name, brand_families=None)
                check_families(template, FontCatalogSource.holding(fonts), str(path))
            except TemplateError as error:
                failed += 1
                print(error, file=sys.stderr)
                continue
            given[name] = TemplateSource(name, data, template, False)
            target = out / f"{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(template_preview(given[name], fonts.for_template(template)))
            print(f"wrote {target}")

        def find(name: str) -> TemplateSource:
            return given[name] if name in given else load_template(objects, name)

        for path in paths:
            if _is_template(path) or _is_font(path):
                continue
            try:
                parsed = parse_spec(_read_spec(path), str(path))
                check_against_template(parsed, str(path), lambda name: find(name).template)
                spec = parsed.spec
                photos = {key: _photo(key, args.assets, objects) for key in spec.photo_keys()}
                source = find(spec.template)
                previews = spec_previews(spec, source, photos, fonts.for_template(source.template))
            except (SpecError, RenderInputError) as error:
                failed += 1
                print(
                    f"{path}: {error}" if isinstance(error, RenderInputError) else error,
                    file=sys.stderr,
                )
                continue
            for relative, data in previews.items():
                target = out / spec.product_id / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            print(
                f"wrote {len(previews)} preview(s) of {spec.product_id} to {out / spec.product_id}"
            )
    return EXIT_INVALID if failed else EXIT_OK


def _photo(key: str, assets: str | None, objects) -> bytes:
    """A photo a spec names: from --assets (assets/<path> is <folder>/<path>), else the store."""
    from renderfarm_dagster.render.errors import RenderInputError
    from renderfarm_dagster.storage import ObjectNotFoundError

    if assets is not None:
        path = Path(assets) / key.removeprefix(keys.ASSETS_PREFIX)
        try:
            return path.read_bytes()
        except OSError as error:
            raise RenderInputError(key, f"cannot read {path}: {error.strerror}") from None
    try:
        return objects.get(key)
    except ObjectNotFoundError:
        raise RenderInputError(
            key, "no photo stored at this key (give a local folder of photos with --assets)"
        ) from None


def _instance():
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        raise SystemExit(
            "DAGSTER_HOME is not set: products are registered in the Dagster instance that will "
            "render them. Set it to the folder `dagster dev` and `dagster job execute` use, e.g. "
            "export DAGSTER_HOME=$PWD/.dagster_home"
        )
    return dg.DagsterInstance.get()


def _submit_templates(paths: Sequence[Path], objects) -> list[TemplateError]:
    """Store the valid template files at templates/<name>.svg; the errors of the others."""
    from renderfarm_dagster.catalog.templates import submit_template

    rejected = []
    for path in paths:
        try:
            name, data = _read_template(path)
            changed = submit_template(objects, data, str(path), name)
        except TemplateError as error:
            rejected.append(error)
            print(f"rejected {path}:", file=sys.stderr)
            print(error, file=sys.stderr)
            continue
        state = "submitted" if changed else "unchanged"
        print(f"{state} template {name} -> {keys.template_key(name)}")
    return rejected


def _submit(paths: Sequence[Path], instance, objects) -> tuple[list[str], int]:
    """Store valid templates and specs, templates first so that specs in the same command can
    use them, and register the specs' partitions; returns (product ids, rejected count)."""
    from renderfarm_dagster.catalog.inbox import submit_spec
    from renderfarm_dagster.defs.partitions import products

    # Fonts first, then templates (checked against the fonts), then specs.
    fonts_rejected = _submit_fonts([p for p in paths if _is_font(p)], objects)
    rejected: list[SpecError | TemplateError] = []
    rejected += _submit_templates([p for p in paths if _is_template(p)], objects)
    paths = [p for p in paths if not _is_template(p) and not _is_font(p)]
    submitted, unchanged = [], 0
    for index, path in enumerate(paths, start=1):
        prefix = f"[{index}/{len(paths)}]"
        try:
            submission = submit_spec(objects, _read_spec(path), str(path))
        except SpecError as error:
            rejected.append(error)
            print(f"{prefix} rejected {path}:", file=sys.stderr)
            print(error, file=sys.stderr)
            continue
        product_id = submission.parsed.spec.product_id
        if submission.changed:
            print(f"{prefix} submitted {product_id} -> {keys.spec_key(product_id)}")
        else:
            unchanged += 1
            print(f"{prefix} unchanged {product_id} ({path})")
        missing = [k for k in sorted(submission.parsed.spec.photo_keys()) if not objects.head(k)]
        if missing:
            print(
                f"{prefix} {product_id} waits for {', '.join(missing)}: the spec sensor requests "
                "it once they are stored (renderfarm status lists what waits)"
            )
        submitted.append(product_id)
    new = [p for p in submitted if not instance.has_dynamic_partition(products.name, p)]
    if new:
        instance.add_dynamic_partitions(products.name, new)
    print(
        f"submitted {len(submitted) - unchanged}, unchanged {unchanged}, "
        f"rejected {len(rejected)}; {len(new)} new partition(s) registered"
    )
    if rejected:
        # The reasons again, one line per file, after the progress they were printed in.
        print("rejected:", file=sys.stderr)
        for error in rejected:
            first, *more = error.problems
            extra = f" (and {len(more)} more problem(s))" if more else ""
            print(f"  {error.source}: {first}{extra}", file=sys.stderr)
    return submitted, len(rejected) + fonts_rejected


def cmd_submit(args: argparse.Namespace) -> int:
    from renderfarm_dagster.deployment import storage

    instance = _instance()
    with storage() as resource:
        _, rejected = _submit(list(_input_files(args.files)), instance, resource.objects())
    return EXIT_INVALID if rejected else EXIT_OK


def _example_files(folder: Path) -> list[Path]:
    """The example specs copied to `folder`, for `_submit`."""
    from renderfarm_dagster.catalog.examples import example_specs

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in example_specs():
        path = folder / entry.name
        path.write_bytes(entry.read_bytes())
        paths.append(path)
    return paths


def _store_example_inputs(objects) -> None:
    from renderfarm_dagster.catalog.examples import store_example_inputs

    for key in store_example_inputs(objects):
        print(f"stored {key}")


def cmd_examples(args: argparse.Namespace) -> int:
    """Store the example photos, template and specs for the spec sensor, which registers and
    renders them (`make dev`). Unlike `submit`, this needs no Dagster instance."""
    from renderfarm_dagster.catalog.examples import example_specs
    from renderfarm_dagster.catalog.inbox import submit_spec
    from renderfarm_dagster.deployment import storage

    with storage() as resource:
        objects = resource.objects()
        _store_example_inputs(objects)
        for entry in example_specs():
            submission = submit_spec(objects, entry.read_bytes(), f"examples/{entry.name}")
            product_id = submission.parsed.spec.product_id
            state = "stored" if submission.changed else "unchanged"
            print(f"{state} {keys.spec_key(product_id)}")
    print("the spec sensor registers these products and requests their runs on its next tick")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from renderfarm_dagster.definitions import defs
    from renderfarm_dagster.deployment import storage
    from renderfarm_dagster.settings import local_data_dir

    if os.environ.get("RENDERFARM_DEPLOYMENT", "local") != "local":
        raise SystemExit(
            "renderfarm demo runs on the local deployment; unset RENDERFARM_DEPLOYMENT"
        )
    instance = _instance()
    data_dir = local_data_dir()
    print(f"Submitting the example catalog (Dagster instance: {os.environ['DAGSTER_HOME']})")
    with storage() as resource:
        _store_example_inputs(resource.objects())
        products, _ = _submit(_example_files(data_dir / "examples"), instance, resource.objects())
    job = defs.resolve_job_def("render_catalog")
    run_config = {
        "ops": {"render_products": {"config": {"workers": args.workers}}},
        # Render progress at INFO; Dagster's DEBUG event stream would bury the summary.
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }
    rows, failed = [], 0
    for index, product_id in enumerate(products, start=1):
        print(f"[{index}/{len(products)}] rendering {product_id} ...", flush=True)
        started = time.monotonic()
        result = job.execute_in_process(
            instance=instance,
            partition_key=product_id,
            run_config=run_config,
            raise_on_error=False,
            tags={"renderfarm/source": "demo"},
        )
        checks = result.get_asset_check_evaluations()
        passed = sum(1 for c in checks if c.passed)
        materialized = {
            e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata
            for e in result.get_asset_materialization_events()
        }
        render = materialized.get("rendered_variants", {})
        rendered = render["rendered"].value if "rendered" in render else 0
        skipped = render["skipped"].value if "skipped" in render else 0
        ok = result.success and checks and passed == len(checks)
        failed += not ok
        rows.append((product_id, rendered, skipped, f"{passed}/{len(checks)}", ok))
        status = "ok" if ok else "FAILED"
        print(
            f"[{index}/{len(products)}] {product_id}: {status} "
            f"in {time.monotonic() - started:.1f}s, "
            f"{rendered} rendered, {skipped} skipped, checks {passed}/{len(checks)} passed "
            f"(run {result.run_id})",
            flush=True,
        )
        for check in checks:
            if not check.passed:
                print(f"    check {check.check_name} failed: {check.description}", file=sys.stderr)
        if not result.success:
            for event in result.all_events:
                if event.is_step_failure:
                    print(
                        f"    {event.step_key}: {event.event_specific_data.error.message}",
                        file=sys.stderr,
                    )
    bucket = data_dir / "bucket"
    print()
    print(f"{'product':<26} {'rendered':>8} {'skipped':>8} {'checks':>7}  status")
    for product_id, rendered, skipped, checks, ok in rows:
        print(
            f"{product_id:<26} {rendered:>8} {skipped:>8} {checks:>7}  {'ok' if ok else 'FAILED'}"
        )
    print()
    print(f"outputs:        {bucket / keys.RENDERS_PREFIX}")
    print(f"manifests:      {bucket / keys.MANIFESTS_PREFIX}")
    print(f"contact sheets: {bucket / keys.PREVIEWS_PREFIX}")
    print("browse the runs: make dev, then open http://127.0.0.1:3000")
    return EXIT_INVALID if failed else EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """The products that wait for inputs not stored yet, and what each waits for."""
    from renderfarm_dagster.catalog.waiting import waiting_products
    from renderfarm_dagster.deployment import storage
    from renderfarm_dagster.settings import max_wait_seconds

    now, max_wait = time.time(), max_wait_seconds()
    with storage() as resource:
        waiting = list(waiting_products(resource.objects(), resource.inputs()))
    if not waiting:
        print("no product waits for its inputs")
        return EXIT_OK
    print(
        f"{len(waiting)} product(s) wait for inputs not stored yet; each is requested when the "
        f"last arrives, or anyway {max_wait / 3600:g} h after it began to wait:"
    )
    for product in waiting:
        waited = now - product.since
        left = max(max_wait - waited, 0)
        print(
            f"  {product.product_id}: waits {waited / 3600:.1f} h for "
            f"{', '.join(product.waiting_for)} (requested anyway in {left / 3600:.1f} h)"
        )
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    """Remove products from the catalog: what is stored for them and their partitions."""
    from renderfarm_dagster.catalog.removal import remove_product, stored_product
    from renderfarm_dagster.defs.partitions import products
    from renderfarm_dagster.deployment import storage

    instance = _instance()
    invalid = [p for p in args.products if not keys.ID_PATTERN.fullmatch(p)]
    if invalid:
        print(f"not product ids: {', '.join(invalid)}", file=sys.stderr)
        return EXIT_USAGE
    busy = _runs_in_progress(instance, args.products)
    if busy:
        for product_id, run_id in busy.items():
            print(
                f"{product_id}: run {run_id} is rendering it; remove it once that run ended",
                file=sys.stderr,
            )
        return EXIT_INVALID
    unknown = 0
    with storage() as resource:
        objects, checkpoints, index = resource.objects(), resource.checkpoints(), resource.inputs()
        for product_id in args.products:
            stored = stored_product(product_id, objects, checkpoints, index)
            registered = instance.has_dynamic_partition(products.name, product_id)
            if not stored.found and not registered:
                unknown += 1
                print(f"{product_id}: nothing stored and no partition", file=sys.stderr)
                continue
            verb = "would remove" if args.dry_run else "removed"
            print(
                f"{product_id}: {verb} {len(stored.objects)} object(s) "
                f"({_summary(stored.objects)}), {stored.checkpoints} checkpoint(s), "
                f"{len(stored.inputs)} input index edge(s) and its mark, "
                + ("its partition" if registered else "no partition (none registered)")
            )
            if args.dry_run:
                continue
            remove_product(stored, objects, checkpoints, index)
            if registered:
                instance.delete_dynamic_partition(products.name, product_id)
    if args.dry_run:
        print("dry run: nothing was removed")
    return EXIT_INVALID if unknown else EXIT_OK


def _summary(object_keys: Sequence[str]) -> str:
    """Object keys counted by their prefix: "1 specs/, 75 renders/, 1 manifests/"."""
    counts: dict[str, int] = {}
    for key in object_keys:
        prefix = key.split("/", 1)[0] + "/"
        counts[prefix] = counts.get(prefix, 0) + 1
    return ", ".join(f"{count} {prefix}" for prefix, count in counts.items()) or "none"


def _runs_in_progress(instance, product_ids: Sequence[str]) -> dict[str, str]:
    """The products among `product_ids` that a run not yet finished targets, with that run."""
    import dagster as dg

    from renderfarm_dagster.defs import tags
    from renderfarm_dagster.defs.partitions import products

    wanted = set(product_ids)
    order: list[str] | None = None
    busy: dict[str, str] = {}
    unfinished = [
        s
        for s in dg.DagsterRunStatus
        if s
        not in (
            dg.DagsterRunStatus.SUCCESS,
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED,
        )
    ]
    for run in instance.get_runs(
        filters=dg.RunsFilter(job_name="render_catalog", statuses=unfinished)
    ):
        if tags.PARTITION in run.tags:
            covered = {run.tags[tags.PARTITION]}
        elif tags.PARTITION_RANGE_START in run.tags:
            order = order or list(instance.get_dynamic_partitions(products.name))
            bounds = (run.tags[tags.PARTITION_RANGE_START], run.tags.get(tags.PARTITION_RANGE_END))
            if not set(bounds) <= set(order):
                continue  # a range whose ends were removed already: it cannot run
            covered = set(order[order.index(bounds[0]) : order.index(bounds[1]) + 1])
        else:
            continue
        for product_id in covered & wanted:
            busy.setdefault(product_id, run.run_id)
    return busy


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="renderfarm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="check spec and template files and list every problem"
    )
    validate.add_argument(
        "files", nargs="+", help="spec (.json) and template (.svg) files, or folders of them"
    )
    validate.set_defaults(handler=cmd_validate)
    submit = commands.add_parser(
        "submit",
        help="validate templates and specs, store them (templates/, specs/) and register the "
        "specs' partitions",
    )
    submit.add_argument(
        "files", nargs="+", help="spec (.json) and template (.svg) files, or folders of them"
    )
    submit.set_defaults(handler=cmd_submit)
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
    preview.set_defaults(handler=cmd_preview)
    status = commands.add_parser(
        "status", help="list the products that wait for photos, templates or fonts not stored yet"
    )
    status.set_defaults(handler=cmd_status)
    remove = commands.add_parser(
        "remove",
        help="remove products: their spec, outputs, manifest, contact sheet, checkpoints, input "
        "index entries and partition (photos and templates stay)",
    )
    remove.add_argument("products", nargs="+", metavar="PRODUCT", help="product ids")
    remove.add_argument(
        "--dry-run", action="store_true", help="say what would be removed, remove nothing"
    )
    remove.set_defaults(handler=cmd_remove)
    examples = commands.add_parser(
        "examples", help="store the bundled example specs in the inbox for the spec sensor"
    )
    examples.set_defaults(handler=cmd_examples)
    demo = commands.add_parser("demo", help="render the bundled example catalog through Dagster")
    demo.add_argument(
        "--workers", type=int, default=0, help="render processes (default: one per CPU)"
    )
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
