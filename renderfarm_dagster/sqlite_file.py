"""SQLite files of the local deployment, shared by several processes and threads."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# How long a statement waits for another writer before failing.
BUSY_TIMEOUT_S = 30


class SqliteConnections:
    """One autocommit connection per process and thread, opened on first use and reused.

    Opening and closing a connection per call costs a WAL checkpoint each time (about 7 ms per
    checkpoint write in `make bench`). Connections must not cross a fork or a thread, hence
    one per (pid, thread). Statements run in autocommit; `transaction()` groups them.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connections: dict[tuple[int, int], sqlite3.Connection] = {}
        self._use_wal()

    def _use_wal(self) -> None:
        # WAL is a property of the file: set once, by whoever opens it first. Setting it needs
        # the file to itself and fails at once with "database is locked" while another process
        # or thread writes (SQLite does not wait on its busy timeout here), so an open file that
        # is already WAL is left alone and a busy one is retried.
        connection = self.get()
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                connection.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def get(self) -> sqlite3.Connection:
        key = (os.getpid(), threading.get_ident())
        connection = self._connections.get(key)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            # WAL with synchronous=NORMAL survives a crashed process (what runs and sensors
            # must survive); only a power cut can lose the last commits, never corrupt them.
            connection.execute("PRAGMA synchronous=NORMAL")
            self._connections[key] = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Statements that commit together or not at all.

        IMMEDIATE takes the write lock first, so two writers never interleave between a read
        and the write that depends on it.
        """
        connection = self.get()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
