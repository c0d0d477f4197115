"""`python -m bench.scale` (`make scale`): a bulk drop of N specs through the real spec sensor,
`dagster-daemon` and run queue, with run launching replaced by a simulated ECS launcher.

Measured, from the first upload of the drop onto a running daemon: how long until every valid
product is in a queued run, the runs created, and the sensor's ticks. Simulated
(devkit/simulated_ecs.py): the task-hours those runs bill on Fargate Spot, the share of it spent
rendering and the cost per 1,000 products, beside the same products run one run per product
(the design before batching); and what 0.5% bad photos cost, each failing alone and requested
again once fixed, beside runs that fail whole. (`bench/drop.py`, the other half of `make
scale`, renders a drop with bad and late photos for real.) Render time per product comes from
`make bench`'s single-process throughput (bench/results.json). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import catalog
from bench.verdicts import judged
from devkit.simulated_ecs import GRAVITON_RENDER_RATE, SPOT_PRICES, FargateSpot, simulate
from renderfarm_dagster.defs import tags

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "scale_results.json"
DAEMON_LOG = Path(tempfile.gettempdir()) / "renderfarm-scale-daemon.log"
VARIANTS = 25
# One spec in this many is invalid, to be rejected on the way.
INVALID_EVERY = 1000
# One valid product in this many has a bad photo (0.5%), in the simulated fleet: it fails alone
# in its batch, and is requested again on its own once its photo is fixed.
BAD_PHOTO_EVERY = 200
TARGETS = {
    "queued_within_s": 600.0,  # 100,000 products on this machine kind
    "slowest_tick_s": 30.0,
    "runs_per_product": 1 / 25,
    "rendering_share": 0.85,
}
SENSOR = "spec_inbox_sensor"
POLL_S = 10


def dagster_yaml(home: Path, launched: Path, concurrency: int) -> None:
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(
        json.dumps(
            {
                "run_coordinator": {
                    "module": "dagster.core.run_coordinator",  # as deploy/dagster.yaml names it
                    "class": "QueuedRunCoordinator",
                    "config": {"max_concurrent_runs": concurrency},
                },
                "run_launcher": {
                    "module": "devkit.simulated_ecs",
                    "class": "RecordingRunLauncher",
                    "config": {"path": str(launched)},
                },
                "telemetry": {"enabled": False},
            }
        )
    )


def drop_specs(bucket: Path, products: int) -> list[str]:
    """Writes the specs as a bulk upload would; the ids of the valid ones."""
    folder = bucket / "specs"
    rng = random.Random(5)
    valid = []
    for index in range(products):
        doc = catalog.product_spec(index, VARIANTS, rng)
        product_id = f"scale-{index:06d}"
        doc["product_id"] = product_id
        if index % INVALID_EVERY == INVALID_EVERY - 1:
            doc["outputs"] = []  # invalid: a spec needs at least one output
        else:
            valid.append(product_id)
        (folder / f"{product_id}.json").write_text(json.dumps(doc))
    return valid


def sensor_runs(instance) -> tuple[list[list[str]], float]:
    """The products of every run the spec sensor created, and when the last run was created
    (a Unix time)."""
    order = list(instance.get_dynamic_partitions("products"))
    position = {product_id: i for i, product_id in enumerate(order)}
    runs, last_created = [], 0.0
    for record in instance.get_run_records():
        run = record.dagster_run
        if run.tags.get(tags.SENSOR_NAME) != SENSOR:
            continue
        last_created = max(last_created, record.create_timestamp.timestamp())
        if tags.PARTITION in run.tags:
            runs.append([run.tags[tags.PARTITION]])
            continue
        start = position.get(run.tags.get(tags.PARTITION_RANGE_START, ""))
        end = position.get(run.tags.get(tags.PARTITION_RANGE_END, ""))
        if start is not None and end is not None:
            runs.append(order[start : end + 1])
    return runs, last_created


def sensor_ticks(instance) -> list[float]:
    for state in instance.all_instigator_state():
        if state.instigator_name == SENSOR:
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=10_000)
            return [t.end_timestamp - t.timestamp for t in ticks if t.end_timestamp]
    return []


def seconds_per_product() -> float:
    """A 25-variant product's render time in a 1-vCPU task, from `make bench`'s figures."""
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    rounds = results["throughput"]["rounds"]["loop_1"]
    per_variant = statistics.median(r["seconds"] / r["variants"] for r in rounds)
    return per_variant * VARIANTS


def run_drop(products: int, concurrency: int, timeout_s: float) -> dict:
    import dagster as dg

    with tempfile.TemporaryDirectory(prefix="renderfarm-scale-") as temporary:
        folder = Path(temporary)
        home, data, launched = folder / "home", folder / "data", folder / "launched.jsonl"
        dagster_yaml(home, launched, concurrency)
        (data / "bucket" / "specs").mkdir(parents=True)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "RENDERFARM_DATA_DIR": str(data),
            "PYTHONPATH": str(ROOT),
            # As the deployments set it (docs/scale-and-performance.md, "Catalog scale").
            "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
        }
        log = (folder / "daemon.log").open("w")
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        os.environ["DAGSTER_HOME"] = str(home)
        # A drop lands on a running deployment: the clock starts with the first upload, once
        # the daemon is up and the sensor has ticked on an empty inbox.
        with dg.DagsterInstance.get() as instance:
            while not sensor_ticks(instance):
                if daemon.poll() is not None:
                    raise SystemExit(f"dagster-daemon exited; see {folder / 'daemon.log'}")
                time.sleep(1)
        started, started_at = time.monotonic(), time.time()
        valid = drop_specs(data / "bucket", products)
        print(f"dropped {products} specs in {time.monotonic() - started:.0f}s", flush=True)
        covered, runs, queued_s = 0, [], None
        try:
            with dg.DagsterInstance.get() as instance:
                while time.monotonic() - started < timeout_s:
                    # Each look reads every run and partition: not too often, so as not to
                    # slow what it measures.
                    time.sleep(POLL_S)
                    runs, last_created = sensor_runs(instance)
                    covered = len({p for run in runs for p in run})
                    print(
                        f"{time.monotonic() - started:6.0f}s: {covered} products in "
                        f"{len(runs)} runs",
                        flush=True,
                    )
                    if covered >= len(valid):
                        # From the runs' own creation times: exact, whenever this look came.
                        queued_s = last_created - started_at
                        break
                ticks = sensor_ticks(instance)
                rejected = len(list((data / "bucket" / "rejected").glob("*.error.json")))
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(60)
            log.close()
            # Kept for a look at where a tick's time went (the temporary folder goes).
            DAEMON_LOG.write_bytes((folder / "daemon.log").read_bytes())
        repeats = sum(len(run) for run in runs) - covered
    return {
        "products": products,
        "valid": len(valid),
        "rejected": rejected,
        "queued_s": queued_s,
        "covered": covered,
        "repeated": repeats,
        "runs": runs,
        "ticks": ticks,
    }


def bad_photo_costs(runs: list[list[str]], per_product: float, fleet: FargateSpot, batched) -> dict:
    """What 0.5% bad photos cost the drop's batches, simulated: as this project handles them
    (each fails alone at its first variant; once its photo is fixed, the photo's change requests
    it again in a run of its own: scattered products cannot share a range) and as a run failing
    whole would (its batch publishes nothing; once fixed, the batch runs again, rendering only
    the fixed products but paying a task)."""
    order = [p for run in runs for p in run]
    bad = set(order[BAD_PHOTO_EVERY - 1 :: BAD_PHOTO_EVERY])
    # A bad product stops at its first variant: the rest of its render is not spent.
    failing = per_product / VARIANTS
    drop = simulate([[failing if p in bad else per_product for p in run] for run in runs], fleet)
    stretches = [[per_product] for _ in bad]
    fixes = simulate(stretches, fleet, seed=2)
    affected = [run for run in runs if bad & set(run)]
    rerun = simulate([[per_product] * len(bad & set(run)) for run in affected], fleet, seed=3)
    billed = drop.billed_task_s + fixes.billed_task_s
    whole_billed = batched.billed_task_s + rerun.billed_task_s
    return {
        "bad": len(bad),
        "published_at_once": (len(order) - len(bad)) / len(order),
        "extra_runs": fixes.tasks,
        "extra_task_hours": (billed - batched.billed_task_s) / 3600,
        "rendering_share": (drop.rendering_s + fixes.rendering_s) / billed,
        "whole_batches": {
            "published_at_once": sum(len(r) for r in runs if r not in affected) / len(order),
            "extra_runs": rerun.tasks,
            "extra_task_hours": rerun.billed_task_s / 3600,
            "rendering_share": (batched.rendering_s + rerun.rendering_s) / whole_billed,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=FargateSpot.concurrency)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()

    drop = run_drop(args.products, args.concurrency, args.timeout)
    per_product = seconds_per_product()
    fleet = FargateSpot(concurrency=args.concurrency)
    batched = simulate([[per_product] * len(run) for run in drop["runs"]], fleet)
    one_each = simulate([[per_product]] * drop["valid"], fleet)
    bad_photos = bad_photo_costs(drop["runs"], per_product, fleet, batched)
    # The same runs on Graviton Spot: its price, and the render rate assumed for it.
    graviton = simulate(
        [[per_product / GRAVITON_RENDER_RATE] * len(run) for run in drop["runs"]],
        dataclasses.replace(fleet, price=SPOT_PRICES["ARM64"]),
    )
    ticks = drop["ticks"]
    busy = [t for t in ticks if t > 0.5]
    figures = {
        "products": drop["products"],
        "valid": drop["valid"],
        "rejected": drop["rejected"],
        "queued_s": drop["queued_s"],
        "runs": len(drop["runs"]),
        "runs_per_product": len(drop["runs"]) / max(drop["valid"], 1),
        "products_requested_twice": drop["repeated"],
        "ticks": len(ticks),
        "busy_ticks": len(busy),
        "slowest_tick_s": max(ticks, default=0.0),
        "median_busy_tick_s": statistics.median(busy) if busy else 0.0,
        "render_s_per_product": per_product,
        "fleet": dataclasses.asdict(fleet) | {"cold_start_s": list(fleet.cold_start_s)},
        "batched": vars(batched) | {"rendering_share": batched.rendering_share},
        "one_run_per_product": vars(one_each) | {"rendering_share": one_each.rendering_share},
        "bad_photos": bad_photos,
        "per_architecture": {
            "X86_64": {
                "price": vars(SPOT_PRICES["X86_64"]),
                "usd_per_1000_products": batched.cost_usd / (drop["valid"] / 1000),
            },
            "ARM64": {
                "price": vars(SPOT_PRICES["ARM64"]),
                "render_rate_vs_x86_64": GRAVITON_RENDER_RATE,
                "usd_per_1000_products": graviton.cost_usd / (drop["valid"] / 1000),
            },
        },
    }
    thousands = drop["valid"] / 1000
    rows = [
        (
            "specs dropped (invalid among them)",
            f"{drop['products']} ({drop['products'] - drop['valid']})",
        ),
        ("rejected with a report", f"{drop['rejected']}"),
        ("every valid product in a queued run after", f"{drop['queued_s'] or float('nan'):.0f} s"),
        ("runs created", f"{len(drop['runs'])} ({figures['runs_per_product']:.4f} per product)"),
        ("products requested twice", f"{drop['repeated']}"),
        ("sensor ticks (busy)", f"{len(ticks)} ({len(busy)})"),
        (
            "tick duration: slowest / median busy",
            f"{figures['slowest_tick_s']:.1f} s / {figures['median_busy_tick_s']:.1f} s",
        ),
        ("render time per product (make bench)", f"{per_product:.2f} s"),
        (
            "simulated task-hours: batched / one run each",
            f"{batched.billed_task_s / 3600:.1f} / {one_each.billed_task_s / 3600:.1f}",
        ),
        (
            "billed time rendering: batched / one run each",
            f"{batched.rendering_share:.1%} / {one_each.rendering_share:.1%}",
        ),
        (
            "spot interruptions retried: batched / one run each",
            f"{batched.interruptions} / {one_each.interruptions}",
        ),
        (
            "cost per 1,000 products: batched / one run each",
            f"${batched.cost_usd / thousands:.3f} / ${one_each.cost_usd / thousands:.3f}",
        ),
        (
            "cost per 1,000 products on Fargate Spot: x86_64 / ARM64 (Graviton)",
            f"${batched.cost_usd / thousands:.4f} / ${graviton.cost_usd / thousands:.4f} "
            f"({graviton.cost_usd / batched.cost_usd - 1:+.0%}; Graviton assumed to render at "
            f"{GRAVITON_RENDER_RATE:.1f}x the measured rate)",
        ),
        (
            "simulated makespan, batched",
            f"{batched.makespan_s / 3600:.2f} h on {fleet.concurrency} tasks",
        ),
        (
            f"with {bad_photos['bad']} bad photos ({1 / BAD_PHOTO_EVERY:.1%}): published at once",
            f"{bad_photos['published_at_once']:.1%} (a failed batch publishing nothing: "
            f"{bad_photos['whole_batches']['published_at_once']:.1%})",
        ),
        (
            "  extra runs once fixed: per product / whole batches",
            f"{bad_photos['extra_runs']} / {bad_photos['whole_batches']['extra_runs']}",
        ),
        (
            "  extra task-hours: per product / whole batches",
            f"{bad_photos['extra_task_hours']:.1f} / "
            f"{bad_photos['whole_batches']['extra_task_hours']:.1f}",
        ),
        (
            "  billed time rendering, fixes included: per product / whole batches",
            f"{bad_photos['rendering_share']:.1%} / "
            f"{bad_photos['whole_batches']['rendering_share']:.1%}",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    missed = []
    if drop["queued_s"] is None or drop["queued_s"] > TARGETS["queued_within_s"]:
        missed.append(f"every product queued within {TARGETS['queued_within_s']:.0f} s")
    if figures["slowest_tick_s"] > TARGETS["slowest_tick_s"]:
        missed.append(f"every tick under {TARGETS['slowest_tick_s']:.0f} s")
    if figures["runs_per_product"] > TARGETS["runs_per_product"]:
        missed.append("at most one run per 25 products")
    if batched.rendering_share < TARGETS["rendering_share"]:
        missed.append(f"at least {TARGETS['rendering_share']:.0%} of billed time rendering")
    if drop["repeated"]:
        missed.append("no product requested twice")
    return judged(figures, missed, args.results)


if __name__ == "__main__":
    sys.exit(main())
