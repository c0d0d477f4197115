"""Per-partition metadata in a run of many partitions, without re-reading every partition key."""

import dagster as dg
import pytest

from renderfarm_dagster.defs.partition_metadata import PartitionMetadata

shelves = dg.DynamicPartitionsDefinition(name="shelves")
added: dict[str, bool] = {}
reads: list[str] = []


@dg.asset(partitions_def=shelves)
def shelf(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    keys = context.partition_keys
    metadata = PartitionMetadata(context, keys)
    added["fast"] = metadata.fast
    reads_before = len(reads)
    for key in keys:
        metadata.add(key, {"shelf": key})
    added["reads"] = len(reads) - reads_before
    with pytest.raises(dg.DagsterInvariantViolationError, match="not one this run"):
        metadata.add("elsewhere", {})
    return dg.MaterializeResult()


def test_each_partition_gets_its_own_metadata_without_reading_every_key_again(monkeypatch):
    read_keys = dg.DagsterInstance.get_dynamic_partitions

    def counted(self, partitions_def_name):
        reads.append(partitions_def_name)
        return read_keys(self, partitions_def_name)

    monkeypatch.setattr(dg.DagsterInstance, "get_dynamic_partitions", counted)
    instance = dg.DagsterInstance.ephemeral()
    keys = [f"s{index:03d}" for index in range(50)]
    instance.add_dynamic_partitions("shelves", keys)
    result = dg.materialize(
        [shelf],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "s000",
            "dagster/asset_partition_range_end": "s049",
        },
    )
    assert result.success
    # Dagster 1.13 keeps the step's metadata where PartitionMetadata adds to it: if this fails,
    # Dagster moved it, and each add reads every partition key again (correct but slow).
    assert added["fast"] is True
    assert added["reads"] == 0
    materialised = {
        event.partition: event.metadata["shelf"].value
        for event in result.asset_materializations_for_node("shelf")
    }
    assert materialised == {key: key for key in keys}
