"""`python -m bench.drop` (part of `make scale`): a catalog drop with bad and late photos,
rendered for real through the spec sensor, `dagster-daemon`, its run queue and run workers.

N small products on the uploaded lookbook template (devkit/drops.py), one photo each: 1% of the
photos are bad (truncated or over the pixel limit) and 1% arrive after their specs, once the
rest of the drop is in. Measured: the share of good products published, the bad ones the
instance shows failed (as the UI's "Failed" filter reads them), the runs beyond those the same
drop without failures needs, and the time from the last upload to the last manifest. Writes
bench/drop_results.json; exits 1 when a product is not carried to its outcome.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.verdicts import judged
from devkit import drops

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "drop_results.json"
BAD_EVERY = 100  # 1% bad photos, alternately truncated and over the pixel limit
LATE_EVERY = 100  # 1% photos uploaded after the rest of the drop
POLL_S = 5


def run_drop(products: int, timeout_s: float) -> dict:
    import dagster as dg

    from renderfarm_dagster.defs import dagster_internals
    from renderfarm_dagster.defs.assets import PRODUCT_MANIFEST, RENDERED_VARIANTS
    from renderfarm_dagster.defs.partitions import products as partitions
    from renderfarm_dagster.settings import max_products_per_run
    from renderfarm_dagster.storage.local import LocalObjectStore

    ids = drops.product_ids(products)
    bad = {p: ("truncated", "oversized")[i % 2] for i, p in enumerate(ids[7::BAD_EVERY])}
    late = [p for p in ids[53::LATE_EVERY] if p not in bad]
    good = [p for p in ids if p not in bad]
    with tempfile.TemporaryDirectory(prefix="renderfarm-drop-") as temporary:
        folder = Path(temporary)
        home, data = folder / "home", folder / "data"
        home.mkdir()
        # Runs one at a time, each with a render process per CPU: the machine's whole width.
        (home / "dagster.yaml").write_text(
            json.dumps(
                {
                    "run_queue": {"max_concurrent_runs": 1, "dequeue_interval_seconds": 1},
                    "telemetry": {"enabled": False},
                }
            )
        )
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "RENDERFARM_DEPLOYMENT": "local",
            "RENDERFARM_DATA_DIR": str(data),
            "PYTHONPATH": str(ROOT),
            # As the deployments set it (docs/scale-and-performance.md, "Catalog scale").
            "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
        }
        objects = LocalObjectStore(data / "bucket")
        log = (folder / "daemon.log").open("w")
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        os.environ.update(env)
        try:
            with dg.DagsterInstance.get() as instance:
                drops.store_template(objects)
                started, first_upload = time.monotonic(), time.time()
                for index, product_id in enumerate(ids):
                    objects.put(f"specs/{product_id}.json", drops.spec(product_id), "x")
                    if product_id not in late:
                        drops.store_photo(objects, product_id, index, bad.get(product_id))
                # The late photos come once the sensor has requested the rest of the drop:
                # their specs wait (no partition yet).
                wait_for(
                    lambda: (
                        len(instance.get_dynamic_partitions(partitions.name))
                        >= len(ids) - len(late)
                    ),
                    "the sensor to request the drop",
                    started,
                    timeout_s,
                    daemon,
                )
                for product_id in late:
                    drops.store_photo(objects, product_id, ids.index(product_id))
                last_upload = time.time()
                print(f"{time.monotonic() - started:6.0f}s: the late photos uploaded", flush=True)

                def settled():
                    manifests = sum(1 for _ in objects.list("manifests/"))
                    runs = runs_of(instance)
                    done = all(r.is_finished for r in runs)
                    print(
                        f"{time.monotonic() - started:6.0f}s: {manifests} manifests, "
                        f"{len(runs)} runs ({sum(not r.is_finished for r in runs)} not finished)",
                        flush=True,
                    )
                    return done and manifests >= len(good) and runs

                runs = wait_for(settled, "every product's outcome", started, timeout_s, daemon)
                last_manifest = max(
                    (data / "bucket" / "manifests" / f"{p}.json").stat().st_mtime for p in good
                )
                failed = {
                    key.path[-1]: dagster_internals.failed_partitions(instance, key, partitions)
                    for key in (RENDERED_VARIANTS, PRODUCT_MANIFEST)
                }
                notifications = [
                    json.loads(line)
                    for line in (data / "notifications.jsonl").read_text().splitlines()
                ]
                runs = [instance.get_run_by_id(r.run_id) for r in runs]
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(60)
            log.close()
        published = {
            n["product_id"] for n in notifications if n["event"] == "product_rendered"
        } & set(good)
        reported = {n["product_id"] for n in notifications if n["event"] == "render_failed"}
        # The runs the same drop needs when every photo is good and on time.
        needed = math.ceil(len(ids) / max_products_per_run())
        return {
            "products": len(ids),
            "bad": len(bad),
            "late": len(late),
            "good_published": len(published),
            "good": len(good),
            "bad_failed": {asset: len(keys & set(bad)) for asset, keys in failed.items()},
            "failed_not_bad": {asset: sorted(keys - set(bad)) for asset, keys in failed.items()},
            "bad_reported": len(reported & set(bad)),
            "runs": len(runs),
            "runs_needed_without_failures": needed,
            "run_tags": [
                {k: v for k, v in r.tags.items() if k.startswith("renderfarm/")} for r in runs
            ],
            "seconds_from_last_upload_to_last_manifest": last_manifest - last_upload,
            "seconds_from_first_upload_to_last_manifest": last_manifest - first_upload,
        }


def runs_of(instance) -> list:
    return list(instance.get_runs())


def wait_for(condition, what: str, started: float, timeout_s: float, daemon):
    while time.monotonic() - started < timeout_s:
        if daemon.poll() is not None:
            raise SystemExit(f"dagster-daemon exited while waiting for {what}")
        result = condition()
        if result:
            return result
        time.sleep(POLL_S)
    raise SystemExit(f"timed out after {timeout_s:.0f}s waiting for {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    figures = run_drop(args.products, args.timeout)
    share = figures["good_published"] / figures["good"]
    marked = min(figures["bad_failed"].values())
    extra = figures["runs"] - figures["runs_needed_without_failures"]
    rows = [
        (
            "products dropped (bad photos, late photos)",
            f"{figures['products']} ({figures['bad']}, {figures['late']})",
            "",
        ),
        ("good products published", f"{share:.1%} ({figures['good_published']})", "100%"),
        (
            "bad products failed in the instance, with a render_failed",
            f"{marked} of {figures['bad']} ({figures['bad_reported']} reported)",
            "all",
        ),
        (
            "runs (extra, beyond the drop without failures)",
            f"{figures['runs']} ({extra})",
            "reported",
        ),
        (
            "last upload to last manifest",
            f"{figures['seconds_from_last_upload_to_last_manifest']:.0f} s",
            "reported",
        ),
        (
            "first upload to last manifest",
            f"{figures['seconds_from_first_upload_to_last_manifest']:.0f} s",
            "reported",
        ),
    ]
    width = max(len(label) for label, _, _ in rows)
    print(f"{'figure':<{width}}  {'target':<8}  measured")
    for label, value, target in rows:
        print(f"{label:<{width}}  {target:<8}  {value}")
    missed = []
    if share < 1:
        missed.append("every good product published")
    if marked < figures["bad"] or figures["bad_reported"] < figures["bad"]:
        missed.append("every bad product failed and reported")
    if any(figures["failed_not_bad"].values()):
        missed.append("no good product failed")
    return judged(figures, missed, args.results)


if __name__ == "__main__":
    sys.exit(main())
