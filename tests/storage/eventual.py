"""Implementations at the slow edge of what SQS and DynamoDB document, for the contract suites.

moto answers at once; AWS and other emulators do not. These wrap the local implementations so
that the same contract tests also run where (as AWS allows):
- a message comes back well after its visibility timeout (SQS promises no sub-second
  redelivery; another implementation redelivered after 1.1 to 2.0 s of a 1 s timeout);
- a short-polling receive answers empty every other call although messages are visible;
- pending() reads an index that lags record() and settle() (a DynamoDB global secondary index
  is read eventually consistent).
A test that passes against these does not depend on one emulator's timing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from renderfarm_dagster.messaging import EventQueue, QueueMessage
from renderfarm_dagster.messaging.local import SqliteQueue
from renderfarm_dagster.storage import Interruption, InterruptionLedger

REDELIVERY_LAG_S = 0.9
INDEX_LAG_S = 0.5


class SlowQueue(EventQueue):
    """A queue whose redelivery lags its visibility timeout and whose receives miss."""

    def __init__(self, queue: SqliteQueue):
        self.queue = queue
        self.queue.visibility_timeout_s += REDELIVERY_LAG_S
        self._receives = 0

    def send(self, body: str) -> str:
        return self.queue.send(body)

    def receive(self, max_messages: int) -> list[QueueMessage]:
        self._receives += 1
        if self._receives % 2 == 0:
            return []  # short polling sampled servers that hold none of the messages
        return self.queue.receive(max_messages)

    def delete(self, receipts: Sequence[str]) -> None:
        self.queue.delete(receipts)

    def dead_letters(self) -> list[str]:
        return self.queue.dead_letters()


class LaggingLedger(InterruptionLedger):
    """A ledger whose pending() is the wrapped ledger's state as of INDEX_LAG_S ago.

    record() and settle() go to the wrapped ledger at once (its answers are the contract's);
    pending() is rebuilt from what was recorded and settled until INDEX_LAG_S ago, as an index
    that has not caught up would show it.
    """

    def __init__(self, ledger: InterruptionLedger):
        self.ledger = ledger
        self._recorded: dict[str, tuple[float, Interruption]] = {}
        self._settled_at: dict[str, float] = {}

    def record(self, interruption: Interruption) -> bool:
        recorded = self.ledger.record(interruption)
        if recorded:
            self._recorded[interruption.run_id] = (time.monotonic(), interruption)
        return recorded

    def settle(self, run_id: str) -> None:
        self.ledger.settle(run_id)
        if run_id in self._recorded:
            self._settled_at.setdefault(run_id, time.monotonic())

    def pending(self, limit: int) -> list[Interruption]:
        seen_until = time.monotonic() - INDEX_LAG_S
        indexed = [
            interruption
            for at, interruption in self._recorded.values()
            if at <= seen_until
            and self._settled_at.get(interruption.run_id, seen_until + 1) > seen_until
        ]
        return sorted(indexed, key=lambda i: (i.recorded_at, i.run_id))[:limit]
