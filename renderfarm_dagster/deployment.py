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
# RENDERFARM_ECS_CLUSTER is optional: only EC2 spot warnings need it (to find the tasks on an
# instance), and Fargate capacity gives none.
AWS_REQUIRED = (
    "RENDERFARM_BUCKET",
    "RENDERFARM_KMS_KEY_ID",
    "RENDERFARM_TABLE",
    "RENDERFARM_SPEC_QUEUE_URL",
    "RENDERFARM_SPOT_QUEUE_URL",
    "RENDERFARM_COMPLETION_TOPIC_ARN",
    "RENDERFARM_FAILURE_TOPIC_ARN",
)
# Replaced by boto3's own AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>; refused rather than
# ignored, so that a deployment meant for an emulator never reaches AWS by mistake.
RETIRED = {"RENDERFARM_AWS_ENDPOINT_URL": "AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_<SERVICE>)"}


def _local_resources() -> dict[str, dg.ConfigurableResource]:
    data_dir = str(local_data_dir())
    return {
        "storage": LocalStorageResource(data_dir=data_dir),
        "messaging": LocalMessagingResource(data_dir=data_dir),
        "cluster": LocalClusterResource(),
    }


def _aws_resources() -> dict[str, dg.ConfigurableResource]:
    retired = [f"{old} (use {new})" for old, new in RETIRED.items() if old in os.environ]
    if retired:
        raise ConfigurationError(f"no longer read: {', '.join(retired)}")
    missing = [name for name in AWS_REQUIRED if not os.environ.get(name)]
    if missing:
        raise ConfigurationError(
            f"RENDERFARM_DEPLOYMENT=aws needs these environment variables: {', '.join(missing)}"
        )
    # Region, credentials and endpoints come from boto3's own configuration (AWS_REGION, the
    # task role; AWS_ENDPOINT_URL for every client, AWS_ENDPOINT_URL_S3 and the like for one
    # service: an emulator, a VPC endpoint), for these clients and dagster-aws's alike.
    aws = AwsClients()
    return {
        "storage": AwsStorageResource(
            s3=S3Resource(),
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
        "cluster": EcsClusterResource(
            aws=aws, cluster_name=os.environ.get("RENDERFARM_ECS_CLUSTER", "")
        ),
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
