"""AWS deployment messaging: SQS queues and an SNS topic."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from renderfarm_dagster.messaging import EventQueue, Notifier, QueueMessage

# SQS's limits: 10 messages per receive and per delete batch.
_SQS_BATCH = 10
# SNS refuses subjects over 100 characters.
_SNS_SUBJECT_MAX = 100

log = logging.getLogger(__name__)


class SqsQueue(EventQueue):
    """An SQS queue; its redrive policy (set in infra) moves poison messages to the DLQ."""

    def __init__(self, client: Any, queue_url: str):
        self.client = client
        self.queue_url = queue_url

    def send(self, body: str) -> str:
        return self.client.send_message(QueueUrl=self.queue_url, MessageBody=body)["MessageId"]

    def receive(self, max_messages: int) -> list[QueueMessage]:
        received: list[QueueMessage] = []
        while len(received) < max_messages:
            response = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(_SQS_BATCH, max_messages - len(received)),
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
                # Short polling: a sensor tick must not sit waiting on an empty queue.
                WaitTimeSeconds=0,
            )
            batch = response.get("Messages", [])
            if not batch:
                break
            received.extend(
                QueueMessage(
                    message_id=message["MessageId"],
                    body=message["Body"],
                    receipt=message["ReceiptHandle"],
                    receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
                )
                for message in batch
            )
        return received

    def delete(self, receipts: Sequence[str]) -> None:
        for start in range(0, len(receipts), _SQS_BATCH):
            batch = receipts[start : start + _SQS_BATCH]
            response = self.client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(batch)],
            )
            # A stale receipt (the message was redelivered since) fails alone; the message
            # comes back and is handled again, which every consumer here makes harmless.
            for failure in response.get("Failed", []):
                log.warning(
                    "could not delete a message from %s: %s %s",
                    self.queue_url,
                    failure.get("Code"),
                    failure.get("Message"),
                )


class SnsNotifier(Notifier):
    """Publishes each kind of notification to its own SNS topic (completions and failures go
    to different people, and an alarm can watch the failure topic); the `event` message
    attribute is set too, for subscribers of both."""

    def __init__(self, client: Any, topic_arns: Mapping[str, str]):
        self.client = client
        self.topic_arns = dict(topic_arns)

    def publish(self, event: str, message: Mapping[str, Any]) -> None:
        if event not in self.topic_arns:
            raise ValueError(
                f"no SNS topic for {event!r} notifications; known: {list(self.topic_arns)}"
            )
        subject = f"renderfarm {event}: {message.get('product_id') or message.get('run_id', '')}"
        self.client.publish(
            TopicArn=self.topic_arns[event],
            Subject=subject[:_SNS_SUBJECT_MAX],
            Message=json.dumps({"event": event, **message}, ensure_ascii=False),
            MessageAttributes={"event": {"DataType": "String", "StringValue": event}},
        )
