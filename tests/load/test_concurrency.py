"""Load: runs and render jobs at once over the same products, in one local deployment.

Whatever interleaves, every manifest is whole and matches the checkpoints, every checkpoint
names an intact object, and no half-written file is left behind.
"""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from devkit.worker_run import launch_worker
from renderfarm_dagster.catalog.inbox import load_spec, submit_spec
from renderfarm_dagster.catalog.manifest import Manifest, build_manifest
from renderfarm_dagster.catalog.product_inputs import load_inputs
from renderfarm_dagster.catalog.verify import manifest_problems, stored_output_problems
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.storage.local import LocalObjectStore, SqliteCheckpointStore
from tests.conftest import SMALL_SPEC, spec_bytes

PRODUCTS = ["load-a", "load-b", "load-c"]
# Five runs over overlapping partition ranges; two of them are retries (attempt 1).
RUNS = [("load-a", "load-b", 0), ("load-b", "load-c", 0), ("load-a", "load-c", 1),
        ("load-a", "load-a", 0), ("load-c", "load-c", 1)]  # fmt: skip
RENDER_JOB = """
import sys
from renderfarm_dagster.catalog.batch import ProductBatch, Request
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.messaging.local import FileNotifier
from renderfarm_dagster.storage.local import LocalObjectStore, SqliteCheckpointStore
data, run_id, *product_ids = sys.argv[1:]
objects = LocalObjectStore(f"{data}/bucket")
checkpoints = SqliteCheckpointStore(f"{data}/checkpoints.sqlite3")
notifier = FileNotifier(f"{data}/notifications.jsonl")
request = Request(run_id, run_id)
with RenderPool(1) as pool, ProductBatch(
    product_ids, objects, checkpoints, notifier, pool, request
) as batch:
    for result in batch.results():
        assert not result.failed, result.reason
        batch.announce(result)
"""


@pytest.fixture
def catalog(tmp_path):
    data = tmp_path / "renderfarm-data"
    objects = LocalObjectStore(data / "bucket")
    for product_id in PRODUCTS:
        submit_spec(objects, spec_bytes({**SMALL_SPEC, "product_id": product_id}), product_id)
    return data


def assert_consistent(data: Path) -> None:
    objects = LocalObjectStore(data / "bucket")
    checkpoints = SqliteCheckpointStore(data / "checkpoints.sqlite3")
    for product_id in PRODUCTS:
        parsed = load_spec(objects, product_id)
        stored = objects.get(f"manifests/{product_id}.json")
        manifest = Manifest.from_bytes(stored)  # whole: a torn write would not parse
        inputs = load_inputs(parsed.spec, objects)
        assert stored == build_manifest(parsed, inputs, checkpoints.read(product_id)).to_bytes()
        assert manifest_problems(manifest, parsed.spec) == []
        assert stored_output_problems(manifest, objects) == ([], [])
    leftovers = [p for p in (data / "bucket").rglob("*") if p.name.startswith(".partial-")]
    assert leftovers == []


def test_five_concurrent_runs_over_overlapping_partitions(catalog, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    env = {**os.environ, "DAGSTER_HOME": str(home), "RENDERFARM_DATA_DIR": str(catalog)}
    env.pop("RENDERFARM_DEPLOYMENT", None)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(products.name, PRODUCTS)
    config = tmp_path / "one-worker.yaml"
    config.write_text("ops:\n  render_products:\n    config:\n      workers: 1\n")
    runs = [
        launch_worker(
            env,
            config,
            {
                tags.PARTITION_RANGE_START: start,
                tags.PARTITION_RANGE_END: end,
                tags.INTERRUPTIONS: str(attempt),
            },
            tmp_path / f"run-{index}.log",
        )
        for index, (start, end, attempt) in enumerate(RUNS)
    ]
    for index, run in enumerate(runs):
        run.wait(timeout=300)
        assert run.returncode == 0, (tmp_path / f"run-{index}.log").read_text()[-3000:]
    assert_consistent(catalog)


def test_ten_concurrent_render_jobs_over_the_same_products(catalog):
    jobs = [
        subprocess.Popen(
            [sys.executable, "-c", RENDER_JOB, str(catalog), f"job-{index}", *order],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index in range(10)
        for order in [PRODUCTS if index % 2 else PRODUCTS[::-1]]
    ]
    for job in jobs:
        output = job.communicate(timeout=300)[0]
        assert job.returncode == 0, output[-3000:]
    assert_consistent(catalog)
