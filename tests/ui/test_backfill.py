"""Backfills as the UI launches them, through the real webserver and daemon (conftest.py)."""

import dagster as dg

from renderfarm_dagster.defs import tags
from tests.ui.conftest import MISSING, PRODUCTS

CHECKS = ["product_verified"]
RANGE_START, RANGE_END = tags.PARTITION_RANGE_START, tags.PARTITION_RANGE_END


def ranges(backfill: dict) -> dict[tuple[str, str], str]:
    """Each run's partition range and its status."""
    return {
        (run_tags[RANGE_START], run_tags[RANGE_END]): run["status"]
        for run in backfill["runs"]
        for run_tags in [{t["key"]: t["value"] for t in run["tags"]}]
    }


def test_a_backfill_of_every_product_batches_partitions_into_runs(backfills):
    assert backfills.first["numPartitions"] == 4
    assert ranges(backfills.first) == {
        ("city-commuter-bag", "nordlicht-thermobecher"): "SUCCESS",
        ("summit-jacket", "trail-runner-2"): "FAILURE",
    }
    # The run holding the product whose spec was missing failed, and only that product with
    # it: trail-runner-2, batched with it, is published.
    assert backfills.after_first["failed"] == [MISSING]
    assert backfills.after_first["materialized"] == [p for p in PRODUCTS if p != MISSING]
    with dg.DagsterInstance.from_config(str(backfills.ui.home)) as instance:
        (failed_run,) = [run for run in backfills.first["runs"] if run["status"] == "FAILURE"]
        failures = [
            record.event_log_entry.dagster_event.event_specific_data.error.message
            for record in instance.get_records_for_run(
                failed_run["runId"], of_type=dg.DagsterEventType.STEP_FAILURE
            ).records
        ]
        # Its good product's checks ran and passed, each recorded for that product.
        evaluations = [
            record.event_log_entry.dagster_event.event_specific_data
            for record in instance.get_records_for_run(
                failed_run["runId"], of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        ]
    assert any(f"specs/{MISSING}.json: $: no spec stored for this product" in f for f in failures)
    assert {(e.partition, e.check_name, e.passed) for e in evaluations} == {
        ("trail-runner-2", name, True) for name in CHECKS
    }


def test_a_backfill_of_the_failed_subset_reruns_only_those_products(backfills):
    assert backfills.second["partitionNames"] == [MISSING]
    assert ranges(backfills.second) == {(MISSING, MISSING): "SUCCESS"}
    for statuses in backfills.after_second.values():
        assert statuses["materialized"] == PRODUCTS
        assert statuses["failed"] == statuses["unmaterialized"] == []
    bucket = backfills.ui.bucket
    for product_id in PRODUCTS:
        assert (bucket / "manifests" / f"{product_id}.json").is_file()
        assert (bucket / "previews" / f"{product_id}.jpg").is_file()
    successful = [
        run["runId"]
        for backfill in (backfills.first, backfills.second)
        for run in backfill["runs"]
        if run["status"] == "SUCCESS"
    ]
    assert len(successful) == 2
    # Every check ran and passed for every product of both successful runs, each result
    # recorded for its own product.
    with dg.DagsterInstance.from_config(str(backfills.ui.home)) as instance:
        for run_id in successful:
            records = instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
            evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
            assert evaluations and all(e.passed for e in evaluations)
            products = {e.partition for e in evaluations}
            assert {(e.partition, e.check_name) for e in evaluations} == {
                (product, name) for product in products for name in CHECKS
            }
