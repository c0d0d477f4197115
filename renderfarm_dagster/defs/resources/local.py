"""The local deployment's resources: a folder and SQLite files, no servers."""

from pathlib import Path

from pydantic import Field

from renderfarm_dagster.cluster import Cluster, NoEc2Instances
from renderfarm_dagster.defs.resources import ClusterResource, MessagingResource, StorageResource
from renderfarm_dagster.messaging import EventQueue, Notifier
from renderfarm_dagster.messaging.local import FileNotifier, SqliteQueue
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
    """Local deployment: runs are processes on this machine."""

    def cluster(self) -> Cluster:
        return NoEc2Instances()
