"""Backfills as the UI launches them, through the real webserver and daemon (conftest.py)."""

import dagster as dg

from tests.ui.conftest import MISSING, PRODUCTS

CHECKS = ["manifest_matches_spec", "outputs_match_manifest", "outputs_are_valid_images"]
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def ranges(backfill: dict) -> dict[tuple[str, str], str]:
    """Each run's partition range and its status."""
    return {
        (tags[RANGE_START], tags[RANGE_END]): run["status"]
        for run in backfill["runs"]
        for tags in [{t["key"]: t["value"] for t in run["tags"]}]
    }


def test_a_backfill_of_every_product_batches_partitions_into_runs(backfills):
    assert backfills.first["numPartitions"] == 4
    assert ranges(backfills.first) == {
        ("city-commuter-bag", "nordlicht-thermobecher"): "SUCCESS",
        ("summit-jacket", "trail-runner-2"): "FAILURE",
    }
    assert backfills.after_first["materialized"] == PRODUCTS[:2]
    # The whole failed run's partitions are failed: trail-runner-2 was batched with the
    # product whose spec was missing.
    assert backfills.after_first["failed"] == PRODUCTS[2:]
    with dg.DagsterInstance.from_config(str(backfills.ui.home)) as instance:
        (failed_run,) = [run for run in backfills.first["runs"] if run["status"] == "FAILURE"]
        failures = [
            record.event_log_entry.dagster_event.event_specific_data.error.message
            for record in instance.get_records_for_run(
                failed_run["runId"], of_type=dg.DagsterEventType.STEP_FAILURE
            ).records
        ]
    assert any(f"specs/{MISSING}.json: $: no spec stored for this product" in f for f in failures)


def test_a_backfill_of_the_failed_subset_reruns_only_those_products(backfills):
    assert sorted(backfills.second["partitionNames"]) == PRODUCTS[2:]
    assert ranges(backfills.second) == {("summit-jacket", "trail-runner-2"): "SUCCESS"}
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
    # Every check ran and passed in both successful runs. (A batch run's check result names no
    # partition, dagster-io/dagster#18123: its problems name the product instead.)
    with dg.DagsterInstance.from_config(str(backfills.ui.home)) as instance:
        for run_id in successful:
            records = instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
            evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
            assert {e.check_name: e.passed for e in evaluations} == dict.fromkeys(CHECKS, True)
