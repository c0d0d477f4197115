"""The aws deployment: S3 (SSE-KMS) for objects, one DynamoDB table for checkpoints, the
interruption ledger and the input index, SQS queues, SNS topics, run workers on ECS."""

import os
from typing import Any

import boto3
import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_aws.utils import ResourceWithBoto3Configuration, construct_boto_client_retry_config
from pydantic import Field

from renderfarm_dagster.cluster import Cluster
from renderfarm_dagster.defs.resources import ClusterResource, MessagingResource, StorageResource
from renderfarm_dagster.ecs import EcsCluster
from renderfarm_dagster.messaging import PRODUCT_RENDERED, RENDER_FAILED, EventQueue, Notifier
from renderfarm_dagster.messaging.aws import SnsNotifier, SqsQueue
from renderfarm_dagster.settings import ConfigurationError
from renderfarm_dagster.storage import CheckpointStore, InputIndex, InterruptionLedger, ObjectStore
from renderfarm_dagster.storage.aws import (
    DynamoCheckpointStore,
    DynamoInputIndex,
    DynamoInterruptionLedger,
    S3ObjectStore,
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


def resources() -> dict[str, dg.ConfigurableResource]:
    """The aws deployment's resources, from the RENDERFARM_* variables it requires."""
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


class AwsClients(ResourceWithBoto3Configuration):
    """boto3 clients for the services dagster-aws has no resource for (DynamoDB, SQS, SNS, ECS).

    Region, credentials and retries are configured as for dagster-aws's resources; endpoints
    by boto3's AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> unless `endpoint_url` is set.
    """

    def client(self, service_name: str) -> Any:
        session = boto3.session.Session(
            profile_name=self.profile_name,
            region_name=self.region_name,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
        )
        return session.client(
            service_name,
            endpoint_url=self.endpoint_url,
            use_ssl=self.use_ssl,
            verify=self.verify,
            config=construct_boto_client_retry_config(self.max_attempts),
        )


class AwsStorageResource(StorageResource):
    """S3 for objects (SSE-KMS with `kms_key_id`), one DynamoDB table for the rest."""

    s3: S3Resource
    aws: AwsClients
    bucket: str = Field(description="S3 bucket holding specs, renders and manifests.")
    kms_key_id: str = Field(description="KMS key id or ARN every object is encrypted with.")
    table: str = Field(description="DynamoDB table of checkpoints and interruptions.")
    ttl_days: int = Field(default=90, ge=1, description="Days before a record expires.")

    def objects(self) -> ObjectStore:
        return S3ObjectStore(self.s3.get_client(), self.bucket, self.kms_key_id)

    def checkpoints(self) -> CheckpointStore:
        return DynamoCheckpointStore(self.aws.client("dynamodb"), self.table, self.ttl_days)

    def interruptions(self) -> InterruptionLedger:
        return DynamoInterruptionLedger(self.aws.client("dynamodb"), self.table, self.ttl_days)

    def inputs(self) -> InputIndex:
        return DynamoInputIndex(self.aws.client("dynamodb"), self.table, self.ttl_days)


class AwsMessagingResource(MessagingResource):
    """SQS queues fed by S3 notifications and EventBridge; an SNS topic for notifications."""

    aws: AwsClients
    spec_queue_url: str = Field(description="SQS queue receiving the bucket's notifications.")
    spot_queue_url: str = Field(description="SQS queue receiving spot-interruption events.")
    completion_topic_arn: str = Field(description="SNS topic for product_rendered notifications.")
    failure_topic_arn: str = Field(description="SNS topic for render_failed notifications.")

    def spec_queue(self) -> EventQueue:
        return SqsQueue(self.aws.client("sqs"), self.spec_queue_url)

    def spot_queue(self) -> EventQueue:
        return SqsQueue(self.aws.client("sqs"), self.spot_queue_url)

    def notifier(self) -> Notifier:
        return SnsNotifier(
            self.aws.client("sns"),
            {PRODUCT_RENDERED: self.completion_topic_arn, RENDER_FAILED: self.failure_topic_arn},
        )


class EcsClusterResource(ClusterResource):
    """The ECS cluster run workers are launched in, for EC2 spot warnings; without one (Fargate
    alone), no EC2 instance runs a task."""

    aws: AwsClients
    cluster_name: str = Field(default="", description="ECS cluster name or ARN, if any.")

    def cluster(self) -> Cluster:
        if not self.cluster_name:
            return EcsCluster()
        return EcsCluster(self.aws.client("ecs"), self.cluster_name)
