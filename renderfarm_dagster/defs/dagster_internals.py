"""The private Dagster APIs the per-product outcomes of a batch run need, in one place.

A step over a range of products records each product on its own partition (defs/assets.py);
Dagster 1.13 has public ways to log a partition's materialisation and its check results, but
two things only its own code does, and this module does the same:

- **Failing one partition.** Dagster shows a partition as failed when its latest planned
  materialisation (an ASSET_MATERIALIZATION_PLANNED event naming that partition) belongs to a
  run that failed and no materialisation of it followed
  (dagster/_core/storage/partition_status_cache.py,
  `build_failed_and_in_progress_partition_subset`). A batch run plans its whole range in one
  event that names no partition (DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS,
  docs/scale-and-performance.md), so a failed batch run leaves every partition as it was, and
  a step cannot fail one partition of its range (dagster-io/dagster#17836). The event made for this,
  AssetMaterializationFailure, is dropped by every open-source event log storage
  (`can_store_asset_failure_events` is False). So for each product that cannot be published
  the step logs the planned event Dagster logs for a partition when a run is created without
  that switch, and the run fails at its end: exactly those partitions are failed.
- **Which materialisation a check result is about.** The UI shows a partition's check result
  only while it targets the partition's latest materialisation. Dagster's AssetCheckResult
  looks that materialisation up for the step's one partition; a range step gives each
  product's AssetCheckEvaluation the same target, built the same way.

Tests and `make scale` read the partitions the instance shows failed as the UI does, from
Dagster's partition status cache (`failed_partitions`), without a webserver.

`DagsterEvent.build_asset_materialization_planned_event`, `AssetMaterializationPlannedData`,
`AssetCheckEvaluationTargetMaterializationData` and `get_and_update_asset_status_cache_value`
are private: this module is their only use, and tests/defs/test_dagster_internals.py fails when
Dagster moves them or stops reading them so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value


def plan_failed(
    context: dg.AssetExecutionContext, asset_keys: Iterable[dg.AssetKey], partition_key: str
) -> None:
    """Log a planned materialisation of `partition_key` for each asset, in this run: the run's
    failure then marks that partition, and only it, failed."""
    step_key = str(context.op_execution_context.op_handle)
    for asset_key in asset_keys:
        event = DagsterEvent.build_asset_materialization_planned_event(
            context.run.job_name,
            step_key,
            AssetMaterializationPlannedData(asset_key, partition=partition_key),
        )
        context.instance.report_dagster_event(event, context.run.run_id, logging.DEBUG)


def latest_materialization(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition_key: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The partition's latest materialisation, as a check result's target."""
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition_key]), limit=1
    ).records
    if not found:
        return None
    record = found[0]
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
    )


def failed_partitions(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions_def: dg.PartitionsDefinition
) -> set[str]:
    """The partitions the instance shows as failed: what the UI's "Failed" filter lists."""
    status = get_and_update_asset_status_cache_value(instance, asset_key, partitions_def)
    if status is None:
        return set()
    return set(status.deserialize_failed_partition_subsets(partitions_def).get_partition_keys())
