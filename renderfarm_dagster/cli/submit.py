"""`renderfarm submit` and `renderfarm examples`: files stored where the spec sensor finds them,
brand fonts first, then the templates that may name them, then the specs that use those."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from renderfarm_dagster import keys
from renderfarm_dagster.cli.context import EXIT_INVALID, EXIT_OK, dagster_instance
from renderfarm_dagster.cli.files import (
    input_files,
    is_font,
    is_spec,
    is_template,
    read_font,
    read_spec,
    read_template,
)
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.fonts import FontError
from renderfarm_dagster.spec import SpecError
from renderfarm_dagster.storage import ObjectStore

if TYPE_CHECKING:
    import dagster as dg


def add_to(commands: argparse._SubParsersAction) -> None:
    submit = commands.add_parser(
        "submit",
        help="validate templates and specs, store them (templates/, specs/) and register the "
        "specs' partitions",
    )
    submit.add_argument(
        "files", nargs="+", help="spec (.json) and template (.svg) files, or folders of them"
    )
    submit.set_defaults(handler=submit_files)
    examples = commands.add_parser(
        "examples", help="store the bundled example specs in the inbox for the spec sensor"
    )
    examples.set_defaults(handler=store_examples)


def submit_files(args: argparse.Namespace) -> int:
    from renderfarm_dagster.deployment import storage

    instance = dagster_instance()
    with storage() as resource:
        _, rejected = submit(input_files(args.files), instance, resource.objects())
    return EXIT_INVALID if rejected else EXIT_OK


def submit(
    paths: Sequence[Path], instance: dg.DagsterInstance, objects: ObjectStore
) -> tuple[list[str], int]:
    """Store valid fonts, templates and specs, in that order so that each may use the ones
    before, and register the specs' partitions; returns (product ids, rejected count)."""
    from renderfarm_dagster.catalog.inbox import submit_spec
    from renderfarm_dagster.defs.partitions import products

    fonts_rejected = _submit_fonts(list(filter(is_font, paths)), objects)
    rejected: list[SpecError | TemplateError] = []
    rejected += _submit_templates(list(filter(is_template, paths)), objects)
    specs = list(filter(is_spec, paths))
    submitted, unchanged = [], 0
    for index, path in enumerate(specs, start=1):
        prefix = f"[{index}/{len(specs)}]"
        try:
            submission = submit_spec(objects, read_spec(path), str(path))
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


def _submit_fonts(paths: Sequence[Path], objects: ObjectStore) -> int:
    """Store the valid brand font files at fonts/<name>; the number rejected."""
    from renderfarm_dagster.catalog.fonts import submit_font

    rejected = 0
    for path in paths:
        try:
            changed = submit_font(objects, read_font(path), path.name)
        except FontError as error:
            rejected += 1
            print(f"rejected {path}: {error.reason}", file=sys.stderr)
            continue
        state = "submitted" if changed else "unchanged"
        print(f"{state} font {path.name} -> {keys.font_key(path.name)}")
    return rejected


def _submit_templates(paths: Sequence[Path], objects: ObjectStore) -> list[TemplateError]:
    """Store the valid template files at templates/<name>.svg (or <name>.<layout>.svg, main
    layouts first); the errors of the others."""
    from renderfarm_dagster.catalog.templates import submit_template

    rejected = []
    for path in sorted(paths, key=lambda path: path.name.count(".")):
        try:
            name, layout, data = read_template(path)
            template, changed = submit_template(objects, data, str(path), name, layout)
        except TemplateError as error:
            rejected.append(error)
            print(f"rejected {path}:", file=sys.stderr)
            print(error, file=sys.stderr)
            continue
        state = "submitted" if changed else "unchanged"
        print(f"{state} template {name} -> {keys.template_key(name, layout)}")
        for warning in template.warnings:
            print(f"{path}: warning: {warning}", file=sys.stderr)
    return rejected


def store_examples(args: argparse.Namespace) -> int:
    """Store the example photos, template and specs for the spec sensor, which registers and
    renders them (`make dev`). Unlike `submit`, this needs no Dagster instance."""
    from renderfarm_dagster.catalog.examples import example_specs
    from renderfarm_dagster.catalog.inbox import submit_spec
    from renderfarm_dagster.deployment import storage

    with storage() as resource:
        objects = resource.objects()
        store_example_inputs(objects)
        for entry in example_specs():
            submission = submit_spec(objects, entry.read_bytes(), f"examples/{entry.name}")
            product_id = submission.parsed.spec.product_id
            state = "stored" if submission.changed else "unchanged"
            print(f"{state} {keys.spec_key(product_id)}")
    print("the spec sensor registers these products and requests their runs on its next tick")
    return EXIT_OK


def store_example_inputs(objects: ObjectStore) -> None:
    """The example catalog's photos and uploaded template, stored."""
    from renderfarm_dagster.catalog.examples import store_example_inputs as store

    for key in store(objects):
        print(f"stored {key}")
