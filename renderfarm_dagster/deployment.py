"""The one place that picks the implementations of the deployment the settings name.

Nothing it imports imports it back: the definitions read their settings from settings.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_aws.s3 import S3Resource

from renderfarm_dagster.defs.resources import StorageResource
from renderfarm_dagster.defs.resources.aws import (
    AwsClients,
    AwsMessagingResource,
    AwsStorageResource,
    EcsClusterResource,
)
from renderfarm_dagster.defs.resources.local import (
    LocalClusterResource,
    LocalMessagingResource,
    LocalStorageResource,
)
from renderfarm_dagster.settings import (
    DEPLOYMENTS,
    ConfigurationError,
    deployment_name,
    local_data_dir,
)

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
assert tuple(_RESOURCES_BY_DEPLOYMENT) == DEPLOYMENTS


def resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of the deployment RENDERFARM_DEPLOYMENT names (local by default)."""
    return _RESOURCES_BY_DEPLOYMENT[deployment_name()]()


@contextmanager
def storage() -> Iterator[StorageResource]:
    """The storage resource with its environment variables resolved, for use outside a run."""
    with resources()["storage"].process_config_and_initialize_cm() as initialized:
        yield initialized
