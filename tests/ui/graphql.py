"""The GraphQL requests the Dagster UI sends, as the tests send them."""

from __future__ import annotations

from renderfarm_dagster.defs import tags
from tests.ui.dagster_ui import DagsterUI

LOCATION = "renderfarm"
REPOSITORY = "__repository__"
RENDER_ASSETS = [{"path": ["rendered_variants"]}, {"path": ["product_manifest"]}]


def stop_sensor(ui: DagsterUI, name: str) -> None:
    """The sensor's toggle in the UI."""
    data = ui.graphql(
        """query Sensor($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
             __typename ... on Sensor { sensorState { id status } } } }""",
        selector={
            "repositoryLocationName": LOCATION,
            "repositoryName": REPOSITORY,
            "sensorName": name,
        },
    )
    state_id = data["sensorOrError"]["sensorState"]["id"]
    stopped = ui.graphql(
        """mutation Stop($id: String!) { stopSensor(id: $id) { __typename
             ... on StopSensorMutationResult { instigationState { status } }
             ... on PythonError { message } } }""",
        id=state_id,
    )["stopSensor"]
    assert stopped["__typename"] == "StopSensorMutationResult", stopped
    assert stopped["instigationState"]["status"] == "STOPPED"


def launch_backfill(ui: DagsterUI, partition_names: list[str]) -> str:
    """ "Materialize" on the asset graph with partitions selected: an asset backfill."""
    data = ui.graphql(
        """mutation Launch($params: LaunchBackfillParams!) {
             launchPartitionBackfill(backfillParams: $params) { __typename
               ... on LaunchBackfillSuccess { backfillId }
               ... on PythonError { message stack }
               ... on PartitionSetNotFoundError { message } } }""",
        params={"partitionNames": partition_names, "assetSelection": RENDER_ASSETS, "tags": []},
    )["launchPartitionBackfill"]
    assert data["__typename"] == "LaunchBackfillSuccess", data
    return data["backfillId"]


def backfill(ui: DagsterUI, backfill_id: str) -> dict:
    return ui.graphql(
        """query Backfill($id: String!) { partitionBackfillOrError(backfillId: $id) {
             ... on PartitionBackfill { status numPartitions partitionNames
               runs { runId status tags { key value } } } } }""",
        id=backfill_id,
    )["partitionBackfillOrError"]


def wait_for_backfill(ui: DagsterUI, backfill_id: str) -> dict:
    # The backfill daemon looks at backfills every 30 s (Dagster's fixed interval).
    return ui.wait_for(
        lambda: (
            (b := backfill(ui, backfill_id))["status"] not in ("REQUESTED", "CANCELING")
            and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in b["runs"])
            and b
        ),
        f"backfill {backfill_id} to finish",
        timeout_s=300,
        every_s=2,
    )


def partition_statuses(ui: DagsterUI, asset: str) -> dict[str, list[str]]:
    data = ui.graphql(
        """query Statuses($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
             ... on AssetNode { assetPartitionStatuses { __typename
               ... on DefaultPartitionStatuses { materializedPartitions failedPartitions
                 unmaterializedPartitions materializingPartitions } } } } }""",
        key={"path": [asset]},
    )
    statuses = data["assetNodeOrError"]["assetPartitionStatuses"]
    return {
        name: sorted(statuses[f"{name}Partitions"])
        for name in ("materialized", "failed", "unmaterialized", "materializing")
    }


def launch_range_run(ui: DagsterUI, first: str, last: str) -> str:
    """A render run over a range of products, as the spec sensor requests a batch."""
    data = ui.graphql(
        """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) {
             __typename ... on LaunchRunSuccess { run { runId } }
             ... on PythonError { message } ... on RunConfigValidationInvalid { errors {
               message } } } }""",
        params={
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": REPOSITORY,
                "jobName": "render_catalog",
            },
            "executionMetadata": {
                "tags": [
                    {"key": tags.PARTITION_RANGE_START, "value": first},
                    {"key": tags.PARTITION_RANGE_END, "value": last},
                ]
            },
        },
    )["launchRun"]
    assert data["__typename"] == "LaunchRunSuccess", data
    return data["run"]["runId"]


def wait_for_run(ui: DagsterUI, run_id: str) -> str:
    """The run's status once it finished."""
    return ui.wait_for(
        lambda: (
            status
            if (
                status := ui.graphql(
                    """query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }""",
                    id=run_id,
                )["runOrError"]["status"]
            )
            in ("SUCCESS", "FAILURE", "CANCELED")
            else None
        ),
        f"run {run_id} to finish",
        timeout_s=300,
        every_s=2,
    )


def failure_reasons(ui: DagsterUI, asset: str, partitions: list[str]) -> dict[str, str]:
    """Each partition's latest failure, as the partition's observations show it in the UI."""
    data = ui.graphql(
        """query Observations($key: AssetKeyInput!, $partitions: [String!]) {
             assetNodeOrError(assetKey: $key) { ... on AssetNode {
               assetObservations(partitions: $partitions) { partition description
                 metadataEntries { label ... on TextMetadataEntry { text } } } } } }""",
        key={"path": [asset]},
        partitions=partitions,
    )
    reasons: dict[str, str] = {}
    for observation in data["assetNodeOrError"]["assetObservations"]:
        entries = {e["label"]: e.get("text") for e in observation["metadataEntries"]}
        reasons.setdefault(observation["partition"], entries["failed"])
    return reasons


def partition_stats(ui: DagsterUI, asset: str) -> dict[str, int]:
    """The counts the asset graph and the asset's overview show."""
    data = ui.graphql(
        """query Stats($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
             ... on AssetNode { partitionStats { numMaterialized numFailed numPartitions } } } }""",
        key={"path": [asset]},
    )
    return data["assetNodeOrError"]["partitionStats"]


def check_statuses(ui: DagsterUI, asset: str) -> dict[str, dict[str, list[str]]]:
    """Each check's partitions by status, as the asset's Checks tab shows them."""
    data = ui.graphql(
        """query Checks($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
             ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks { name
               partitionStatuses { ... on AssetCheckDefaultPartitionStatuses {
                 succeededPartitions failedPartitions executionFailedPartitions
                 skippedPartitions inProgressPartitions } } } } } } } }""",
        key={"path": [asset]},
    )
    checks = data["assetNodeOrError"]["assetChecksOrError"]["checks"]
    return {
        check["name"]: {
            status.removesuffix("Partitions"): sorted(keys)
            for status, keys in check["partitionStatuses"].items()
        }
        for check in checks
    }
