"""The one place that reads the environment and decides which deployment this is."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_aws.s3 import S3Resource

from renderfarm_dagster.defs.resources import (
    AwsClients,
    AwsMessagingResource,
    AwsStorageResource,
    EcsClusterResource,
    LocalClusterResource,
    LocalMessagingResource,
    LocalStorageResource,
    StorageResource,
)

DEFAULT_DATA_DIR = "renderfarm-data"
DEFAULT_PARTITIONS_PER_RUN = 10
DEFAULT_ESCALATE_AFTER = 2
DEFAULT_UI_URL = "http://localhost:3000"
# How often the spec sensor re-lists specs/ to catch uploads whose notification never came:
# locally there are no notifications (specs are dropped into a folder), so every tick.
SPEC_SWEEP_INTERVAL_S = {"local": 0, "aws": 600}

# Required by the aws deployment; checked together at load so one error names every gap.
AWS_REQUIRED = (
    "RENDERFARM_BUCKET",
    "RENDERFARM_KMS_KEY_ID",
    "RENDERFARM_TABLE",
    "RENDERFARM_SPEC_QUEUE_URL",
    "RENDERFARM_SPOT_QUEUE_URL",
    "RENDERFARM_COMPLETION_TOPIC_ARN",
    "RENDERFARM_FAILURE_TOPIC_ARN",
    "RENDERFARM_ECS_CLUSTER",
)


class ConfigurationError(ValueError):
    """An environment variable with a value this project cannot use."""


def _local_resources() -> dict[str, dg.ConfigurableResource]:
    data_dir = str(local_data_dir())
    return {
        "storage": LocalStorageResource(data_dir=data_dir),
        "messaging": LocalMessagingResource(data_dir=data_dir),
        "cluster": LocalClusterResource(),
    }


def _optional_env(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


def _aws_resources() -> dict[str, dg.ConfigurableResource]:
    missing = [name for name in AWS_REQUIRED if not os.environ.get(name)]
    if missing:
        raise ConfigurationError(
            f"RENDERFARM_DEPLOYMENT=aws needs these environment variables: {', '.join(missing)}"
        )
    # Region and credentials come from boto3's usual chain (AWS_REGION, the task role);
    # the endpoint override points every client at another endpoint (tests: a moto server).
    endpoint = _optional_env("RENDERFARM_AWS_ENDPOINT_URL")
    aws = AwsClients(endpoint_url=endpoint)
    return {
        "storage": AwsStorageResource(
            s3=S3Resource(endpoint_url=endpoint),
            aws=aws,
            bucket=dg.EnvVar("RENDERFARM_BUCKET"),
            kms_key_id=dg.EnvVar("RENDERFARM_KMS_KEY_ID"),
            table=dg.EnvVar("RENDERFARM_TABLE"),
        ),
        "messaging": AwsMessagingResource(
            aws=aws,
            spec_queue_url=dg.EnvVar("RENDERFARM_SPEC_QUEUE_URL"),
            spot_queue_url=dg.EnvVar("RENDERFARM_SPOT_QUEUE_URL"),
            completion_topic_arn=dg.EnvVar("RENDERFARM_COMPLETION_TOPIC_ARN"),
            failure_topic_arn=dg.EnvVar("RENDERFARM_FAILURE_TOPIC_ARN"),
        ),
        "cluster": EcsClusterResource(aws=aws, cluster_name=dg.EnvVar("RENDERFARM_ECS_CLUSTER")),
    }


_RESOURCES_BY_DEPLOYMENT: dict[str, Callable[[], dict[str, dg.ConfigurableResource]]] = {
    "local": _local_resources,
    "aws": _aws_resources,
}
DEPLOYMENTS = tuple(_RESOURCES_BY_DEPLOYMENT)


def deployment_name() -> str:
    name = os.environ.get("RENDERFARM_DEPLOYMENT", "local")
    if name not in DEPLOYMENTS:
        raise ConfigurationError(
            f"RENDERFARM_DEPLOYMENT={name!r} is not a deployment; choose one of {DEPLOYMENTS}"
        )
    return name


def resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of the deployment RENDERFARM_DEPLOYMENT names (local by default)."""
    return _RESOURCES_BY_DEPLOYMENT[deployment_name()]()


@contextmanager
def storage() -> Iterator[StorageResource]:
    """The storage resource with its environment variables resolved, for use outside a run."""
    with resources()["storage"].process_config_and_initialize_cm() as initialized:
        yield initialized


def local_data_dir() -> Path:
    """RENDERFARM_DATA_DIR, or ./renderfarm-data, made absolute so every process agrees."""
    return Path(os.environ.get("RENDERFARM_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(f"{name}={raw!r} must be a whole number >= 1")
    return value


def partitions_per_run() -> int:
    """How many products one backfill run renders (each run is a cold container in production)."""
    return _positive_int("RENDERFARM_PARTITIONS_PER_RUN", DEFAULT_PARTITIONS_PER_RUN)


def escalate_after_interruptions() -> int:
    """Interruptions of the same partitions after which the retry asks for on-demand capacity."""
    return _positive_int("RENDERFARM_ESCALATE_AFTER_INTERRUPTIONS", DEFAULT_ESCALATE_AFTER)


def spec_sweep_interval_s() -> int:
    return SPEC_SWEEP_INTERVAL_S[deployment_name()]


def ui_url() -> str:
    """The Dagster UI's address, for links in notifications."""
    return os.environ.get("RENDERFARM_UI_URL", DEFAULT_UI_URL).rstrip("/")
