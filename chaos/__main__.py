"""`python -m chaos` (`make chaos`): render a catalog while run workers are killed at random.

Each episode renders the whole catalog into a fresh local deployment as production does: a run
worker (`renderfarm-worker dagster job execute`) over all the products, killed at a random
moment with SIGTERM (the spot warning: the run stores what it drew and exits) or SIGKILL (no
warning: the task and its processes vanish), then retried as the spot sensor retries it, until
a run completes. Afterwards every output must have the sha256 of a clean render, every manifest
the bytes of the clean one, and the run's checks must all have passed. Episodes run in the local
deployment and in an aws deployment on a moto server (S3, DynamoDB, SQS, SNS over real HTTP).
Prints the figures, writes chaos/results.json and exits 1 if anything was lost or corrupt.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from bench import catalog
from bench.steps import submit_catalog
from devkit import drops
from devkit.worker_run import launch_worker
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.rendering import render_products
from renderfarm_dagster.storage import CheckpointStore, OutputCheckpoint
from renderfarm_dagster.storage.local import LocalObjectStore, SqliteCheckpointStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "chaos" / "results.json"
ATTEMPT_TIMEOUT_S = 300
SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
# The product of every batch whose photo was cut short in its upload.
BAD_PRODUCT = "chaos-bad-photo"


def clean_render(folder: Path, data: Path) -> dict[str, str]:
    """Every output key of an uninterrupted render, with its sha256."""
    objects = LocalObjectStore(data / "bucket")
    checkpoints = SqliteCheckpointStore(data / "checkpoints.sqlite3")
    specs = submit_catalog(folder, objects)
    with RenderPool() as pool:
        for _ in render_products(specs, objects, checkpoints, pool, "clean"):
            pass
    return shas(checkpoints, [spec.product_id for spec in specs])


def checkpointed(checkpoints: CheckpointStore, ids: list[str]) -> list[OutputCheckpoint]:
    return [c for product_id in ids for c in checkpoints.read(product_id).values()]


def shas(checkpoints: CheckpointStore, ids: list[str]) -> dict[str, str]:
    """Output key -> its sha256."""
    return {c.key: c.sha256 for c in checkpointed(checkpoints, ids)}


def stored(checkpoints: CheckpointStore, ids: list[str]) -> dict[str, str]:
    """Output key -> the run that stored it."""
    return {c.key: c.run_id for c in checkpointed(checkpoints, ids)}


class Deployment:
    """A fresh deployment's environment, and the notifications published in it so far."""

    def __init__(self, environment: dict[str, str], read_notifications):
        self.environment = environment
        self._read = read_notifications

    def notifications(self) -> list[dict]:
        return self._read()


def local_deployment(workdir: Path) -> Deployment:
    data = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
    path = data / "notifications.jsonl"

    def notifications() -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return Deployment(
        {"RENDERFARM_DEPLOYMENT": "local", "RENDERFARM_DATA_DIR": str(data)}, notifications
    )


def moto_deployment(endpoint: str) -> Deployment:
    """A fresh aws deployment (bucket, table, queues, topics) on the moto server."""
    # The test suite's provisioning: what infra/ creates in an account, made with boto3.
    from devkit.aws import provision

    aws = provision(endpoint)
    received: list[dict] = []

    def notifications() -> list[dict]:
        received.extend(aws.notifications())  # drained from the queue subscribed to the topics
        return list(received)

    return Deployment(aws.environment(), notifications)


def episode(
    folder: Path,
    workdir: Path,
    deployment: Deployment,
    faults: int,
    rng: random.Random,
    run_seconds: float,
) -> dict:
    """The catalog rendered from scratch through `faults` killed attempts and a last one."""
    from renderfarm_dagster.deployment import storage

    # This process reads and checks the stores through the same deployment as the workers.
    os.environ.update(deployment.environment)
    with storage() as resource:
        return _episode(folder, workdir, deployment, resource, faults, rng, run_seconds)


def _episode(folder, workdir, deployment, resource, faults, rng, run_seconds) -> dict:
    import dagster as dg

    from renderfarm_dagster.catalog.inbox import submit_spec
    from renderfarm_dagster.defs import tags
    from renderfarm_dagster.defs.partitions import products
    from renderfarm_dagster.defs.spot_sensor import retry_request
    from renderfarm_dagster.deployment import cluster

    home = Path(tempfile.mkdtemp(prefix="home-", dir=workdir))
    (home / "dagster.yaml").write_text("")
    env = {**os.environ, **deployment.environment, "DAGSTER_HOME": str(home)}
    objects, checkpoints = resource.objects(), resource.checkpoints()
    good = [spec.product_id for spec in submit_catalog(folder, objects)]
    drops.store_template(objects)
    drops.store_photo(objects, BAD_PRODUCT, 0, "truncated")
    submit_spec(objects, drops.spec(BAD_PRODUCT), BAD_PRODUCT)
    # The bad product in the middle of the batch's range.
    middle = len(good) // 2
    ids = [*good[:middle], BAD_PRODUCT, *good[middle:]]
    config = workdir / "run-config.json"
    config.write_text(json.dumps({"loggers": {"console": {"config": {"log_level": "WARNING"}}}}))
    run_tags = {tags.PARTITION_RANGE_START: ids[0], tags.PARTITION_RANGE_END: ids[-1]}
    attempts, run_ids = [], []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(products.name, ids)
        for attempt in range(faults + 1):
            before = stored(checkpoints, good)
            runs_before = len(instance.get_run_ids())
            log = workdir / f"attempt-{len(attempts)}.log"
            launched = time.monotonic()
            worker = launch_worker(env, config, run_tags, log)
            fault, stored_at_fault = None, None
            if attempt < faults:
                fault = rng.choice(sorted(SIGNALS))
                # Anywhere in the attempt: start-up, rendering, publishing or checking.
                time.sleep(rng.uniform(0.2, 0.95 * run_seconds))
                if worker.poll() is None:
                    stored_at_fault = len(stored(checkpoints, good)) - len(before)
                    if fault == "SIGKILL":
                        os.killpg(worker.pid, signal.SIGKILL)  # the whole task vanishes
                    else:
                        worker.send_signal(signal.SIGTERM)
                else:
                    fault = None  # it finished first: not a fault
            try:
                worker.wait(timeout=ATTEMPT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                raise SystemExit(f"an attempt hung:\n{log.read_text()[-4000:]}") from None
            # Killed before `dagster job execute` created its run: nothing ran, nothing to
            # resume; production's daemon relaunches the run it created.
            run = (
                instance.get_runs(limit=1)[0] if len(instance.get_run_ids()) > runs_before else None
            )
            if run:
                run_ids.append(run.run_id)
            after = stored(checkpoints, good)
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
            # Complete: every product carried to its outcome, the bad one failed (the run
            # fails for it, says so in a tag, and is not retried).
            if run and tags.FAILED_PRODUCTS in run.tags and tags.INTERRUPTED not in run.tags:
                break
            if fault is None:
                raise SystemExit(f"an attempt failed without a fault:\n{log.read_text()[-4000:]}")
            if run:
                run_tags = dict(retry_request(run, sys.maxsize, cluster()).tags)
        else:
            raise SystemExit("the last attempt of an episode did not complete")
        evaluations = [
            record.event_log_entry.dagster_event.event_specific_data
            for run_id in run_ids
            for record in instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        ]
    manifests = {product_id: objects.get(f"manifests/{product_id}.json") for product_id in good}
    # Only the local store writes through temporary files; an S3 put is atomic.
    data_dir = deployment.environment.get("RENDERFARM_DATA_DIR")
    partial = list(Path(data_dir, "bucket").rglob(".partial-*")) if data_dir else []
    sent = deployment.notifications()
    rendered = [n for n in sent if n["event"] == "product_rendered"]
    failed = [n for n in sent if n["event"] == "render_failed"]
    announcements = {n["notification_id"]: n for n in rendered + failed}
    return {
        "attempts": attempts,
        "checks": len(evaluations),
        "checks_passed": sum(e.passed for e in evaluations),
        "products_unchecked": len(set(good) - {e.partition for e in evaluations}),
        "outputs": shas(checkpoints, good),
        "manifests": manifests,
        "bad_product_manifests": int(objects.head(f"manifests/{BAD_PRODUCT}.json") is not None),
        "partial_files_left": len(partial),
        # Announcements (by notification id) and the copies at-least-once delivery made of
        # them (SIGKILL between publishing one and recording it).
        "products_not_announced": len(set(good) - {n["product_id"] for n in rendered}),
        "announcements_per_product_max": max(
            Counter(n["product_id"] for n in announcements.values()).values(), default=0
        ),
        "bad_product_announced_failed": sum(
            1
            for n in announcements.values()
            if n["product_id"] == BAD_PRODUCT and n["event"] == "render_failed"
        ),
        "copies_sent": len(rendered) + len(failed) - len(announcements),
        "sigkills": sum(1 for a in attempts if a["fault"] == "SIGKILL"),
    }


def faulted_episodes(
    folder: Path,
    workdir: Path,
    new_deployment,
    faults: int,
    rng: random.Random,
    label: str,
) -> tuple[list[dict], bytes]:
    """Episodes until `faults` faults; also the manifests of an uninterrupted episode."""
    # An uninterrupted episode first: the reference manifests, and how long one attempt
    # takes, to spread the faults over all of it.
    uninterrupted = episode(folder, workdir, new_deployment(), 0, rng, 0)
    run_seconds = uninterrupted["attempts"][0]["seconds"]
    episodes, injected = [], 0
    while injected < faults:
        planned = min(rng.randint(2, 5), faults - injected)
        result = episode(folder, workdir, new_deployment(), planned, rng, run_seconds)
        injected += sum(1 for a in result["attempts"] if a["fault"])
        episodes.append(result)
        print(
            f"{label} episode {len(episodes)}: "
            + ", ".join(
                f"{a['fault']} at {a['stored_at_fault']} outputs" if a["fault"] else "completed"
                for a in result["attempts"]
            ),
            flush=True,
        )
    return episodes, uninterrupted["manifests"]


def summary(episodes: list[dict], reference: dict[str, str], manifests: dict) -> dict:
    attempts = [a for e in episodes for a in e["attempts"]]
    by_fault = {name: [a for a in attempts if a["fault"] == name] for name in sorted(SIGNALS)}
    return {
        "episodes": len(episodes),
        "faults": {name: len(found) for name, found in by_fault.items()},
        "faults_while_rendering": sum(1 for a in attempts if a["stored_at_fault"]),
        "outputs_lost": sum(len(set(reference) - set(e["outputs"])) for e in episodes),
        "outputs_corrupt": sum(
            1 for e in episodes for key, sha in e["outputs"].items() if reference.get(key) != sha
        ),
        "manifests_differing": sum(
            1 for e in episodes for pid, data in e["manifests"].items() if manifests[pid] != data
        ),
        "checks_passed": sum(e["checks_passed"] for e in episodes),
        "checks": sum(e["checks"] for e in episodes),
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
        "products_unchecked": sum(e["products_unchecked"] for e in episodes),
        # The product with the truncated photo: no manifest, one failure announced.
        "bad_product_manifests": sum(e["bad_product_manifests"] for e in episodes),
        "bad_product_failures_announced": [e["bad_product_announced_failed"] for e in episodes],
        "products_not_announced": sum(e["products_not_announced"] for e in episodes),
        "announcements_per_product_max": max(e["announcements_per_product_max"] for e in episodes),
        # Copies of one announcement: at least once delivery after a SIGKILL between publishing
        # and recording it; never without one.
        "copies_sent": sum(e["copies_sent"] for e in episodes),
        "copies_sent_without_sigkill": sum(e["copies_sent"] for e in episodes if not e["sigkills"]),
    }


def survived(figures: dict) -> bool:
    return (
        figures["outputs_lost"] == figures["outputs_corrupt"] == 0
        and figures["manifests_differing"] == 0
        and figures["checks"] > 0
        and figures["checks_passed"] == figures["checks"]
        and figures["products_unchecked"] == 0
        and figures["variants_redone_per_fault"]["SIGTERM"]["max"] <= 1
        and figures["bad_product_manifests"] == 0
        and set(figures["bad_product_failures_announced"]) == {1}
        and figures["products_not_announced"] == 0
        and figures["announcements_per_product_max"] == 1
        and figures["copies_sent_without_sigkill"] == 0
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos")
    parser.add_argument("--local-faults", type=int, default=30)
    parser.add_argument("--aws-faults", type=int, default=20, help="against a moto server")
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--variants", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # Dagster's preview notices; not chaos output
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
    rng = random.Random(args.seed)
    started = time.monotonic()
    results = {"products": args.products, "variants": args.products * args.variants}
    with tempfile.TemporaryDirectory(prefix="renderfarm-chaos-") as scratch:
        workdir = Path(scratch)
        folder = workdir / "catalog"
        catalog.write(folder, args.products, args.variants)
        reference = clean_render(folder, workdir / "reference")
        results["outputs"] = len(reference)
        deployments = {"local": (args.local_faults, lambda: local_deployment(workdir))}
        if args.aws_faults:
            from moto.server import ThreadedMotoServer

            from devkit.aws import CREDENTIALS

            os.environ.update(CREDENTIALS)
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            deployments["aws"] = (args.aws_faults, lambda: moto_deployment(endpoint))
        for name, (faults, new_deployment) in deployments.items():
            if faults:
                episodes, manifests = faulted_episodes(
                    folder, workdir, new_deployment, faults, rng, name
                )
                results[name] = summary(episodes, reference, manifests)
        if args.aws_faults:
            server.stop()
    results["seconds"] = round(time.monotonic() - started)
    results["seed"] = args.seed
    ok = all(survived(results[name]) for name in deployments if name in results)
    print(json.dumps(results, indent=2))
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print("chaos: " + ("everything survived" if ok else "SOMETHING WAS LOST, REDONE OR DOUBLED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
