"""The local deployment (the default): a folder for objects, SQLite files for checkpoints and
queues, a file of notifications; no cloud, no servers."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from renderfarm_dagster.cluster import Cluster
from renderfarm_dagster.defs.resources import ClusterResource, MessagingResource, StorageResource
from renderfarm_dagster.ecs import EcsCluster
from renderfarm_dagster.messaging import EventQueue, Notifier
from renderfarm_dagster.messaging.local import FileNotifier, SqliteQueue
from renderfarm_dagster.settings import local_data_dir
from renderfarm_dagster.storage import CheckpointStore, InputIndex, InterruptionLedger, ObjectStore
from renderfarm_dagster.storage.local import (
    LocalObjectStore,
    SqliteCheckpointStore,
    SqliteInputIndex,
    SqliteInterruptionLedger,
)


class LocalStorageResource(StorageResource):
    """Local deployment: `<data_dir>/bucket/<key>` for objects, SQLite for the rest."""

    data_dir: str = Field(description="Folder holding the bucket and the SQLite files.")

    def objects(self) -> ObjectStore:
        return LocalObjectStore(Path(self.data_dir) / "bucket")

    def checkpoints(self) -> CheckpointStore:
        return SqliteCheckpointStore(Path(self.data_dir) / "checkpoints.sqlite3")

    def interruptions(self) -> InterruptionLedger:
        return SqliteInterruptionLedger(Path(self.data_dir) / "checkpoints.sqlite3")

    def inputs(self) -> InputIndex:
        return SqliteInputIndex(Path(self.data_dir) / "checkpoints.sqlite3")


class LocalMessagingResource(MessagingResource):
    """Local deployment: queues in `<data_dir>/queues.sqlite3`, notifications appended to
    `<data_dir>/notifications.jsonl`."""

    data_dir: str = Field(description="Folder holding the queue database and notifications.")
    visibility_timeout_s: float = Field(
        default=300.0, ge=0, description="Seconds a received message stays hidden, as in SQS."
    )

    def _queue(self, name: str) -> SqliteQueue:
        return SqliteQueue(
            Path(self.data_dir) / "queues.sqlite3",
            name,
            visibility_timeout_s=self.visibility_timeout_s,
        )

    def spec_queue(self) -> EventQueue:
        return self._queue("spec-events")

    def spot_queue(self) -> EventQueue:
        return self._queue("spot-events")

    def notifier(self) -> Notifier:
        return FileNotifier(Path(self.data_dir) / "notifications.jsonl")


class LocalClusterResource(ClusterResource):
    """Local deployment: runs are processes on this machine. Its only spot events are those of
    the Fargate Spot simulator (devkit/simulated_ecs.py), which names tasks as ECS does."""

    def cluster(self) -> Cluster:
        return EcsCluster()


def resources() -> dict[str, dg.ConfigurableResource]:
    """The local deployment's resources, under RENDERFARM_DATA_DIR (.renderfarm by default)."""
    data_dir = str(local_data_dir())
    return {
        "storage": LocalStorageResource(data_dir=data_dir),
        "messaging": LocalMessagingResource(data_dir=data_dir),
        "cluster": LocalClusterResource(),
    }
