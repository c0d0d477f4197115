"""The `renderfarm` command: validate and submit specs and templates, preview them, and run the
demo catalog.

One module per command (or pair of related commands), each adding its subcommands to the parser
with their handler; files.py reads the files they are given, context.py holds what they share.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from renderfarm_dagster.cli import demo, preview, products, submit, validate

# In the order `renderfarm --help` lists them.
COMMAND_MODULES = (validate, submit, preview, products, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="renderfarm", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.add_to(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
