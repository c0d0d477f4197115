"""Local deployment messaging: SQLite queues with SQS's semantics, notifications to a file."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from renderfarm_dagster.messaging import EventQueue, Notifier, QueueMessage
from renderfarm_dagster.sqlite_file import SqliteConnections

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS visible_messages ON messages (queue, visible_at, sequence);
-- Deletes find their message by receipt: without this, acknowledging a bulk drop's
-- thousands of messages scans the table once per message.
CREATE INDEX IF NOT EXISTS messages_by_receipt ON messages (receipt);
"""


class SqliteQueue(EventQueue):
    """A queue in a SQLite file: visibility timeout, receive count and a dead-letter queue.

    It behaves as SQS does where the sensors depend on it, so the same sensor code and the same
    contract tests run against both.
    """

    def __init__(
        self,
        path: Path,
        name: str,
        visibility_timeout_s: float = 300.0,
        max_receive_count: int = 5,
        clock: Callable[[], float] = time.time,
    ):
        self.path = Path(path)
        self.name = name
        self.dead_letter_name = f"{name}-dlq"
        self.visibility_timeout_s = visibility_timeout_s
        self.max_receive_count = max_receive_count
        self._clock = clock
        self._database = SqliteConnections(self.path)
        self._database.get().executescript(_SCHEMA)

    def send(self, body: str) -> str:
        message_id = str(uuid.uuid4())
        connection = self._database.get()
        connection.execute(
            "INSERT INTO messages (queue, message_id, body, visible_at) VALUES (?, ?, ?, ?)",
            (self.name, message_id, body, self._clock()),
        )
        return message_id

    def receive(self, max_messages: int) -> list[QueueMessage]:
        now = self._clock()
        received = []
        # The write lock comes first, so two receivers never get the same delivery.
        with self._database.transaction() as connection:
            rows = connection.execute(
                "SELECT sequence, message_id, body, receive_count FROM messages "
                "WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, sequence LIMIT ?",
                (self.name, now, max_messages),
            ).fetchall()
            for sequence, message_id, body, receive_count in rows:
                if receive_count >= self.max_receive_count:
                    # SQS's redrive policy: the message goes to the dead-letter queue
                    # instead of being delivered once more.
                    connection.execute(
                        "UPDATE messages SET queue = ?, receive_count = 0, receipt = NULL "
                        "WHERE sequence = ?",
                        (self.dead_letter_name, sequence),
                    )
                    continue
                receipt = f"{message_id}/{uuid.uuid4()}"
                connection.execute(
                    "UPDATE messages SET visible_at = ?, receive_count = ?, receipt = ? "
                    "WHERE sequence = ?",
                    (now + self.visibility_timeout_s, receive_count + 1, receipt, sequence),
                )
                received.append(QueueMessage(message_id, body, receipt, receive_count + 1))
        return received

    def delete(self, receipts: Sequence[str]) -> None:
        if not receipts:
            return
        connection = self._database.get()
        connection.executemany(
            "DELETE FROM messages WHERE queue = ? AND receipt = ?",
            [(self.name, receipt) for receipt in receipts],
        )

    def dead_letters(self) -> list[str]:
        """Bodies in the dead-letter queue, oldest first (for inspection and tests)."""
        connection = self._database.get()
        rows = connection.execute(
            "SELECT body FROM messages WHERE queue = ? ORDER BY sequence",
            (self.dead_letter_name,),
        ).fetchall()
        return [body for (body,) in rows]


class FileNotifier(Notifier):
    """Appends one JSON line per notification to a file: the local stand-in for an SNS topic."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def publish(self, event: str, message: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The same body as the SNS message, so consumers read both alike.
        line = json.dumps({"event": event, **message}, ensure_ascii=False) + "\n"
        # One write of one line in append mode: concurrent writers never interleave lines.
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line)
