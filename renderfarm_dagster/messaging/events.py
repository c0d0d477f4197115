"""The queue messages the sensors consume, read as what they mean: objects created (S3
notifications, EventBridge's S3 events) and spot interruptions (EventBridge's ECS and EC2
events). The shapes AWS sends stay in this module; the sensors get domain events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import unquote_plus

from renderfarm_dagster.messaging import EventQueue
from renderfarm_dagster.storage import s3_version

# Both stop codes mean "AWS took the Spot capacity back"; older documentation names the second.
SPOT_STOP_CODES = frozenset({"SpotInterruption", "TerminationNotice"})
# Applied with fullmatch: `$` with match() also matches before a final "\n".
_TASK_ARN = re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task/[A-Za-z0-9_/-]{1,512}")
_INSTANCE_ID = re.compile(r"i-[0-9a-f]{8,17}")


class UnreadableMessage(ValueError):
    """A message this consumer cannot act on; the text names what is wrong and where."""


def _load(body: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, RecursionError) as error:
        raise UnreadableMessage(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise UnreadableMessage(f"$: expected a JSON object, got {type(document).__name__}")
    # S3 -> SNS -> SQS wraps the notification in an SNS envelope.
    if document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
        return _load(document["Message"])
    return document


def _field(document: Any, path: str, where: str = "$") -> Any:
    """The value at dotted `path` in `document`, which itself sits at JSON path `where`."""
    value = document
    parts = path.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(value, dict) or part not in value:
            raise UnreadableMessage(f"{where}.{'.'.join(parts[: depth + 1])}: missing")
        value = value[part]
    return value


def _string(document: Any, path: str, where: str = "$") -> str:
    value = _field(document, path, where)
    if not isinstance(value, str):
        raise UnreadableMessage(f"{where}.{path}: expected a string")
    return value


@dataclass(frozen=True)
class ObjectCreated:
    """An object was stored at `key`; `version` is its listing version (ETag and size), or ""
    when the event does not carry them."""

    key: str
    version: str


def _version(document: dict[str, Any], etag_field: str) -> str:
    etag, size = document.get(etag_field), document.get("size")
    if not isinstance(etag, str) or not isinstance(size, int) or isinstance(size, bool):
        return ""
    return s3_version(etag, size)


def created_objects(body: str) -> list[ObjectCreated]:
    """Objects created, from an S3 event notification or an EventBridge Object Created.

    `s3:TestEvent` (sent when a notification is configured) and non-create events give [].
    """
    document = _load(body)
    if document.get("Event") == "s3:TestEvent":
        return []
    if "Records" in document:
        records = document["Records"]
        if not isinstance(records, list):
            raise UnreadableMessage("$.Records: expected a list")
        created = []
        for index, record in enumerate(records):
            where = f"$.Records[{index}]"
            if not isinstance(record, dict):
                raise UnreadableMessage(f"{where}: expected an object")
            # ObjectCreated:Put, :Post, :Copy and :CompleteMultipartUpload all mean a new object.
            if not _string(record, "eventName", where).startswith("ObjectCreated:"):
                continue
            # Keys in S3 notifications are URL-encoded, spaces as '+'.
            key = unquote_plus(_string(record, "s3.object.key", where))
            created.append(ObjectCreated(key, _version(record["s3"]["object"], "eTag")))
        return created
    if document.get("source") == "aws.s3":
        if document.get("detail-type") != "Object Created":
            return []
        # EventBridge carries the key as it is, not URL-encoded.
        key = _string(document, "detail.object.key")
        return [ObjectCreated(key, _version(document["detail"]["object"], "etag"))]
    raise UnreadableMessage("$: neither an S3 event notification nor an S3 EventBridge event")


@dataclass(frozen=True)
class TasksInterrupted:
    """Spot capacity is being taken from these ECS tasks."""

    event_id: str
    task_arns: tuple[str, ...]


@dataclass(frozen=True)
class InstanceInterrupted:
    """An EC2 spot instance is being taken back; the tasks on it must be looked up."""

    event_id: str
    instance_id: str


@dataclass(frozen=True)
class IgnoredEvent:
    """A well-formed event that needs no action (another stop reason, a rebalance hint)."""

    event_id: str
    reason: str


SpotEvent = TasksInterrupted | InstanceInterrupted | IgnoredEvent


def spot_event(body: str) -> SpotEvent:
    """What an EventBridge event on the spot-interruption queue asks for."""
    document = _load(body)
    event_id = _string(document, "id")
    source, kind = _string(document, "source"), _string(document, "detail-type")
    detail = _field(document, "detail")
    if not isinstance(detail, dict):
        raise UnreadableMessage("$.detail: expected an object")
    if source == "aws.ecs" and kind == "ECS Task State Change":
        stop_code = detail.get("stopCode")
        if stop_code not in SPOT_STOP_CODES:
            return IgnoredEvent(event_id, f"task state change with stopCode {stop_code!r}")
        task_arn = _string(document, "detail.taskArn")
        if not _TASK_ARN.fullmatch(task_arn):
            raise UnreadableMessage(f"$.detail.taskArn: not an ECS task ARN: {task_arn[:200]!r}")
        return TasksInterrupted(event_id, (task_arn,))
    if source == "aws.ec2" and kind == "EC2 Spot Instance Interruption Warning":
        instance_id = _string(document, "detail.instance-id")
        if not _INSTANCE_ID.fullmatch(instance_id):
            raise UnreadableMessage(f"$.detail.instance-id: not an instance id: {instance_id!r}")
        return InstanceInterrupted(event_id, instance_id)
    if source == "aws.ec2" and kind == "EC2 Instance Rebalance Recommendation":
        # Only a hint that an interruption may come; the warning itself is what is acted on.
        return IgnoredEvent(event_id, "rebalance recommendation")
    if source == "aws.ecs" and kind == "ECS Service Action":
        return IgnoredEvent(event_id, f"ECS service action {detail.get('eventName')!r}")
    raise UnreadableMessage(f"$: unknown event {source!r} / {kind!r}")


Event = TypeVar("Event")


@dataclass(frozen=True)
class Delivery(Generic[Event]):
    """One delivery of a message, read: deleting its receipt acknowledges it."""

    message_id: str
    receipt: str
    receive_count: int
    event: Event


@dataclass(frozen=True)
class Unreadable:
    """A delivery that means nothing this consumer can act on. It is not acknowledged: after
    the queue's receive limit it moves to the dead-letter queue."""

    message_id: str
    receive_count: int
    error: str


class EventReader(Generic[Event]):
    """A queue whose messages come out as domain events."""

    def __init__(self, queue: EventQueue, read: Callable[[str], Event]):
        self.queue = queue
        self._read = read

    def receive(self, max_messages: int) -> list[Delivery[Event] | Unreadable]:
        deliveries: list[Delivery[Event] | Unreadable] = []
        for message in self.queue.receive(max_messages):
            try:
                event = self._read(message.body)
            except UnreadableMessage as error:
                deliveries.append(Unreadable(message.message_id, message.receive_count, str(error)))
                continue
            deliveries.append(
                Delivery(message.message_id, message.receipt, message.receive_count, event)
            )
        return deliveries

    def delete(self, receipts: Sequence[str]) -> None:
        self.queue.delete(receipts)
