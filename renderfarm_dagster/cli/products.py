"""`renderfarm status` and `renderfarm remove`: the products waiting for their inputs, and
removing products from the catalog (docs/outcomes.md)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from renderfarm_dagster import keys
from renderfarm_dagster.cli.context import EXIT_INVALID, EXIT_OK, EXIT_USAGE, dagster_instance


def add_to(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser(
        "status", help="list the products that wait for photos, templates or fonts not stored yet"
    )
    status.set_defaults(handler=show_waiting)
    remove = commands.add_parser(
        "remove",
        help="remove products: their spec, outputs, manifest, contact sheet, checkpoints, input "
        "index entries and partition (photos and templates stay)",
    )
    remove.add_argument("products", nargs="+", metavar="PRODUCT", help="product ids")
    remove.add_argument(
        "--dry-run", action="store_true", help="say what would be removed, remove nothing"
    )
    remove.set_defaults(handler=remove_products)


def show_waiting(args: argparse.Namespace) -> int:
    """The products that wait for inputs not stored yet, and what each waits for."""
    from renderfarm_dagster.catalog.waiting import waiting_products
    from renderfarm_dagster.deployment import storage
    from renderfarm_dagster.settings import max_wait_seconds

    now, max_wait = time.time(), max_wait_seconds()
    with storage() as resource:
        waiting = list(waiting_products(resource.objects(), resource.inputs()))
    if not waiting:
        print("no product waits for its inputs")
        return EXIT_OK
    print(
        f"{len(waiting)} product(s) wait for inputs not stored yet; each is requested when the "
        f"last arrives, or anyway {max_wait / 3600:g} h after it began to wait:"
    )
    for product in waiting:
        waited = now - product.since
        left = max(max_wait - waited, 0)
        print(
            f"  {product.product_id}: waits {waited / 3600:.1f} h for "
            f"{', '.join(product.waiting_for)} (requested anyway in {left / 3600:.1f} h)"
        )
    return EXIT_OK


def remove_products(args: argparse.Namespace) -> int:
    """Remove products from the catalog: what is stored for them and their partitions."""
    from renderfarm_dagster.catalog.removal import remove_product, stored_product
    from renderfarm_dagster.defs.partitions import products
    from renderfarm_dagster.deployment import storage

    instance = dagster_instance()
    invalid = [p for p in args.products if not keys.ID_PATTERN.fullmatch(p)]
    if invalid:
        print(f"not product ids: {', '.join(invalid)}", file=sys.stderr)
        return EXIT_USAGE
    busy = _runs_in_progress(instance, args.products)
    if busy:
        for product_id, run_id in busy.items():
            print(
                f"{product_id}: run {run_id} is rendering it; remove it once that run ended",
                file=sys.stderr,
            )
        return EXIT_INVALID
    unknown = 0
    with storage() as resource:
        objects, checkpoints, index = resource.objects(), resource.checkpoints(), resource.inputs()
        for product_id in args.products:
            stored = stored_product(product_id, objects, checkpoints, index)
            registered = instance.has_dynamic_partition(products.name, product_id)
            if not stored.found and not registered:
                unknown += 1
                print(f"{product_id}: nothing stored and no partition", file=sys.stderr)
                continue
            verb = "would remove" if args.dry_run else "removed"
            print(
                f"{product_id}: {verb} {len(stored.objects)} object(s) "
                f"({_summary(stored.objects)}), {stored.checkpoints} checkpoint(s), "
                f"{len(stored.inputs)} input index edge(s) and its mark, "
                + ("its partition" if registered else "no partition (none registered)")
            )
            if args.dry_run:
                continue
            remove_product(stored, objects, checkpoints, index)
            if registered:
                instance.delete_dynamic_partition(products.name, product_id)
    if args.dry_run:
        print("dry run: nothing was removed")
    return EXIT_INVALID if unknown else EXIT_OK


def _summary(object_keys: Sequence[str]) -> str:
    """Object keys counted by their prefix: "1 specs/, 75 renders/, 1 manifests/"."""
    counts: dict[str, int] = {}
    for key in object_keys:
        prefix = key.split("/", 1)[0] + "/"
        counts[prefix] = counts.get(prefix, 0) + 1
    return ", ".join(f"{count} {prefix}" for prefix, count in counts.items()) or "none"


def _runs_in_progress(instance, product_ids: Sequence[str]) -> dict[str, str]:
    """The products among `product_ids` that a run not yet finished targets, with that run."""
    import dagster as dg

    from renderfarm_dagster.defs import tags
    from renderfarm_dagster.defs.partitions import products

    wanted = set(product_ids)
    order: list[str] | None = None
    busy: dict[str, str] = {}
    unfinished = [
        s
        for s in dg.DagsterRunStatus
        if s
        not in (
            dg.DagsterRunStatus.SUCCESS,
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED,
        )
    ]
    for run in instance.get_runs(
        filters=dg.RunsFilter(job_name="render_catalog", statuses=unfinished)
    ):
        if tags.PARTITION in run.tags:
            covered = {run.tags[tags.PARTITION]}
        elif tags.PARTITION_RANGE_START in run.tags:
            order = order or list(instance.get_dynamic_partitions(products.name))
            bounds = (run.tags[tags.PARTITION_RANGE_START], run.tags.get(tags.PARTITION_RANGE_END))
            if not set(bounds) <= set(order):
                continue  # a range whose ends were removed already: it cannot run
            covered = set(order[order.index(bounds[0]) : order.index(bounds[1]) + 1])
        else:
            continue
        for product_id in covered & wanted:
            busy.setdefault(product_id, run.run_id)
    return busy
