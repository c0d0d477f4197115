"""Measured steps, each run in a fresh process by `python -m bench`, reporting JSON on stdout.

A fresh process per step keeps one step's caches, worker pools and memory peaks out of the
next. Timings start after imports: they compare render loops, not interpreter start-up (which
`python -m bench` reports on its own line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import baseline
from bench.catalog import photo_files as catalog_photos
from renderfarm_dagster.catalog.batch import ProductBatch, Request
from renderfarm_dagster.catalog.inbox import submit_spec
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.messaging.local import FileNotifier
from renderfarm_dagster.render.process_memory import keep_freed_memory
from renderfarm_dagster.spec import ProductSpec, parse_spec
from renderfarm_dagster.storage import ObjectStore
from renderfarm_dagster.storage.local import LocalObjectStore, SqliteCheckpointStore


def load_catalog(folder: Path) -> list[ProductSpec]:
    return [parse_spec(path.read_bytes(), str(path)).spec for path in _spec_files(folder)]


def submit_catalog(folder: Path, objects: ObjectStore) -> list[ProductSpec]:
    """Every spec of the catalog stored in the inbox, as `renderfarm submit` does, before the
    timing starts: a run reads its specs from there."""
    return [
        submit_spec(objects, path.read_bytes(), str(path)).parsed.spec
        for path in _spec_files(folder)
    ]


def _spec_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def sample_variants(specs: list[ProductSpec], count: int) -> list[tuple[ProductSpec, str]]:
    """`count` variants spread over every product, so both templates are in the sample."""
    per_product = max(1, count // len(specs))
    picked = [(spec, v.variant_id) for spec in specs for v in spec.variants[:per_product]]
    return picked[:count]


def single_core(catalog: Path, variants: int, rounds: int) -> dict:
    """The project's render path against the baseline, on one CPU, alternating by round."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    # As in every process that renders (RenderPool); both sides share this process.
    keep_freed_memory()
    sample = sample_variants(load_catalog(catalog), variants)

    def project() -> None:
        for spec, variant_id in sample:
            render_spec_variant(spec, variant_id)

    def reference() -> None:
        for spec, variant_id in sample:
            baseline.render_variant(spec, variant_id)

    # First calls load fonts and warm caches; a warm worker is what production runs.
    project()
    reference()
    seconds: dict[str, list[float]] = {"project": [], "baseline": []}
    for _ in range(rounds):
        for name, loop in (("baseline", reference), ("project", project)):
            started = time.perf_counter()
            loop()
            seconds[name].append(time.perf_counter() - started)
    return {"variants": len(sample), "seconds": seconds}


def timed(function, total: list[float]):
    """`function`, adding the seconds each call takes to total[0]."""

    def call(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            total[0] += time.perf_counter() - started

    return call


def single_core_photos(catalog_folder: Path, variants: int, rounds: int) -> dict:
    """The same comparison on the photo catalog: each variant decodes, orients and fits its
    own 2000 x 2000 JPEG. Also the project's time spent decoding photos and finding their
    subjects (render/subject.py)."""
    from renderfarm_dagster.render import subject as subject_module
    from renderfarm_dagster.render import variant as variant_module

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    keep_freed_memory()
    photos = catalog_photos(catalog_folder)
    sample = [
        (spec, variant_id, {key: photos[key] for key in _photos_of(spec, variant_id)})
        for spec, variant_id in sample_variants(load_catalog(catalog_folder), variants)
    ]
    decoding, searching = [0.0], [0.0]
    decode, find_subject = variant_module.decode_photo, variant_module.find_subject
    variant_module.decode_photo = timed(decode, decoding)
    variant_module.find_subject = timed(find_subject, searching)

    def project() -> None:
        # Every variant has a photo of its own: none may come from the previous round's cache.
        variant_module._decoded_photos.clear()
        subject_module._found.clear()
        for spec, variant_id, used in sample:
            render_spec_variant(spec, variant_id, photos=used)

    def reference() -> None:
        for spec, variant_id, used in sample:
            baseline.render_variant(spec, variant_id, photos=used)

    project()
    reference()
    seconds: dict[str, list[float]] = {"project": [], "baseline": []}
    decode_seconds, subject_seconds = [], []
    for _ in range(rounds):
        for name, loop in (("baseline", reference), ("project", project)):
            decoding[0] = searching[0] = 0.0
            started = time.perf_counter()
            loop()
            seconds[name].append(time.perf_counter() - started)
            if name == "project":
                decode_seconds.append(decoding[0])
                subject_seconds.append(searching[0])
    return {
        "variants": len(sample),
        "seconds": seconds,
        "decode_seconds": decode_seconds,
        "subject_seconds": subject_seconds,
    }


# Titles and labels in the scripts the bundled fonts cover, mixed with Latin words and digits
# as catalog text is: bidirectional runs, Indic and Thai clusters, CJK breaking, fallbacks.
MIXED_TEXTS = [
    "ترمس نوردليشت 350 مل - Ærøskøbing Edition 2024",
    "ノルドリヒト 真空断熱タンブラー 350ml - 二重構造ステンレス製",
    "מעיל Summit ללא תפרים, 3 שכבות",
    "हाइकिंग जूते Trail Runner 2 - जलरोधक",
    "รองเท้าวิ่งเทรล Trail Runner รุ่น 2",
    "Ελληνικά: κρατά ζεστό · Русский: держит тепло",
]


def text_layout(catalog_folder: Path, variants: int, rounds: int) -> dict:
    """Text layout time per variant (every text layer shaped, wrapped and fitted, outlines
    made), on one CPU: the catalog's Latin text, then the same variants in mixed scripts.
    Uncached: set_text's per-process cache (which spares a product's variants their shared
    title, subtitle and price) is cleared before each pass."""
    from renderfarm_dagster.catalog.templates import bundled_template
    from renderfarm_dagster.layers import LayerValue
    from renderfarm_dagster.render import typeset
    from renderfarm_dagster.render.kinds import text as text_kind
    from renderfarm_dagster.render.layout import layout

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    sample = sample_variants(load_catalog(catalog_folder), variants)
    latin = [
        (bundled_template(spec.template).template, spec.layer_values(variant_id))
        for spec, variant_id in sample
    ]
    mixed = []
    for index, (template, values) in enumerate(latin):
        changed = dict(values)
        for offset, layer in enumerate(("title", "subtitle", "label")):
            text = MIXED_TEXTS[(index + offset) % len(MIXED_TEXTS)]
            changed[layer] = LayerValue(text=text)
        mixed.append((template, changed))
    spent = [0.0]
    text_kind.set_text = timed(text_kind.set_text, spent)

    def lay_out(jobs) -> float:
        typeset.set_text.cache_clear()
        spent[0] = 0.0
        for template, values in jobs:
            layout(template, values, 1)
        return spent[0]

    lay_out(latin)  # the first layouts load the fonts
    lay_out(mixed)
    seconds: dict[str, list[float]] = {"latin": [], "mixed": []}
    for _ in range(rounds):
        seconds["latin"].append(lay_out(latin))
        seconds["mixed"].append(lay_out(mixed))
    return {"variants": len(sample), "seconds": seconds}


def _photos_of(spec: ProductSpec, variant_id: str) -> set[str]:
    from renderfarm_dagster.render.kinds import photo_keys

    return photo_keys(spec.layer_values(variant_id))


def _render_workers_peak_rss_mib() -> list[float]:
    """VmHWM (peak resident memory) of this process's render workers.

    The workers are the forkserver's children, so grandchildren of this process; its direct
    children are the forkserver and multiprocessing's resource tracker.
    """
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name is in parentheses and may hold spaces: split after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    descendants, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier}
        descendants |= frontier
    workers = [pid for pid in descendants if parents[pid] != os.getpid()]
    return [_peak_rss_mib(pid) for pid in sorted(workers)]


def _peak_rss_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def render_loop(folder: Path, data_dir: Path, workers: int) -> dict:
    """The project's render loop alone: every product of the catalog rendered into a fresh
    local store, published and checked (catalog/batch.py), the work of the Dagster run without
    Dagster."""
    objects = LocalObjectStore(data_dir / "bucket")
    checkpoints = SqliteCheckpointStore(data_dir / "checkpoints.sqlite3")
    notifier = FileNotifier(data_dir / "notifications.jsonl")
    for key, data in catalog_photos(folder).items():
        objects.put(key, data, "image/jpeg")
    specs = submit_catalog(folder, objects)
    ids = [spec.product_id for spec in specs]
    started = time.perf_counter()
    with (
        RenderPool(workers) as pool,
        ProductBatch(ids, objects, checkpoints, notifier, pool, Request("bench", "bench")) as batch,
    ):
        rendered = 0
        for result in batch.results():
            if result.failed:
                raise SystemExit(
                    f"the bare loop could not publish {result.product_id}: {result.reason}"
                )
            batch.announce(result)
            rendered += result.report.rendered if result.report else 0
        # While the workers still run: their peak memory is read from /proc.
        workers_peak = _render_workers_peak_rss_mib() if pool.workers > 1 else []
    seconds = time.perf_counter() - started
    return {
        "variants": sum(len(spec.variants) for spec in specs),
        "outputs": rendered,
        "seconds": seconds,
        "workers": pool.workers,
        "worker_peak_rss_mib": workers_peak or [_peak_rss_mib()],
    }


def dagster_run(catalog: Path, workers: int) -> dict:
    """The same catalog materialised through Dagster, as `make demo` does, in one batch run.

    DAGSTER_HOME and RENDERFARM_DATA_DIR come from the environment (fresh folders).
    """
    import dagster as dg

    from renderfarm_dagster.definitions import defs
    from renderfarm_dagster.defs import tags
    from renderfarm_dagster.defs.partitions import products
    from renderfarm_dagster.deployment import storage

    with storage() as resource:
        specs = submit_catalog(catalog, resource.objects())
    ids = [spec.product_id for spec in specs]
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(products.name, ids)
    job = defs.resolve_job_def("render_catalog")
    database_before = _database_bytes()
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        run_config={"ops": {"render_products": {"config": {"workers": workers}}}},
        tags={tags.PARTITION_RANGE_START: ids[0], tags.PARTITION_RANGE_END: ids[-1]},
        raise_on_error=False,
    )
    seconds = time.perf_counter() - started
    database_after = _database_bytes()
    checks = result.get_asset_check_evaluations()
    stats = instance.get_run_step_stats(result.run_id)
    return {
        "database_growth": _growth(database_before, database_after),
        "event_bytes": _event_bytes_by_type(result.run_id),
        "variants": sum(len(spec.variants) for spec in specs),
        "products": len(specs),
        "seconds": seconds,
        "success": result.success,
        "checks_passed": sum(1 for check in checks if check.passed),
        "checks": len(checks),
        "step_seconds": {stat.step_key: stat.end_time - stat.start_time for stat in stats},
    }


def _postgres_connection():
    """The instance's PostgreSQL database (production_instance's environment), or None on
    SQLite."""
    if "DAGSTER_PG_HOST" not in os.environ:
        return None
    import psycopg2

    return psycopg2.connect(
        host=os.environ["DAGSTER_PG_HOST"],
        port=os.environ["DAGSTER_PG_PORT"],
        dbname=os.environ["DAGSTER_PG_DB"],
        user=os.environ["DAGSTER_PG_USERNAME"],
        password=os.environ["DAGSTER_PG_PASSWORD"],
        sslmode=os.environ.get("PGSSLMODE", "require"),
    )


def _on_postgres(read: Callable[[Any], Any]) -> Any:
    """`read(cursor)` on the instance's PostgreSQL database, or None on SQLite."""
    connection = _postgres_connection()
    if connection is None:
        return None
    try:
        with connection.cursor() as cursor:
            return read(cursor)
    finally:
        connection.close()


def _database_bytes() -> dict[str, int] | None:
    """What the instance's database takes on disk, by PostgreSQL: in all ("database") and by
    table, each with its indexes and TOAST."""

    def sizes(cursor) -> dict[str, int]:
        cursor.execute(
            "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        tables = dict(cursor.fetchall())
        cursor.execute("SELECT pg_database_size(current_database())")
        return {**tables, "database": cursor.fetchone()[0]}

    return _on_postgres(sizes)


def _growth(before: dict[str, int] | None, after: dict[str, int] | None) -> dict | None:
    """The tables that grew, and the whole database, in bytes."""
    if before is None or after is None:
        return None
    return {
        name: size - before.get(name, 0)
        for name, size in sorted(after.items())
        if size != before.get(name, 0)
    }


def _event_bytes_by_type(run_id: str) -> dict[str, dict[str, int]] | None:
    """The run's event-log rows by event type: how many, and their stored bytes."""

    def by_type(cursor) -> dict[str, dict[str, int]]:
        cursor.execute(
            "SELECT coalesce(dagster_event_type, 'LOG'), count(*), "
            "sum(pg_column_size(event)) FROM event_logs WHERE run_id = %s GROUP BY 1",
            (run_id,),
        )
        return {kind: {"rows": rows, "bytes": size} for kind, rows, size in cursor}

    return _on_postgres(by_type)


def preview_watch(rounds: int) -> dict:
    """`renderfarm preview --watch` on the bundled product-card set and an example spec: the
    seconds from each save to the first new preview on the page and to the last, for a save
    of a layout no output of the spec uses, of the main layout and of the spec."""
    import shutil
    import tempfile
    from importlib import resources

    from renderfarm_dagster.cli.preview_page import Watcher
    from renderfarm_dagster.storage.local import LocalObjectStore

    package = Path(str(resources.files("renderfarm_dagster")))
    examples, templates = package / "examples", package / "templates"
    figures: dict[str, list[list[float]]] = {"layout": [], "main_layout": [], "spec": []}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "work"
        folder.mkdir()
        for file in templates.glob("product-card*.svg"):
            shutil.copy(file, folder / file.name)
        shutil.copy(examples / "trail-runner-2.json", folder / "spec.json")
        watcher = Watcher(
            [str(folder)],
            LocalObjectStore(Path(scratch) / "bucket"),
            Path(scratch) / "out",
            str(examples / "assets"),
        )
        saves = {
            "layout": (folder / "product-card.story.svg", "Product title"),
            "main_layout": (folder / "product-card.svg", "Product title"),
            "spec": (folder / "spec.json", "Trail Runner 2"),
        }
        for round_ in range(rounds):
            for name, (path, text) in saves.items():
                replaced = path.read_text()
                replaced = replaced.replace(text, f"{text} {round_}", 1)
                path.write_text(replaced)
                figures[name].append(list(watcher.poll() or (0.0, 0.0)))
    return {"rounds": rounds, "seconds": figures}


def pool_bytes(catalog_folder: Path, variants: int) -> dict:
    """Bytes pickled to the render pool per variant, each job whole (before issue 29) and
    naming its inputs by sha256 (catalog/pool_inputs.py): `variants` variants of the photo
    catalog, then a 25-variant product whose template names a 20 MB brand font."""
    import dataclasses
    import hashlib
    import pickle

    from renderfarm_dagster.catalog.pool_inputs import InputFolder
    from renderfarm_dagster.catalog.product_inputs import ProductInputs
    from renderfarm_dagster.catalog.rendering import variant_job
    from renderfarm_dagster.catalog.templates import bundled_template
    from renderfarm_dagster.render.fonts import FontFace

    photos = catalog_photos(catalog_folder)
    jobs = []
    for spec, variant_id in sample_variants(load_catalog(catalog_folder), variants):
        used = {key: photos[key] for key in _photos_of(spec, variant_id)}
        shas = {key: hashlib.sha256(data).hexdigest() for key, data in used.items()}
        inputs = ProductInputs(spec, bundled_template(spec.template), shas, ())
        jobs.append(variant_job(inputs, variant_id, used))
    font = bytes(range(256)) * (20 * 1024 * 1024 // 256)
    face = FontFace("Acme Sans", False, "", "0" * 64)
    spec, variant_id = sample_variants(load_catalog(catalog_folder), 1)[0]
    used = {key: photos[key] for key in _photos_of(spec, variant_id)}
    shas = {key: hashlib.sha256(data).hexdigest() for key, data in used.items()}
    first = variant_job(
        ProductInputs(spec, bundled_template(spec.template), shas, ()), variant_id, used
    )
    font_jobs = [
        dataclasses.replace(first, variant_id=f"v{index}", fonts=((face, font),))
        for index in range(25)
    ]
    report = {}
    for name, sample in (("photo_catalog", jobs), ("font_product", font_jobs)):
        folder = InputFolder(queued_jobs=6)
        try:
            report[name] = {
                "whole": sum(len(pickle.dumps(job)) for job in sample) / len(sample),
                "by_sha256": sum(len(pickle.dumps(folder.pack(job))) for job in sample)
                / len(sample),
            }
        finally:
            folder.close()
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.steps")
    parser.add_argument(
        "step",
        choices=[
            "single-core",
            "single-core-photos",
            "text-layout",
            "loop",
            "dagster",
            "avif",
            "preview-watch",
            "pool-bytes",
        ],
    )
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--photo-catalog", type=Path)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--variants", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.step == "single-core":
        report = single_core(args.catalog, args.variants, args.rounds)
    elif args.step == "single-core-photos":
        report = single_core_photos(args.catalog, args.variants, args.rounds)
    elif args.step == "text-layout":
        report = text_layout(args.catalog, args.variants, args.rounds)
    elif args.step == "avif":
        from bench import avif

        report = avif.compare(args.catalog, args.photo_catalog, args.variants, args.rounds)
    elif args.step == "pool-bytes":
        report = pool_bytes(args.catalog, args.variants)
    elif args.step == "preview-watch":
        report = preview_watch(args.rounds)
    elif args.step == "loop":
        report = render_loop(args.catalog, args.data_dir, args.workers)
    else:
        report = dagster_run(args.catalog, args.workers)
    # The last line is the report; Dagster's own logging goes to stderr.
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
