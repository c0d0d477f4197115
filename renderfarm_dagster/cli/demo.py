"""`renderfarm demo` (what `make demo` runs): the example catalog submitted and rendered through
the render_catalog job, product by product, with a summary."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from renderfarm_dagster import keys
from renderfarm_dagster.cli.context import EXIT_INVALID, EXIT_OK, dagster_instance
from renderfarm_dagster.cli.submit import store_example_inputs, submit


def add_to(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="render the bundled example catalog through Dagster")
    demo.add_argument(
        "--workers", type=int, default=0, help="render processes (default: one per CPU)"
    )
    demo.set_defaults(handler=run_demo)


def _example_files(folder: Path) -> list[Path]:
    """The example specs copied to `folder`, to submit as files."""
    from renderfarm_dagster.catalog.examples import example_specs

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in example_specs():
        path = folder / entry.name
        path.write_bytes(entry.read_bytes())
        paths.append(path)
    return paths


def run_demo(args: argparse.Namespace) -> int:
    from renderfarm_dagster.definitions import defs
    from renderfarm_dagster.deployment import storage
    from renderfarm_dagster.settings import local_data_dir

    if os.environ.get("RENDERFARM_DEPLOYMENT", "local") != "local":
        raise SystemExit(
            "renderfarm demo runs on the local deployment; unset RENDERFARM_DEPLOYMENT"
        )
    instance = dagster_instance()
    data_dir = local_data_dir()
    print(f"Submitting the example catalog (Dagster instance: {os.environ['DAGSTER_HOME']})")
    with storage() as resource:
        store_example_inputs(resource.objects())
        products, _ = submit(_example_files(data_dir / "examples"), instance, resource.objects())
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
