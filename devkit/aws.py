"""An aws deployment on a moto server: what infra creates in a real account, made with boto3.

Tests and `make chaos` reach it over HTTP through boto3's own endpoint configuration
(AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL_<SERVICE> for a service served elsewhere); nothing in
boto3 or in the adapters is patched. Provisioning asks each service at its own endpoint, and
makes the ECS cluster only where there is ECS (it is needed for EC2 spot warnings alone).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import boto3

from devkit.infra_template import interruption_rule_patterns, spec_queue_notification_prefixes
from renderfarm_dagster.storage.aws import (
    TABLE_ATTRIBUTES,
    TABLE_INDEXES,
    TABLE_KEY_SCHEMA,
    TTL_ATTRIBUTE,
)

REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
# Short, so redelivery and the dead-letter queue can be seen within a test.
VISIBILITY_TIMEOUT_S = 1
# How long drain() waits for deliveries it expects, and for silence after them.
DELIVERY_DEADLINE_S = 15.0
QUIET_PERIOD_S = 1.0
MAX_RECEIVE_COUNT = 3


@dataclass(frozen=True)
class AwsDeployment:
    endpoint: str
    # Services served at another endpoint than `endpoint`, by boto3 service name ("s3").
    service_endpoints: dict[str, str]
    bucket: str
    kms_key_id: str
    table: str
    spec_queue_url: str
    spec_dlq_url: str
    spot_queue_url: str
    spot_dlq_url: str
    completion_topic_arn: str
    failure_topic_arn: str
    # A queue subscribed to both topics, so tests can read the notifications.
    topic_queue_url: str
    cluster: str  # "" where the endpoint has no ECS
    cluster_arn: str

    def client(self, service: str):
        endpoint = self.service_endpoints.get(service, self.endpoint)
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION)

    def environment(self) -> dict[str, str]:
        return {
            **CREDENTIALS,
            "RENDERFARM_DEPLOYMENT": "aws",
            # boto3's own: every client of the deployment (and of dagster-aws) goes there...
            "AWS_ENDPOINT_URL": self.endpoint,
            # ...but a service served elsewhere.
            **{
                f"AWS_ENDPOINT_URL_{service.upper()}": url
                for service, url in self.service_endpoints.items()
            },
            "RENDERFARM_BUCKET": self.bucket,
            "RENDERFARM_KMS_KEY_ID": self.kms_key_id,
            "RENDERFARM_TABLE": self.table,
            "RENDERFARM_SPEC_QUEUE_URL": self.spec_queue_url,
            "RENDERFARM_SPOT_QUEUE_URL": self.spot_queue_url,
            "RENDERFARM_COMPLETION_TOPIC_ARN": self.completion_topic_arn,
            "RENDERFARM_FAILURE_TOPIC_ARN": self.failure_topic_arn,
            **({"RENDERFARM_ECS_CLUSTER": self.cluster} if self.cluster else {}),
        }

    def notifications(self, expect: int = 0) -> list[dict]:
        """Every notification published so far (read from the subscribed queue)."""
        return [json.loads(envelope["Message"]) for envelope in self.sns_envelopes(expect)]

    def sns_envelopes(self, expect: int = 0) -> list[dict]:
        """Every SNS delivery so far, with its TopicArn and message attributes."""
        return self.drain(self.topic_queue_url, expect)

    def drain(self, queue_url: str, expect: int = 0) -> list[dict]:
        """Receive and delete messages until `expect` have come and then none for a moment.

        SNS and EventBridge deliver to SQS asynchronously, and a short-polling receive may
        miss visible messages: one empty receive does not mean nothing more is coming. The
        quiet period after `expect` catches deliveries a test does not expect.
        """
        sqs = self.client("sqs")
        found: list[dict] = []
        deadline = time.monotonic() + DELIVERY_DEADLINE_S
        quiet_until = time.monotonic() + QUIET_PERIOD_S
        while time.monotonic() < deadline:
            batch = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if batch:
                quiet_until = time.monotonic() + QUIET_PERIOD_S
            elif len(found) >= expect and time.monotonic() >= quiet_until:
                break
            else:
                time.sleep(0.1)
        return found

    def put_events(self, events: list[dict]) -> None:
        """Put AWS events (the shapes in tests/events/) on the default EventBridge bus."""
        self.client("events").put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event.get("resources", []),
                }
                for event in events
            ]
        )


def _queue_with_dead_letters(sqs, name: str) -> tuple[str, str]:
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_S),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
            ),
        },
    )["QueueUrl"]
    return url, dlq_url


def _arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def provision(
    endpoint: str, service_endpoints: dict[str, str] | None = None, ecs: bool = True
) -> AwsDeployment:
    """A fresh, uniquely named deployment: bucket, key, table, queues, topic, event rules, and
    with `ecs` the cluster. Each service is made at its own endpoint (`service_endpoints`, by
    boto3 service name, else `endpoint`)."""
    suffix = uuid.uuid4().hex[:10]
    service_endpoints = dict(service_endpoints or {})

    def client(service):
        url = service_endpoints.get(service, endpoint)
        return boto3.client(service, endpoint_url=url, region_name=REGION)

    sqs, s3 = client("sqs"), client("s3")
    kms_key_id = client("kms").create_key(Description="renderfarm objects")["KeyMetadata"]["KeyId"]

    table = f"renderfarm-{suffix}"
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=table,
        KeySchema=TABLE_KEY_SCHEMA,
        AttributeDefinitions=TABLE_ATTRIBUTES,
        GlobalSecondaryIndexes=TABLE_INDEXES,
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )

    spec_queue_url, spec_dlq_url = _queue_with_dead_letters(sqs, f"specs-{suffix}")
    spot_queue_url, spot_dlq_url = _queue_with_dead_letters(sqs, f"spot-{suffix}")

    bucket = f"renderfarm-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            # As the stack's bucket: specs/, templates/, fonts/ and assets/ (infra/renderfarm.yaml).
            "QueueConfigurations": [
                {
                    "QueueArn": _arn(sqs, spec_queue_url),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
                for prefix in spec_queue_notification_prefixes()
            ]
        },
    )

    sns = client("sns")
    completion_topic_arn = sns.create_topic(Name=f"completions-{suffix}")["TopicArn"]
    failure_topic_arn = sns.create_topic(Name=f"failures-{suffix}")["TopicArn"]
    topic_queue_url = sqs.create_queue(QueueName=f"notifications-{suffix}")["QueueUrl"]
    for topic_arn in (completion_topic_arn, failure_topic_arn):
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=_arn(sqs, topic_queue_url))

    cluster, cluster_arn = "", f"arn:aws:ecs:{REGION}:123456789012:cluster/render-{suffix}"
    if ecs:
        cluster = f"render-{suffix}"
        cluster_arn = client("ecs").create_cluster(clusterName=cluster)["cluster"]["clusterArn"]

    # The stack's own interruption rules (infra/renderfarm.yaml), for this cluster.
    events = client("events")
    for rule, pattern in interruption_rule_patterns(cluster_arn).items():
        events.put_rule(Name=f"{rule}-{suffix}", EventPattern=json.dumps(pattern))
        events.put_targets(
            Rule=f"{rule}-{suffix}", Targets=[{"Id": "spot", "Arn": _arn(sqs, spot_queue_url)}]
        )
    return AwsDeployment(
        endpoint=endpoint,
        service_endpoints=service_endpoints,
        bucket=bucket,
        kms_key_id=kms_key_id,
        table=table,
        spec_queue_url=spec_queue_url,
        spec_dlq_url=spec_dlq_url,
        spot_queue_url=spot_queue_url,
        spot_dlq_url=spot_dlq_url,
        completion_topic_arn=completion_topic_arn,
        failure_topic_arn=failure_topic_arn,
        topic_queue_url=topic_queue_url,
        cluster=cluster,
        cluster_arn=cluster_arn,
    )
