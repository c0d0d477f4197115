"""Messaging interfaces: event queues the sensors drain and the topic notifications go to."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QueueMessage:
    """One delivery of a message: the receipt deletes this delivery, not the message forever."""

    message_id: str
    body: str
    receipt: str
    receive_count: int


class EventQueue(ABC):
    """An at-least-once queue: a received message reappears unless deleted in time.

    A message received more often than the queue's limit moves to its dead-letter queue.
    """

    @abstractmethod
    def send(self, body: str) -> str:
        """Enqueue a message; returns its id."""

    @abstractmethod
    def receive(self, max_messages: int) -> list[QueueMessage]:
        """Up to `max_messages` visible messages, hidden from other receivers for a while."""

    @abstractmethod
    def delete(self, receipts: Sequence[str]) -> None:
        """Delete the deliveries these receipts name; unknown or stale receipts are skipped."""


# The notifications this project publishes; each has its own SNS topic in the aws deployment.
PRODUCT_RENDERED = "product_rendered"
RENDER_FAILED = "render_failed"


class Notifier(ABC):
    """Publishes JSON notifications (docs/deployments.md, "Notifications", has the bodies)."""

    @abstractmethod
    def publish(self, event: str, message: Mapping[str, Any]) -> None:
        """Publish one notification of kind `event` (PRODUCT_RENDERED or RENDER_FAILED)."""
