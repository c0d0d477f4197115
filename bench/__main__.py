"""`python -m bench` (`make bench`): measure the render farm and judge it against its targets.

Prints a table and writes the figures as JSON (bench/results.json by default). Exits 1 when a
target is missed in a full run; `--quick` (a small catalog, one round) only checks that every
figure can be produced and judges nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from bench import catalog
from bench.steps import load_catalog
from devkit.postgres import (
    PostgresServer,
    create_database,
    production_instance,
    running_postgres,
    server_binaries,
)
from devkit.worker_run import launch_worker
from renderfarm_dagster.catalog.batches import output_megapixels, plan_batches
from renderfarm_dagster.catalog.pool import available_cpus
from renderfarm_dagster.catalog.spec_tick import run_sizing
from renderfarm_dagster.formats import AVIF_EFFORT, FORMATS
from renderfarm_dagster.render.subject import SEARCH_PX
from renderfarm_dagster.render.variant import renderer_versions
from renderfarm_dagster.storage.local import SqliteCheckpointStore

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results.json"
# A stuck step fails the benchmark instead of hanging `make bench`.
STEP_TIMEOUT_S = 600


@dataclass(frozen=True)
class Size:
    products: int
    variants: int
    rounds: int
    single_core_variants: int
    single_core_rounds: int
    resume_products: int
    interruptions: int
    photo_products: int
    photo_variants: int
    photo_single_core_variants: int
    avif_samples: int  # renditions of each catalog the AVIF comparison encodes
    drop_products: int  # a realistic drop, which the spec sensor cuts into runs
    batch_rounds: int  # rounds of the Dagster overhead at the sensor's batch size


FULL = Size(
    products=20,
    variants=25,
    rounds=5,
    single_core_variants=40,
    single_core_rounds=3,
    resume_products=4,
    interruptions=3,
    photo_products=20,
    photo_variants=25,
    photo_single_core_variants=40,
    avif_samples=3,
    drop_products=2000,
    batch_rounds=2,
)
QUICK = Size(
    products=4,
    variants=4,
    rounds=1,
    single_core_variants=4,
    single_core_rounds=3,
    resume_products=2,
    interruptions=1,
    photo_products=2,
    photo_variants=3,
    photo_single_core_variants=4,
    avif_samples=1,
    drop_products=40,
    batch_rounds=1,
)


def step(name: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run one measured step of bench/steps.py in a fresh process; its report."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.steps", name, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
    )
    if completed.returncode:
        raise SystemExit(f"bench step {name} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def fresh(workdir: Path, name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir))


def dagster_env(workdir: Path, postgres: PostgresServer | None = None) -> dict[str, str]:
    """A fresh Dagster instance and local deployment, as `make demo` uses: on SQLite, or on a
    fresh database of `postgres` with production's storage block (deploy/dagster.yaml)."""
    home, data = fresh(workdir, "dagster-home"), fresh(workdir, "data")
    config, database = "", {}
    if postgres is not None:
        name = f"bench_{home.name.replace('-', '_')}"
        create_database(postgres, name)
        config, database = production_instance(postgres, name)
    (home / "dagster.yaml").write_text(config)
    return {
        "DAGSTER_HOME": str(home),
        "RENDERFARM_DATA_DIR": str(data),
        "RENDERFARM_DEPLOYMENT": "local",
        # As every deployment sets it (docs/scale-and-performance.md, "Catalog scale").
        "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
        **database,
    }


def dagster_run(folder: Path, workdir: Path, cpus: int, server: PostgresServer | None) -> dict:
    """The catalog in `folder` through Dagster on a fresh instance (on `server`, or SQLite);
    its report. A failed run or check stops the benchmark: its time would mean nothing."""
    env = dagster_env(workdir, server)
    run = step("dagster", "--catalog", str(folder), "--workers", str(cpus), env=env)
    if not (run["success"] and run["checks_passed"] == run["checks"]):
        raise SystemExit(f"the Dagster run failed or a check did not pass: {run}")
    return run


def one_core_step(name: str, folder: Path, variants: int, rounds: int) -> dict:
    """A step that samples `variants` of the catalog in `folder` and times `rounds` passes."""
    return step(
        name, "--catalog", str(folder), "--variants", str(variants), "--rounds", str(rounds)
    )


def measure_single_core(folder: Path, size: Size) -> dict:
    report = one_core_step(
        "single-core", folder, size.single_core_variants, size.single_core_rounds
    )
    throughput = {
        side: report["variants"] / statistics.median(seconds)
        for side, seconds in report["seconds"].items()
    }
    return {**report, "variants_per_s": throughput}


def measure_text_layout(folder: Path, size: Size) -> dict:
    report = one_core_step(
        "text-layout", folder, size.single_core_variants, size.single_core_rounds
    )
    return {
        **report,
        "ms_per_variant": {
            kind: 1000 * statistics.median(seconds) / report["variants"]
            for kind, seconds in report["seconds"].items()
        },
    }


def measure_photos(workdir: Path, size: Size, cpus: int) -> dict:
    """The photo catalog: the render path against the baseline on one core (with the share of
    time spent decoding photos), then the render loop on every CPU for the workers' memory."""
    folder = workdir / "photo-catalog"
    catalog.write_photo_catalog(folder, size.photo_products, size.photo_variants)
    report = one_core_step(
        "single-core-photos", folder, size.photo_single_core_variants, size.single_core_rounds
    )
    project = statistics.median(report["seconds"]["project"])
    loop = step(
        "loop",
        "--catalog",
        str(folder),
        "--data-dir",
        str(fresh(workdir, "photo-loop")),
        "--workers",
        str(cpus),
    )
    pool_bytes = step(
        "pool-bytes", "--catalog", str(folder), "--variants", str(size.photo_single_core_variants)
    )
    return {
        **report,
        "pool_bytes_per_variant": pool_bytes,
        "variants_per_s": {
            side: report["variants"] / statistics.median(seconds)
            for side, seconds in report["seconds"].items()
        },
        "decode_share": statistics.median(report["decode_seconds"]) / project,
        "loop": loop,
        "worker_peak_rss_mib": max(loop["worker_peak_rss_mib"]),
    }


def measure_subject_fit(workdir: Path, size: Size) -> dict:
    """The photo catalog with every photo placed by its subject (`fit: "subject"`): the render
    path against the baseline (which contains the photo) on one core, and the search's time."""
    folder = workdir / "photo-catalog-subject"
    catalog.write_photo_catalog(folder, size.photo_products, size.photo_variants, fit="subject")
    report = one_core_step(
        "single-core-photos", folder, size.photo_single_core_variants, size.single_core_rounds
    )
    return {
        **report,
        "variants_per_s": {
            side: report["variants"] / statistics.median(seconds)
            for side, seconds in report["seconds"].items()
        },
        "ms_per_photo": 1000 * statistics.median(report["subject_seconds"]) / report["variants"],
    }


def measure_preview_watch(size: Size) -> dict:
    """`renderfarm preview --watch`: seconds from a save to the first and last new preview."""
    report = step("preview-watch", "--rounds", str(max(3, size.single_core_rounds)))
    return {
        **report,
        "median": {
            name: {
                "first": statistics.median(first for first, _ in pairs),
                "last": statistics.median(last for _, last in pairs),
            }
            for name, pairs in report["seconds"].items()
        },
    }


def measure_avif(folder: Path, workdir: Path, size: Size) -> dict:
    """AVIF's encoders against WebP at equal SSIM (bench/avif.py), then the render path against
    the baseline on one core with every output of the catalog in AVIF."""
    encoders = step(
        "avif",
        "--catalog",
        str(folder),
        "--photo-catalog",
        str(workdir / "photo-catalog"),
        "--variants",
        str(size.avif_samples),
        "--rounds",
        "1",
    )
    avif_folder = workdir / "catalog-avif"
    catalog.write_in_format(folder, avif_folder, "avif")
    return {"encoders": encoders, "single_core": measure_single_core(avif_folder, size)}


def measure_loops_and_dagster(
    folder: Path, workdir: Path, size: Size, cpus: int, postgres: PostgresServer
) -> dict:
    """The render loop on every CPU, the Dagster run on every CPU (on SQLite and on
    PostgreSQL) and the loop on 1 worker.

    They are measured round by round, back to back, the order reversed every other round, and
    each ratio is the median of the ratios within a round: on a shared machine the speed drifts
    by 10-20% from one minute to the next, and two runs made side by side share most of that
    drift where two medians taken minutes apart do not.
    """
    rounds: dict[str, list[dict]] = {
        "loop_1": [],
        "loop_all": [],
        "dagster": [],
        "dagster_postgres": [],
    }
    data_dirs: list[Path] = []

    def loop(key: str, workers: int) -> None:
        data_dirs.append(fresh(workdir, key))
        rounds[key].append(
            step(
                "loop",
                "--catalog",
                str(folder),
                "--data-dir",
                str(data_dirs[-1]),
                "--workers",
                str(workers),
            )
        )

    def dagster(key: str, server: PostgresServer | None) -> None:
        rounds[key].append(dagster_run(folder, workdir, cpus, server))

    steps = [
        lambda: loop("loop_all", cpus),
        lambda: dagster("dagster", None),
        lambda: dagster("dagster_postgres", postgres),
        lambda: loop("loop_1", 1),
    ]
    for index in range(size.rounds):
        for measure in reversed(steps) if index % 2 else steps:
            measure()
    variants = rounds["dagster"][0]["variants"]
    throughput = {
        key: variants / statistics.median(r["seconds"] for r in reports)
        for key, reports in rounds.items()
    }
    with_dagster = list(zip(rounds["loop_all"], rounds["dagster"], strict=True))
    with_postgres = list(zip(rounds["loop_all"], rounds["dagster_postgres"], strict=True))
    products = rounds["dagster"][0]["products"]
    with_one_worker = list(zip(rounds["loop_all"], rounds["loop_1"], strict=True))
    return {
        "variants": variants,
        "rounds": rounds,
        "variants_per_s": throughput,
        # Within each round: Dagster's throughput over the loop's, and the loop on every CPU
        # over `cpus` times the loop on one.
        "paired": {
            # The same work (render, publish, check) with and without Dagster.
            "dagster_with_checks": statistics.median(
                bare["seconds"] / run["seconds"] for bare, run in with_dagster
            ),
            # Dagster's cost per product, as a share of a product's render time in the bare
            # loop: (run - loop) / loop, the same for every product of the run.
            "overhead_per_product_sqlite": statistics.median(
                (run["seconds"] - bare["seconds"]) / bare["seconds"] for bare, run in with_dagster
            ),
            "overhead_per_product_postgres": statistics.median(
                (run["seconds"] - bare["seconds"]) / bare["seconds"] for bare, run in with_postgres
            ),
            "render_seconds_per_product": statistics.median(
                bare["seconds"] / products for bare in rounds["loop_all"]
            ),
            "parallel_efficiency": statistics.median(
                one["seconds"] / (cpus * every["seconds"]) for every, one in with_one_worker
            ),
        },
        "worker_peak_rss_mib": max(
            peak for report in rounds["loop_all"] for peak in report["worker_peak_rss_mib"]
        ),
        # An uninterrupted render, to compare the resumed one with.
        "reference_data_dir": str(data_dirs[-1]),
    }


def sensor_batch_size(folder: Path, drop_products: int) -> int:
    """The most products of one run the spec sensor requests for a drop of `drop_products`
    products like the catalog's: its own sizing (settings, catalog/batches.py), by their
    output pixels."""
    specs = load_catalog(folder)
    sizing = run_sizing()
    ids = [f"drop-{index:06d}" for index in range(drop_products)]
    seconds = {
        product_id: output_megapixels(specs[index % len(specs)]) / sizing.megapixels_per_s
        for index, product_id in enumerate(ids)
    }
    positions = {product_id: index for index, product_id in enumerate(ids)}
    batches = plan_batches(positions, seconds, sizing.target_s, sizing.max_products)
    return max(len(batch.product_ids) for batch in batches)


def measure_sensor_batch(
    folder: Path, workdir: Path, size: Size, cpus: int, postgres: PostgresServer
) -> dict:
    """Dagster's cost per product in a run of the sensor's batch size, on PostgreSQL and SQLite.

    Dagster's work per product (its events, its check, the partition's records) does not grow
    with the product's variants, so the run holds `batch` one-variant products of the catalog:
    the seconds Dagster adds per product are measured at the batch size in minutes, not the
    hours `batch` 25-variant products would take, and are then set against the render time of
    the catalog's product. The bare loop and both runs are measured side by side each round.
    """
    batch = sensor_batch_size(folder, size.drop_products)
    products = workdir / "batch-catalog"
    catalog.write(products, batch, 1)
    rounds: dict[str, list[dict]] = {"loop": [], "postgres": [], "sqlite": []}

    def loop() -> None:
        data = fresh(workdir, "batch-loop")
        argv = ["--catalog", str(products), "--data-dir", str(data), "--workers", str(cpus)]
        rounds["loop"].append(step("loop", *argv))

    def dagster(key: str, server: PostgresServer | None) -> None:
        rounds[key].append(dagster_run(products, workdir, cpus, server))

    steps = [loop, lambda: dagster("postgres", postgres), lambda: dagster("sqlite", None)]
    for index in range(size.batch_rounds):
        for measure in reversed(steps) if index % 2 else steps:
            measure()

    def added_per_product(key: str) -> float:
        return statistics.median(
            (run["seconds"] - bare["seconds"]) / batch
            for bare, run in zip(rounds["loop"], rounds[key], strict=True)
        )

    on_postgres = rounds["postgres"][-1]
    return {
        "drop_products": size.drop_products,
        "batch": batch,
        "rounds": rounds,
        "dagster_s_per_product": {
            "postgres": added_per_product("postgres"),
            "sqlite": added_per_product("sqlite"),
        },
        "event_log_bytes_per_product": sum(
            kind["bytes"] for kind in on_postgres["event_bytes"].values()
        )
        / batch,
        "database_bytes_per_product": on_postgres["database_growth"]["database"] / batch,
        "database_growth": on_postgres["database_growth"],
        "event_bytes": on_postgres["event_bytes"],
    }


def measure_resume(folder: Path, workdir: Path, size: Size, cpus: int) -> dict:
    """A batch run interrupted by SIGTERM `size.interruptions` times, each retry resuming.

    Each attempt runs as a run worker does in production (`renderfarm-worker dagster job
    execute`), with the tags the spot sensor gives a retry. After each attempt the checkpoints
    say which outputs it stored; an output or variant stored by more than one attempt was
    redone. Work the workers had started is stored during the shutdown, so nothing is drawn
    and then dropped unseen.
    """
    import dagster as dg

    from renderfarm_dagster.defs import tags

    with warnings.catch_warnings():
        # Dagster's beta/preview notices about APIs the definitions use; not bench output.
        warnings.simplefilter("ignore")
        from renderfarm_dagster.defs.spot_sensor import retry_request
        from renderfarm_dagster.deployment import cluster

    subset = sorted(folder.glob("*.json"))[: size.resume_products]
    specs = [json.loads(path.read_bytes()) for path in subset]
    ids = [spec["product_id"] for spec in specs]
    total_outputs = sum(len(s["variants"]) * len(s["outputs"]) for s in specs)
    total_variants = sum(len(s["variants"]) for s in specs)
    env = {**os.environ, **dagster_env(workdir)}
    subprocess.run(
        [str(BIN / "renderfarm"), "submit", *map(str, subset)],
        env=env,
        check=True,
        capture_output=True,
    )
    config = workdir / "resume-run-config.json"
    config.write_text(
        json.dumps(
            {
                "ops": {"render_products": {"config": {"workers": cpus}}},
                "loggers": {"console": {"config": {"log_level": "WARNING"}}},
            }
        )
    )
    checkpoints = SqliteCheckpointStore(Path(env["RENDERFARM_DATA_DIR"]) / "checkpoints.sqlite3")

    def stored() -> dict[tuple[str, str, str], str]:
        return {
            (product_id, variant_id, output): checkpoint.run_id
            for product_id in ids
            for (variant_id, output), checkpoint in checkpoints.read(product_id).items()
        }

    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    instance = dg.DagsterInstance.get()
    run_tags = {tags.PARTITION_RANGE_START: ids[0], tags.PARTITION_RANGE_END: ids[-1]}
    attempts = []
    for attempt in range(size.interruptions + 1):
        started = time.perf_counter()
        log = workdir / f"resume-attempt-{attempt}.log"
        worker = launch_worker(env, config, run_tags, log)
        interrupted_at = None
        if attempt < size.interruptions:
            # Spread over the work and off the products' boundaries (15%, 40%, 65% for three),
            # so that the signal finds variants being drawn.
            target = int(total_outputs * (attempt + 0.6) / (size.interruptions + 1))
            deadline = time.monotonic() + STEP_TIMEOUT_S
            while worker.poll() is None and len(stored()) < target:
                if time.monotonic() > deadline:
                    worker.kill()
                    raise SystemExit(f"attempt {attempt} stored under {target} outputs in time")
                time.sleep(0.05)
            if worker.poll() is not None:
                raise SystemExit(
                    f"attempt {attempt} ended before its SIGTERM:\n{log.read_text()[-4000:]}"
                )
            interrupted_at = len(stored())
            worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=STEP_TIMEOUT_S)
        expected_exit = 143 if interrupted_at is not None else 0
        if worker.returncode != expected_exit:
            raise SystemExit(
                f"attempt {attempt} exited {worker.returncode}:\n{log.read_text()[-4000:]}"
            )
        (run,) = instance.get_runs(limit=1)
        snapshot = stored()
        attempts.append(
            {
                "run_id": run.run_id,
                "status": run.status.value,
                "seconds": time.perf_counter() - started,
                "stored_when_signalled": interrupted_at,
                "outputs_stored": sorted(
                    "/".join(key) for key, run_id in snapshot.items() if run_id == run.run_id
                ),
            }
        )
        run_tags = dict(retry_request(run, sys.maxsize, cluster()).tags)
    instance.dispose()
    if attempts[-1]["status"] != "SUCCESS" or len(snapshot) != total_outputs:
        raise SystemExit(f"the last retry did not complete the batch: {attempts[-1]['status']}")
    outputs_stored = sum(len(a["outputs_stored"]) for a in attempts)
    variants_stored = sum(
        len({key.rsplit("/", 1)[0] for key in a["outputs_stored"]}) for a in attempts
    )
    for attempt in attempts:
        attempt["outputs_stored"] = len(attempt["outputs_stored"])
    return {
        "products": len(ids),
        "variants": total_variants,
        "outputs": total_outputs,
        "interruptions": size.interruptions,
        "attempts": attempts,
        "outputs_redone": outputs_stored - total_outputs,
        "variants_redone": variants_stored - total_variants,
        "product_ids": ids,
        "data_dir": env["RENDERFARM_DATA_DIR"],
    }


def same_outputs(product_ids: list[str], data_dir: str, reference_data_dir: str) -> bool:
    """Whether two renders of the same products stored byte-identical outputs."""
    stores = [
        SqliteCheckpointStore(Path(folder) / "checkpoints.sqlite3")
        for folder in (data_dir, reference_data_dir)
    ]
    for product_id in product_ids:
        resumed, reference = (store.read(product_id) for store in stores)
        if {k: c.sha256 for k, c in resumed.items()} != {k: c.sha256 for k, c in reference.items()}:
            return False
    return True


def startup_seconds(module: str) -> float:
    """Wall time of a fresh interpreter importing `module`: what each run pays before work."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - started


@dataclass(frozen=True)
class Figure:
    name: str
    measured: float
    shown: str
    target: str
    met: bool | None  # None: reported, no target


def figures(results: dict) -> list[Figure]:
    single = results["single_core"]["variants_per_s"]
    text = results["text_layout"]["ms_per_variant"]
    loops = results["throughput"]["variants_per_s"]
    resume = results["resume"]
    cpus = results["machine"]["cpus"]
    speedup = single["project"] / single["baseline"]
    paired = results["throughput"]["paired"]
    with_checks = paired["dagster_with_checks"]
    efficiency = paired["parallel_efficiency"]
    redone = resume["variants_redone"] / resume["interruptions"]
    peak = results["throughput"]["worker_peak_rss_mib"]
    photos = results["photos"]
    photo_single = photos["variants_per_s"]
    photo_speedup = photo_single["project"] / photo_single["baseline"]
    photo_loop = photos["loop"]["variants"] / photos["loop"]["seconds"]
    variants = results["throughput"]["variants"]
    on_postgres = paired["overhead_per_product_postgres"]
    on_sqlite = paired["overhead_per_product_sqlite"]
    per_product = paired["render_seconds_per_product"]
    per_variant_product = results["catalog"]["variants"]
    sensor_batch = results["sensor_batch"]
    batch_on_postgres = sensor_batch["dagster_s_per_product"]["postgres"] / per_product
    batch_on_sqlite = sensor_batch["dagster_s_per_product"]["sqlite"] / per_product
    event_log = sensor_batch["event_log_bytes_per_product"]
    subject = results["subject_fit"]
    subject_speedup = subject["variants_per_s"]["project"] / subject["variants_per_s"]["baseline"]
    watch = results["preview_watch"]["median"]
    slowest_first = max(figure["first"] for figure in watch.values())
    encoders = results["avif"]["encoders"]["summary"]
    avif_bytes = encoders["project"]["bytes_vs_webp"]
    avif_single = results["avif"]["single_core"]["variants_per_s"]
    avif_speedup = avif_single["project"] / avif_single["baseline"]
    vips_ms = encoders["project"]["ms"]
    pillow = min(
        (value for name, value in encoders.items() if name.startswith("pillow-")),
        key=lambda value: abs(value["bytes_vs_webp"] - avif_bytes),
    )
    return [
        Figure(
            "render path vs baseline, 1 core",
            speedup,
            f"{speedup:.2f}x ({single['project']:.1f} vs {single['baseline']:.1f} variants/s)",
            ">= 1.6x",
            speedup >= 1.6,
        ),
        Figure(
            "  text layout per variant, Latin (every text layer set by Pango, uncached)",
            text["latin"],
            f"{text['latin']:.2f} ms ({text['latin'] / 1000 * single['project']:.1%} of a "
            "variant's render)",
            "reported",
            None,
        ),
        Figure(
            "  text layout per variant, mixed scripts (Arabic, CJK, Indic, Thai, ...)",
            text["mixed"],
            f"{text['mixed']:.2f} ms ({text['mixed'] / text['latin']:.1f}x Latin)",
            "reported",
            None,
        ),
        Figure(
            "Dagster overhead per product on PostgreSQL (production's storage)",
            on_postgres,
            f"{on_postgres:.1%} of a {per_variant_product}-variant product's render time "
            f"({on_postgres * per_product:.3f} s of {per_product:.3f} s)",
            "<= 10%",
            on_postgres <= 0.10,
        ),
        Figure(
            "  the same on SQLite (the local deployment)",
            on_sqlite,
            f"{on_sqlite:.1%} ({on_sqlite * per_product:.3f} s per product)",
            "reported",
            None,
        ),
        Figure(
            f"  at the sensor's batch size ({sensor_batch['batch']} products a run, from a drop "
            f"of {sensor_batch['drop_products']})",
            batch_on_postgres,
            f"{batch_on_postgres:.1%} ({sensor_batch['dagster_s_per_product']['postgres']:.3f} s "
            f"per product; on SQLite {batch_on_sqlite:.1%})",
            "<= 10%",
            batch_on_postgres <= 0.10,
        ),
        Figure(
            "event-log bytes per product rendered, PostgreSQL",
            event_log,
            f"{event_log:,.0f} B: {_event_rows(sensor_batch)}",
            "<= 4 KB",
            event_log <= 4096,
        ),
        Figure(
            "  the database's growth per product (indexes, Dagster's other tables)",
            sensor_batch["database_bytes_per_product"],
            f"{sensor_batch['database_bytes_per_product']:,.0f} B: "
            + ", ".join(
                f"{table} {grown / sensor_batch['batch']:,.0f}"
                for table, grown in sorted(
                    sensor_batch["database_growth"].items(), key=lambda item: -item[1]
                )
                if table != "database" and grown
            ),
            "reported",
            None,
        ),
        Figure(
            f"Dagster run vs bare loop, {variants} variants rendered, published and checked",
            with_checks,
            f"{with_checks:.2f}x ({loops['dagster']:.1f} vs {loops['loop_all']:.1f} variants/s; "
            "each product's checks compare every stored sha256 and decode one output)",
            ">= 0.8x",
            with_checks >= 0.8,
        ),
        Figure(
            f"parallel efficiency, {cpus} workers vs 1",
            efficiency,
            f"{efficiency:.2f} ({loops['loop_all']:.1f} vs {loops['loop_1']:.1f} variants/s)",
            ">= 0.85",
            efficiency >= 0.85,
        ),
        Figure(
            "resume: variants redone per interruption",
            redone,
            f"{redone:.2f} ({resume['variants_redone']} in {resume['interruptions']} "
            f"SIGTERMs over {resume['variants']} variants; outputs identical to an "
            f"uninterrupted render: {'yes' if resume['identical'] else 'NO'})",
            "<= 1",
            redone <= 1 and resume["identical"],
        ),
        Figure("peak memory per render worker", peak, f"{peak:.0f} MiB", "reported", None),
        Figure(
            "photo catalog: render path vs baseline, 1 core",
            photo_speedup,
            f"{photo_speedup:.2f}x ({photo_single['project']:.1f} vs "
            f"{photo_single['baseline']:.1f} variants/s; a 2000x2000 JPEG per variant)",
            ">= 1.6x",
            photo_speedup >= 1.6,
        ),
        Figure(
            "  share of that time decoding photos",
            photos["decode_share"],
            f"{photos['decode_share']:.0%}",
            "reported",
            None,
        ),
        Figure(
            f"  {photos['loop']['variants']} photo variants on {photos['loop']['workers']} workers",
            photo_loop,
            f"{photo_loop:.1f} variants/s; peak memory per worker "
            f"{photos['worker_peak_rss_mib']:.0f} MiB",
            "reported",
            None,
        ),
        Figure(
            "  bytes sent to the render pool per variant (inputs by sha256)",
            photos["pool_bytes_per_variant"]["font_product"]["by_sha256"],
            "photo catalog {:,.0f} B (whole jobs: {:,.0f}); a product with a 20 MB font "
            "{:,.0f} B (whole: {:,.0f})".format(
                photos["pool_bytes_per_variant"]["photo_catalog"]["by_sha256"],
                photos["pool_bytes_per_variant"]["photo_catalog"]["whole"],
                photos["pool_bytes_per_variant"]["font_product"]["by_sha256"],
                photos["pool_bytes_per_variant"]["font_product"]["whole"],
            ),
            "reported",
            None,
        ),
        Figure(
            "photo catalog placed by subject: render path vs baseline, 1 core",
            subject_speedup,
            f"{subject_speedup:.2f}x ({subject['variants_per_s']['project']:.1f} vs "
            f"{subject['variants_per_s']['baseline']:.1f} variants/s; the baseline contains "
            "the photo, finding nothing)",
            ">= 1.6x",
            subject_speedup >= 1.6,
        ),
        Figure(
            "  finding the subject, per photo",
            subject["ms_per_photo"],
            f"{subject['ms_per_photo']:.1f} ms (libvips on a {SEARCH_PX} px copy)",
            "reported",
            None,
        ),
        Figure(
            "preview --watch: from a save to the first new preview",
            slowest_first,
            f"{slowest_first:.2f} s at most (a layout no output uses "
            f"{watch['layout']['first']:.2f} s, the main layout {watch['main_layout']['first']:.2f}"
            f" s, the spec {watch['spec']['first']:.2f} s)",
            "<= 1 s",
            slowest_first <= 1.0,
        ),
        Figure(
            "  ... to the last (every layout, and the spec's 14 variants x 3 outputs)",
            max(figure["last"] for figure in watch.values()),
            f"layout {watch['layout']['last']:.2f} s, main layout "
            f"{watch['main_layout']['last']:.2f} s, spec {watch['spec']['last']:.2f} s",
            "reported",
            None,
        ),
        Figure(
            "AVIF bytes vs WebP at equal SSIM, 1200 px",
            avif_bytes,
            f"{avif_bytes:.2f}x ({encoders['project']['bytes']:.0f} vs "
            f"{encoders['webp']['bytes']:.0f} B; encode {vips_ms:.0f} vs "
            f"{encoders['webp']['ms']:.0f} ms; libvips at effort {AVIF_EFFORT}, "
            f"quality {encoders['project']['quality']:.0f} vs WebP's "
            f"{FORMATS['webp'].default_quality})",
            "<= 0.8x",
            avif_bytes <= 0.8,
        ),
        Figure(
            "  Pillow's AVIF encoder at about the same bytes",
            pillow["ms"] / vips_ms,
            f"{pillow['ms']:.0f} ms vs libvips' {vips_ms:.0f} ms "
            f"({pillow['bytes_vs_webp']:.2f}x WebP's bytes)",
            "reported",
            None,
        ),
        Figure(
            "render path vs baseline, every output AVIF, 1 core",
            avif_speedup,
            f"{avif_speedup:.2f}x ({avif_single['project']:.1f} vs "
            f"{avif_single['baseline']:.1f} variants/s; baseline: Pillow's AVIF defaults)",
            ">= 1.6x",
            avif_speedup >= 1.6,
        ),
    ]


def _event_rows(sensor_batch: dict) -> str:
    """The run's event rows per product, by kind, largest first (the run's own events spread)."""
    kinds = sorted(sensor_batch["event_bytes"].items(), key=lambda item: -item[1]["bytes"])
    shown = [
        f"{kind.lower()} {found['bytes'] / sensor_batch['batch']:,.0f}" for kind, found in kinds[:2]
    ]
    rest = sum(found["bytes"] for _, found in kinds[2:]) / sensor_batch["batch"]
    return ", ".join([*shown, f"the run's other events {rest:,.0f}"])


def print_table(results: dict, rows: list[Figure], judged: bool) -> None:
    machine = results["machine"]
    print()
    print(
        f"renderfarm bench: {machine['cpus']} CPUs, Python {machine['python']}, "
        f"{results['catalog']['products']} products x {results['catalog']['variants']} variants "
        f"x 3 outputs; each ratio the median of {results['catalog']['rounds']} rounds measured "
        "side by side"
    )
    width = max(len(row.name) for row in rows)
    print(f"{'figure':<{width}}  {'target':<9} {'ok':<4} measured")
    for row in rows:
        verdict = "-" if row.met is None or not judged else ("yes" if row.met else "NO")
        print(f"{row.name:<{width}}  {row.target:<9} {verdict:<4} {row.shown}")
    print(
        "(process start and imports, not timed above: a Dagster run "
        f"{results['startup_s']['dagster']:.1f}s, the render loop "
        f"{results['startup_s']['render_loop']:.1f}s)"
    )
    if not judged:
        print("(quick run: targets are judged only on the full catalog)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small catalog, one round")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write figures")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    cpus = available_cpus()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="renderfarm-bench-") as scratch:
        workdir = Path(scratch)
        folder = workdir / "catalog"
        catalog.write(folder, size.products, size.variants)
        print(f"catalog: {size.products} products x {size.variants} variants in {folder}")
        print("measuring the render path against the baseline on one core ...", flush=True)
        single = measure_single_core(folder, size)
        print("measuring text layout per variant, Latin and mixed scripts ...", flush=True)
        text_layout = measure_text_layout(folder, size)
        binaries = server_binaries()
        if binaries is None:
            raise SystemExit(
                "PostgreSQL's server is not installed: `make test-packages` installs it"
            )
        print(
            f"measuring 1 worker, {cpus} workers and the Dagster run on SQLite and PostgreSQL ...",
            flush=True,
        )
        with running_postgres(binaries) as postgres:
            throughput = measure_loops_and_dagster(folder, workdir, size, cpus, postgres)
            print(
                f"Dagster at the spec sensor's batch size for a drop of {size.drop_products} "
                "products, on PostgreSQL and SQLite ...",
                flush=True,
            )
            sensor_batch = measure_sensor_batch(folder, workdir, size, cpus, postgres)
        print(
            f"photo catalog: {size.photo_products} products x {size.photo_variants} variants, "
            "the render path against the baseline on one core, then every worker ...",
            flush=True,
        )
        photos = measure_photos(workdir, size, cpus)
        print("the photo catalog placed by subject, on one core ...", flush=True)
        subject_fit = measure_subject_fit(workdir, size)
        print("renderfarm preview --watch: from a save to the new previews ...", flush=True)
        preview_watch = measure_preview_watch(size)
        print("AVIF against WebP at equal SSIM, and every output in AVIF on one core ...")
        avif = measure_avif(folder, workdir, size)
        print(f"interrupting a batch run {size.interruptions} time(s) ...", flush=True)
        resume = measure_resume(folder, workdir, size, cpus)
        resume["identical"] = same_outputs(
            resume.pop("product_ids"), resume.pop("data_dir"), throughput.pop("reference_data_dir")
        )
        results = {
            "machine": {
                "cpus": cpus,
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "renderer": renderer_versions(),
            "catalog": {
                "products": size.products,
                "variants": size.variants,
                "rounds": size.rounds,
            },
            "single_core": single,
            "text_layout": text_layout,
            "throughput": throughput,
            "sensor_batch": sensor_batch,
            "photos": photos,
            "subject_fit": subject_fit,
            "preview_watch": preview_watch,
            "avif": avif,
            "resume": resume,
            "startup_s": {
                "dagster": startup_seconds("renderfarm_dagster.definitions"),
                "render_loop": startup_seconds("renderfarm_dagster.catalog.rendering"),
            },
        }
    rows = figures(results)
    results["figures"] = [row.__dict__ for row in rows]
    results["seconds"] = time.perf_counter() - started
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results, rows, judged=not args.quick)
    print(f"figures written to {args.json} ({results['seconds']:.0f}s)")
    missed = [row.name for row in rows if row.met is False]
    if missed and not args.quick:
        print(f"missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
