"""AWS deployment messaging: SQS queues and an SNS topic."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from renderfarm_dagster.messaging import EventQueue, Notifier, QueueMessage

# SQS's limits: 10 messages per receive and per delete batch.
_SQS_BATCH = 10
# Concurrent SQS calls of one receive or delete.
_POLLERS = 8
# Joins the receipts of one message received twice in one receive (never in a receipt handle).
_RECEIPT_SEPARATOR = "\n"
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
        # SQS hands out at most 10 messages per call: a bulk drop's thousands are received by
        # a few pollers at once (boto3 clients are thread-safe), each stopping at an empty reply.
        pollers = max(1, min(_POLLERS, max_messages // _SQS_BATCH))
        shares = [max_messages // pollers + (i < max_messages % pollers) for i in range(pollers)]
        if pollers == 1:
            return self._receive_share(max_messages)
        with ThreadPoolExecutor(pollers, thread_name_prefix="sqs-receive") as pool:
            shares_received = list(pool.map(self._receive_share, shares))
        # At-least-once: two pollers may get the same message. It is handed on once, with
        # every receipt it came with, so that deleting it deletes whichever delivery is current.
        by_id: dict[str, QueueMessage] = {}
        for message in (m for share in shares_received for m in share):
            seen = by_id.get(message.message_id)
            if seen is None:
                by_id[message.message_id] = message
            else:
                by_id[message.message_id] = QueueMessage(
                    message.message_id,
                    message.body,
                    f"{seen.receipt}{_RECEIPT_SEPARATOR}{message.receipt}",
                    max(seen.receive_count, message.receive_count),
                )
        return list(by_id.values())

    def _receive_share(self, max_messages: int) -> list[QueueMessage]:
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
        receipts = [r for joined in receipts for r in joined.split(_RECEIPT_SEPARATOR)]
        batches = [receipts[i : i + _SQS_BATCH] for i in range(0, len(receipts), _SQS_BATCH)]
        if len(batches) <= 1:
            for batch in batches:
                self._delete_batch(batch)
            return
        with ThreadPoolExecutor(_POLLERS, thread_name_prefix="sqs-delete") as pool:
            list(pool.map(self._delete_batch, batches))

    def _delete_batch(self, batch: Sequence[str]) -> None:
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
