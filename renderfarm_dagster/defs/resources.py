"""The storage resource: one implementation per deployment, picked in deployment.py."""

from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg
from pydantic import Field

from renderfarm_dagster.storage import CheckpointStore, ObjectStore
from renderfarm_dagster.storage.local import LocalObjectStore, SqliteCheckpointStore


class StorageResource(dg.ConfigurableResource, ABC):
    """Where specs, renders and manifests live, and where render progress is checkpointed."""

    @abstractmethod
    def objects(self) -> ObjectStore: ...

    @abstractmethod
    def checkpoints(self) -> CheckpointStore: ...


class LocalStorageResource(StorageResource):
    """Local deployment: `<data_dir>/bucket/<key>` for objects, SQLite for checkpoints."""

    data_dir: str = Field(description="Folder holding the bucket and the checkpoint database.")

    def objects(self) -> ObjectStore:
        return LocalObjectStore(Path(self.data_dir) / "bucket")

    def checkpoints(self) -> CheckpointStore:
        return SqliteCheckpointStore(Path(self.data_dir) / "checkpoints.sqlite3")
