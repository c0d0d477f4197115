"""The GraphQL requests the Dagster UI sends, as the tests send them."""

from __future__ import annotations

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
