"""Resources: one implementation per deployment of each, picked in deployment.py."""

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_aws.utils import ResourceWithBoto3Configuration, construct_boto_client_retry_config
from pydantic import Field

from renderfarm_dagster.cluster import Cluster, EcsCluster, LocalCluster
from renderfarm_dagster.messaging import PRODUCT_RENDERED, RENDER_FAILED, EventQueue, Notifier
from renderfarm_dagster.messaging.aws import SnsNotifier, SqsQueue
from renderfarm_dagster.messaging.local import FileNotifier, SqliteQueue
from renderfarm_dagster.storage import CheckpointStore, InputIndex, InterruptionLedger, ObjectStore
from renderfarm_dagster.storage.aws import (
    DynamoCheckpointStore,
    DynamoInputIndex,
    DynamoInterruptionLedger,
    S3ObjectStore,
)
from renderfarm_dagster.storage.local import (
    LocalObjectStore,
    SqliteCheckpointStore,
    SqliteInputIndex,
    SqliteInterruptionLedger,
)


class StorageResource(dg.ConfigurableResource, ABC):
    """Where specs, renders and manifests live, and where progress and interruptions are kept."""

    @abstractmethod
    def objects(self) -> ObjectStore: ...

    @abstractmethod
    def checkpoints(self) -> CheckpointStore: ...

    @abstractmethod
    def interruptions(self) -> InterruptionLedger: ...

    @abstractmethod
    def inputs(self) -> InputIndex:
        """Which products use which uploaded templates and photos."""


class MessagingResource(dg.ConfigurableResource, ABC):
    """The queues the sensors drain and the topic notifications go to."""

    @abstractmethod
    def spec_events(self) -> EventQueue:
        """S3 notifications of uploaded specs."""

    @abstractmethod
    def spot_events(self) -> EventQueue:
        """EventBridge spot-interruption events."""

    @abstractmethod
    def notifier(self) -> Notifier: ...


class ClusterResource(dg.ConfigurableResource, ABC):
    """Where run workers execute."""

    @abstractmethod
    def cluster(self) -> Cluster: ...


# --- local: a folder and SQLite files, no servers ---


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

    def spec_events(self) -> EventQueue:
        return self._queue("spec-events")

    def spot_events(self) -> EventQueue:
        return self._queue("spot-events")

    def notifier(self) -> Notifier:
        return FileNotifier(Path(self.data_dir) / "notifications.jsonl")


class LocalClusterResource(ClusterResource):
    """Local deployment: runs are processes on this machine."""

    def cluster(self) -> Cluster:
        return LocalCluster()


# --- aws: S3, DynamoDB, SQS, SNS, ECS ---


class AwsClients(ResourceWithBoto3Configuration):
    """boto3 clients for the services dagster-aws has no resource for (DynamoDB, SQS, SNS, ECS).

    Region, endpoint, credentials and retries are configured as for dagster-aws's resources.
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

    def spec_events(self) -> EventQueue:
        return SqsQueue(self.aws.client("sqs"), self.spec_queue_url)

    def spot_events(self) -> EventQueue:
        return SqsQueue(self.aws.client("sqs"), self.spot_queue_url)

    def notifier(self) -> Notifier:
        return SnsNotifier(
            self.aws.client("sns"),
            {PRODUCT_RENDERED: self.completion_topic_arn, RENDER_FAILED: self.failure_topic_arn},
        )


class EcsClusterResource(ClusterResource):
    """The ECS cluster run workers are launched in."""

    aws: AwsClients
    cluster_name: str = Field(description="ECS cluster name or ARN.")

    def cluster(self) -> Cluster:
        return EcsCluster(self.aws.client("ecs"), self.cluster_name)
