"""`python -m chaos` (`make chaos`): render a catalog while run workers are killed at random.

Each episode renders the whole catalog into a fresh local deployment as production does: a run
worker (`renderfarm-worker dagster job execute`) over all the products, killed at a random
moment with SIGTERM (the spot warning: the run stores what it drew and exits) or SIGKILL (no
warning: the task and its processes vanish), then retried as the spot sensor retries it, until
a run completes. Afterwards every output must have the sha256 of a clean render, every manifest
the bytes of the clean one, and the run's checks must all have passed. Prints a table, writes
chaos/results.json and exits 1 if anything was lost or corrupt.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from bench import catalog
from bench.worker_run import launch_worker
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.rendering import render_products
from renderfarm_dagster.storage.local import LocalObjectStore, SqliteCheckpointStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "chaos" / "results.json"
ATTEMPT_TIMEOUT_S = 300
SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


def clean_render(folder: Path, data: Path) -> dict[str, str]:
    """Every output key of an uninterrupted render, with its sha256."""
    from renderfarm_dagster.catalog.inbox import submit_spec

    objects = LocalObjectStore(data / "bucket")
    checkpoints = SqliteCheckpointStore(data / "checkpoints.sqlite3")
    specs = [
        submit_spec(objects, path.read_bytes(), str(path)).parsed.spec
        for path in sorted(folder.glob("*.json"))
    ]
    with RenderPool() as pool:
        for _ in render_products(specs, objects, checkpoints, pool, "clean"):
            pass
    return {c.key: c.sha256 for spec in specs for c in checkpoints.read(spec.product_id).values()}


def stored(checkpoints: SqliteCheckpointStore, ids: list[str]) -> dict[str, str]:
    """Output key -> the run that stored it."""
    return {c.key: c.run_id for product_id in ids for c in checkpoints.read(product_id).values()}


def episode(
    folder: Path, workdir: Path, faults: int, rng: random.Random, run_seconds: float
) -> dict:
    """The catalog rendered from scratch through `faults` killed attempts and a last one."""
    import dagster as dg

    from renderfarm_dagster.defs import tags
    from renderfarm_dagster.defs.spot_sensor import retry_request

    home, data = (Path(tempfile.mkdtemp(prefix=p, dir=workdir)) for p in ("home-", "data-"))
    (home / "dagster.yaml").write_text("")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "RENDERFARM_DATA_DIR": str(data),
        "RENDERFARM_DEPLOYMENT": "local",
    }
    specs = sorted(folder.glob("*.json"))
    ids = [json.loads(path.read_bytes())["product_id"] for path in specs]
    from renderfarm_dagster.catalog.inbox import submit_spec
    from renderfarm_dagster.defs.partitions import products

    objects = LocalObjectStore(data / "bucket")
    for path in specs:
        submit_spec(objects, path.read_bytes(), str(path))
    checkpoints = SqliteCheckpointStore(data / "checkpoints.sqlite3")
    config = workdir / "run-config.json"
    config.write_text(json.dumps({"loggers": {"console": {"config": {"log_level": "WARNING"}}}}))
    run_tags = {tags.PARTITION_RANGE_START: ids[0], tags.PARTITION_RANGE_END: ids[-1]}
    attempts = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(products.name, ids)
        for attempt in range(faults + 1):
            before = stored(checkpoints, ids)
            runs_before = len(instance.get_run_ids())
            log = workdir / f"attempt-{len(attempts)}.log"
            launched = time.monotonic()
            worker = launch_worker(env, config, run_tags, log)
            fault, stored_at_fault = None, None
            if attempt < faults:
                fault = rng.choice(sorted(SIGNALS))
                # Anywhere in the attempt: start-up, rendering, the manifests or the checks.
                time.sleep(rng.uniform(0.2, 0.95 * run_seconds))
                if worker.poll() is None:
                    stored_at_fault = len(stored(checkpoints, ids)) - len(before)
                    if fault == "SIGKILL":
                        os.killpg(worker.pid, signal.SIGKILL)  # the whole task vanishes
                    else:
                        worker.send_signal(signal.SIGTERM)
                else:
                    fault = None  # it finished first: not a fault
            try:
                worker.wait(timeout=ATTEMPT_TIMEOUT_S)
            except TimeoutError:
                os.killpg(worker.pid, signal.SIGKILL)
                raise SystemExit(f"an attempt hung:\n{log.read_text()[-4000:]}") from None
            # Killed before `dagster job execute` created its run: nothing ran, nothing to
            # resume; production's daemon relaunches the run it created.
            run = (
                instance.get_runs(limit=1)[0] if len(instance.get_run_ids()) > runs_before else None
            )
            after = stored(checkpoints, ids)
            new = {key for key, run_id in after.items() if before.get(key) != run_id}
            attempts.append(
                {
                    "fault": fault,
                    # Outputs this attempt had stored when the fault struck (0: in start-up).
                    "stored_at_fault": stored_at_fault,
                    "exit": worker.returncode,
                    "seconds": round(time.monotonic() - launched, 2),
                    "status": run.status.value if run else "never created",
                    "outputs_stored": len(new),
                    "outputs_redone": len(new & set(before)),
                    "variants_redone": len({k.rsplit("/", 1)[0] for k in new & set(before)}),
                }
            )
            if run and run.status == dg.DagsterRunStatus.SUCCESS:
                break
            if fault is None:
                raise SystemExit(f"an attempt failed without a fault:\n{log.read_text()[-4000:]}")
            if run:
                run_tags = dict(retry_request(run, escalate_after=sys.maxsize).tags)
        else:
            raise SystemExit("the last attempt of an episode did not succeed")
        check_results = [
            record.event_log_entry.dagster_event.event_specific_data.passed
            for record in instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        ]
    manifests = {product_id: objects.get(f"manifests/{product_id}.json") for product_id in ids}
    partial = [p for p in (data / "bucket").rglob(".partial-*")]
    return {
        "attempts": attempts,
        "checks": len(check_results),
        "checks_passed": sum(check_results),
        "outputs": {c.key: c.sha256 for pid in ids for c in checkpoints.read(pid).values()},
        "manifests": manifests,
        "partial_files_left": len(partial),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos")
    parser.add_argument("--faults", type=int, default=50, help="faults to inject in all")
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--variants", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # Dagster's preview notices; not chaos output
    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="renderfarm-chaos-") as scratch:
        workdir = Path(scratch)
        folder = workdir / "catalog"
        catalog.write(folder, args.products, args.variants)
        reference = clean_render(folder, workdir / "reference")
        # An uninterrupted episode: the reference manifests, and how long one attempt takes,
        # to spread the faults over all of it.
        uninterrupted = episode(folder, workdir, 0, rng, 0)
        reference_manifests = uninterrupted["manifests"]
        run_seconds = uninterrupted["attempts"][0]["seconds"]
        episodes, injected = [], 0
        while injected < args.faults:
            faults = min(rng.randint(2, 5), args.faults - injected)
            result = episode(folder, workdir, faults, rng, run_seconds)
            injected += sum(1 for a in result["attempts"] if a["fault"])
            episodes.append(result)
            print(
                f"episode {len(episodes)}: "
                + ", ".join(
                    f"{a['fault']} at {a['stored_at_fault']} outputs" if a["fault"] else "completed"
                    for a in result["attempts"]
                ),
                flush=True,
            )
    attempts = [a for e in episodes for a in e["attempts"]]
    by_fault = {name: [a for a in attempts if a["fault"] == name] for name in sorted(SIGNALS)}
    lost = sum(len(set(reference) - set(e["outputs"])) for e in episodes)
    corrupt = sum(
        1 for e in episodes for key, sha in e["outputs"].items() if reference.get(key) != sha
    )
    manifests_differing = sum(
        1
        for e in episodes
        for pid, data in e["manifests"].items()
        if reference_manifests.get(pid) != data
    )
    results = {
        "products": args.products,
        "variants": args.products * args.variants,
        "outputs": len(reference),
        "episodes": len(episodes),
        "faults": {name: len(found) for name, found in by_fault.items()},
        "faults_while_rendering": sum(1 for a in attempts if a["stored_at_fault"]),
        "outputs_lost": lost,
        "outputs_corrupt": corrupt,
        "manifests_differing": manifests_differing,
        "checks_passed": f"{sum(e['checks_passed'] for e in episodes)}"
        f"/{sum(e['checks'] for e in episodes)}",
        # Variants stored again by a later attempt. (Variants being drawn when SIGKILL struck
        # were never stored, so are not counted: at most 3 per render worker.)
        "variants_redone_per_fault": {
            name: {
                "max": max((a["variants_redone"] for a in found), default=0),
                "mean": round(statistics.mean(a["variants_redone"] for a in found), 2)
                if found
                else 0,
            }
            for name, found in by_fault.items()
        },
        "partial_files_left": sum(e["partial_files_left"] for e in episodes),
        "seconds": round(time.monotonic() - started),
        "seed": args.seed,
    }
    ok = (
        lost == corrupt == manifests_differing == 0
        and all(e["checks"] and e["checks_passed"] == e["checks"] for e in episodes)
        and results["variants_redone_per_fault"]["SIGTERM"]["max"] <= 1
    )
    print(json.dumps(results, indent=2))
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print("chaos: " + ("everything survived" if ok else "SOMETHING WAS LOST OR REDONE"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
