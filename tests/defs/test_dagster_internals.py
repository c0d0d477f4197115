"""What defs/dagster_internals.py relies on in Dagster 1.13, checked: if one of these fails,
Dagster moved, and the module (or its reason to exist) must follow."""

import dagster as dg

from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.dagster_internals import plan_failed
from tests.defs.test_assets import failed_partitions

parts = dg.DynamicPartitionsDefinition(name="products")
ASSET = dg.AssetKey("some_products")


@dg.asset(key=ASSET, partitions_def=parts)
def some_products(context: dg.AssetExecutionContext):
    plan_failed(context, [ASSET], "p-2")
    raise dg.Failure("p-2 could not be made")


def run_range(instance):
    instance.add_dynamic_partitions("products", ["p-1", "p-2", "p-3"])
    return dg.materialize(
        [some_products],
        instance=instance,
        tags={
            tags.PARTITION_RANGE_START: "p-1",
            tags.PARTITION_RANGE_END: "p-3",
        },
        raise_on_error=False,
    )


def test_a_range_run_plans_its_partitions_in_one_event_naming_none(instance):
    # DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS (tests/conftest.py, as deployed).
    result = run_range(instance)
    planned = [
        record.event_log_entry.dagster_event.event_specific_data
        for record in instance.get_records_for_run(
            result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
    ]
    subsets = [p for p in planned if p.partitions_subset is not None]
    assert [sorted(s.partitions_subset.get_partition_keys()) for s in subsets] == [
        ["p-1", "p-2", "p-3"]
    ]
    # The one naming a partition is the step's own, for the product it failed.
    assert [p.partition for p in planned if p.partition] == ["p-2"]


def test_the_failed_run_fails_exactly_the_partition_the_step_planned(instance):
    result = run_range(instance)
    assert not result.success
    assert failed_partitions(instance, ASSET.path[-1]) == {"p-2"}


def test_open_source_storage_still_drops_asset_failure_events(instance):
    # The public AssetMaterializationFailure would say the same; Dagster 1.13's open-source
    # storages drop it. When this fails, use it instead of the planned event.
    assert instance.event_log_storage.can_store_asset_failure_events is False
