"""The one place that reads the environment and decides which deployment this is."""

from __future__ import annotations

import os
from pathlib import Path

from renderfarm_dagster.defs.resources import LocalStorageResource, StorageResource

DEFAULT_DATA_DIR = "renderfarm-data"
DEFAULT_PARTITIONS_PER_RUN = 10


class ConfigurationError(ValueError):
    """An environment variable with a value this project cannot use."""


def _local_storage() -> StorageResource:
    return LocalStorageResource(data_dir=str(local_data_dir()))


_STORAGE_BY_DEPLOYMENT = {"local": _local_storage}
DEPLOYMENTS = tuple(_STORAGE_BY_DEPLOYMENT)


def deployment_name() -> str:
    name = os.environ.get("RENDERFARM_DEPLOYMENT", "local")
    if name not in DEPLOYMENTS:
        raise ConfigurationError(
            f"RENDERFARM_DEPLOYMENT={name!r} is not a deployment; choose one of {DEPLOYMENTS}"
        )
    return name


def local_data_dir() -> Path:
    """RENDERFARM_DATA_DIR, or ./renderfarm-data, made absolute so every process agrees."""
    return Path(os.environ.get("RENDERFARM_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def storage_resource() -> StorageResource:
    """The storage of the deployment RENDERFARM_DEPLOYMENT names (local by default)."""
    return _STORAGE_BY_DEPLOYMENT[deployment_name()]()


def partitions_per_run() -> int:
    """How many products one backfill run renders (each run is a cold container in production)."""
    raw = os.environ.get("RENDERFARM_PARTITIONS_PER_RUN", str(DEFAULT_PARTITIONS_PER_RUN))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(
            f"RENDERFARM_PARTITIONS_PER_RUN={raw!r} must be a whole number >= 1"
        )
    return value
