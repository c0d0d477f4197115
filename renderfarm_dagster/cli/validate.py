"""`renderfarm validate`: check spec, template and font files and print every problem."""

from __future__ import annotations

import argparse
import sys

from renderfarm_dagster.catalog.templates import TemplateSource
from renderfarm_dagster.cli.context import EXIT_INVALID, EXIT_OK
from renderfarm_dagster.cli.files import GivenFiles, input_files
from renderfarm_dagster.problems import FileProblems
from renderfarm_dagster.render.fonts import FontFace


def add_to(commands: argparse._SubParsersAction) -> None:
    validate = commands.add_parser(
        "validate", help="check spec and template files and list every problem"
    )
    validate.add_argument(
        "files", nargs="+", help="spec (.json) and template (.svg) files, or folders of them"
    )
    validate.set_defaults(handler=validate_files)


def validate_files(args: argparse.Namespace) -> int:
    from renderfarm_dagster.deployment import storage

    invalid = 0
    missing_fonts: set[str] = set()
    with storage() as resource:
        given = GivenFiles(resource.objects(), as_uploads=True)
        for path, checked in given.check(input_files(args.files)):
            if isinstance(checked, FileProblems):
                invalid += 1
                print(checked, file=sys.stderr)
                missing_fonts |= {
                    problem.missing_font
                    for problem in checked.problems
                    if getattr(problem, "missing_font", "")
                }
            elif isinstance(checked, FontFace):
                weight = "bold" if checked.bold else "regular"
                print(f"ok {path}: font family {checked.family!r} ({weight})")
            elif isinstance(checked, TemplateSource):
                layers = checked.template.layers.items()
                kinds = ", ".join(f"{name} ({layer.kind})" for name, layer in layers)
                print(f"ok {path}: template {checked.name!r}, layers {kinds or 'none'}")
                for warning in checked.template.warnings:
                    print(f"{path}: warning: {warning}", file=sys.stderr)
            else:
                spec = checked.spec
                print(
                    f"ok {path}: {spec.product_id}, "
                    f"{len(spec.variants)} variants x {len(spec.outputs)} outputs"
                )
    if missing_fonts:
        # All at once, after the files: what to upload before these templates can be.
        print(
            f"the catalog lacks {len(missing_fonts)} font(s) these templates name; upload "
            f"them (or .otf files) first: {', '.join(sorted(missing_fonts))}",
            file=sys.stderr,
        )
    return EXIT_INVALID if invalid else EXIT_OK
