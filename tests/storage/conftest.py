"""Every storage implementation, for the contract tests. Each deployment adds its own here."""

import pytest

from renderfarm_dagster.storage.local import LocalObjectStore, SqliteCheckpointStore


@pytest.fixture(params=["local"])
def object_store(request, tmp_path):
    if request.param == "local":
        return LocalObjectStore(tmp_path / "bucket")
    raise NotImplementedError(request.param)


@pytest.fixture(params=["local"])
def checkpoint_store(request, tmp_path):
    if request.param == "local":
        return SqliteCheckpointStore(tmp_path / "checkpoints.sqlite3")
    raise NotImplementedError(request.param)
