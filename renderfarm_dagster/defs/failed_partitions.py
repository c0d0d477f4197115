"""Failing single partitions of a run over a range of products.

Dagster 1.13 shows a partition as failed when its latest planned materialisation (an
ASSET_MATERIALIZATION_PLANNED event naming that partition) belongs to a run that failed and no
materialisation of it followed (`build_failed_and_in_progress_partition_subset` in
dagster/_core/storage/partition_status_cache.py). A batch run plans its whole range in one
event that names no partition (DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS, README "Catalog
scale"), so a failed batch run leaves every partition as it was, and a step cannot fail one
partition of its range (dagster-io/dagster#17836). The event made for this,
AssetMaterializationFailure, is dropped by every open-source event log storage
(`EventLogStorage.can_store_asset_failure_events` is False).

So for each product that cannot be published the step logs the planned event Dagster itself
logs for a partition when a run is created without that switch, and the run fails at its end:
exactly those partitions are failed, the others keep the materialisations the step logged for
them. `DagsterEvent.build_asset_materialization_planned_event` and
`AssetMaterializationPlannedData` are private: this module is their only use, and
tests/defs/test_failed_partitions.py fails when Dagster moves them or stops reading them so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import dagster as dg
from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent


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
