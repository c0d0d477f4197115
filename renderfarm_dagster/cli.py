"""The `renderfarm` command: validate and submit specs, and run the demo catalog."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from renderfarm_dagster import keys
from renderfarm_dagster.spec import MAX_SPEC_BYTES, SpecError, SpecProblem, parse_spec

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _spec_files(paths: Sequence[str]) -> Iterator[Path]:
    """The files named, with folders expanded to the *.json files in them, in sorted order."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(path.glob("*.json"))
        else:
            yield path


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            # Reading one byte past the limit is enough to report an oversized file.
            return file.read(MAX_SPEC_BYTES + 1)
    except OSError as error:
        raise SpecError(
            str(path), [SpecProblem("$", f"cannot read file: {error.strerror}")]
        ) from None


def cmd_validate(args: argparse.Namespace) -> int:
    invalid = 0
    for path in _spec_files(args.specs):
        try:
            parsed = parse_spec(_read(path), str(path))
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


def _instance():
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        raise SystemExit(
            "DAGSTER_HOME is not set: products are registered in the Dagster instance that will "
            "render them. Set it to the folder `dagster dev` and `dagster job execute` use, e.g. "
            "export DAGSTER_HOME=$PWD/.dagster_home"
        )
    return dg.DagsterInstance.get()


def _submit(paths: Sequence[Path], instance, objects) -> tuple[list[str], int]:
    """Store valid specs and register their partitions; returns (product ids, rejected count)."""
    from renderfarm_dagster.catalog.inbox import submit_spec
    from renderfarm_dagster.defs.partitions import products

    submitted, unchanged, rejected = [], 0, []
    for index, path in enumerate(paths, start=1):
        prefix = f"[{index}/{len(paths)}]"
        try:
            submission = submit_spec(objects, _read(path), str(path))
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
    return submitted, len(rejected)


def cmd_submit(args: argparse.Namespace) -> int:
    from renderfarm_dagster.deployment import storage

    instance = _instance()
    with storage() as resource:
        _, rejected = _submit(list(_spec_files(args.specs)), instance, resource.objects())
    return EXIT_INVALID if rejected else EXIT_OK


def _bundled_examples() -> list[Traversable]:
    source = resources.files("renderfarm_dagster") / "examples"
    return sorted(
        (entry for entry in source.iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )


def _example_specs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in _bundled_examples():
        path = folder / entry.name
        path.write_bytes(entry.read_bytes())
        paths.append(path)
    return paths


def cmd_examples(args: argparse.Namespace) -> int:
    """Store the example specs in the inbox for the spec sensor, which registers and renders
    them (`make dev`). Unlike `submit`, this needs no Dagster instance."""
    from renderfarm_dagster.catalog.inbox import submit_spec
    from renderfarm_dagster.deployment import storage

    with storage() as resource:
        objects = resource.objects()
        for entry in _bundled_examples():
            submission = submit_spec(objects, entry.read_bytes(), f"examples/{entry.name}")
            product_id = submission.parsed.spec.product_id
            state = "stored" if submission.changed else "unchanged"
            print(f"{state} {keys.spec_key(product_id)}")
    print("the spec sensor registers these products and requests their runs on its next tick")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from renderfarm_dagster.definitions import defs
    from renderfarm_dagster.deployment import local_data_dir, storage

    if os.environ.get("RENDERFARM_DEPLOYMENT", "local") != "local":
        raise SystemExit(
            "renderfarm demo runs on the local deployment; unset RENDERFARM_DEPLOYMENT"
        )
    instance = _instance()
    data_dir = local_data_dir()
    print(f"Submitting the example catalog (Dagster instance: {os.environ['DAGSTER_HOME']})")
    with storage() as resource:
        products, _ = _submit(_example_specs(data_dir / "examples"), instance, resource.objects())
    job = defs.resolve_job_def("render_catalog")
    run_config = {
        "ops": {"rendered_variants": {"config": {"workers": args.workers}}},
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="renderfarm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check spec files and list every problem")
    validate.add_argument("specs", nargs="+", help="spec files or folders of *.json specs")
    validate.set_defaults(handler=cmd_validate)
    submit = commands.add_parser(
        "submit", help="validate specs, store them in the inbox and register their partitions"
    )
    submit.add_argument("specs", nargs="+", help="spec files or folders of *.json specs")
    submit.set_defaults(handler=cmd_submit)
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
