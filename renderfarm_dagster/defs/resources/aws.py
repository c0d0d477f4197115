"""The aws deployment's resources: S3, DynamoDB, SQS, SNS, ECS."""

from typing import Any

import boto3
from dagster_aws.s3 import S3Resource
from dagster_aws.utils import ResourceWithBoto3Configuration, construct_boto_client_retry_config
from pydantic import Field

from renderfarm_dagster.cluster import Cluster, EcsCluster, NoEc2Instances
from renderfarm_dagster.defs.resources import ClusterResource, MessagingResource, StorageResource
from renderfarm_dagster.messaging import PRODUCT_RENDERED, RENDER_FAILED, EventQueue, Notifier
from renderfarm_dagster.messaging.aws import SnsNotifier, SqsQueue
from renderfarm_dagster.storage import CheckpointStore, InputIndex, InterruptionLedger, ObjectStore
from renderfarm_dagster.storage.aws import (
    DynamoCheckpointStore,
    DynamoInputIndex,
    DynamoInterruptionLedger,
    S3ObjectStore,
)


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
            return NoEc2Instances()
        return EcsCluster(self.aws.client("ecs"), self.cluster_name)
