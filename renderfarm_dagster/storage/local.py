"""Local deployment storage: a folder is the bucket, one SQLite file holds checkpoints and
interruptions."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

from renderfarm_dagster.keys import InvalidKeyError, validate_foreign_key, validate_key
from renderfarm_dagster.sqlite_file import SqliteConnections
from renderfarm_dagster.storage import (
    CheckpointStore,
    InputIndex,
    Interruption,
    InterruptionLedger,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    ObjectSummary,
    OutputCheckpoint,
)

# Temporary files start with this, which no valid key segment can, so listings never show them.
_PARTIAL_PREFIX = ".partial-"


class LocalObjectStore(ObjectStore):
    """Objects as files under `root`, at `root/<key>`."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        validate_foreign_key(key)
        path = (self.root / key).resolve()
        # Symlinks inside the bucket must not lead out of it.
        if not path.is_relative_to(self.root):
            raise InvalidKeyError(f"invalid key {key!r}: resolves outside the bucket")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        path = self._path(validate_key(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: os.replace is atomic within a filesystem, so a process killed
        # mid-write leaves at most a stray .partial- file, never a truncated object.
        handle, temporary = tempfile.mkstemp(prefix=_PARTIAL_PREFIX, dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return ObjectInfo(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(key) from None

    def head(self, key: str) -> ObjectInfo | None:
        try:
            data = self.get(key)
        except ObjectNotFoundError:
            return None
        return ObjectInfo(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def list(self, prefix: str, start_after: str = "") -> Iterator[ObjectSummary]:
        # The deepest folder the prefix names is the only one that needs walking.
        folder = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not folder.resolve().is_relative_to(self.root) or not folder.is_dir():
            return
        found = []
        for directory, subdirectories, files in os.walk(folder):
            subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                path = Path(directory, name)
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and key > start_after:
                    found.append((key, path))
        # S3 lists in UTF-8 byte order; sorting the encoded keys gives the same order here.
        found.sort(key=lambda item: item[0].encode("utf-8", "surrogateescape"))
        for key, path in found:
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            yield ObjectSummary(key=key, size=size)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS output_checkpoints (
    product_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    output_name TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    PRIMARY KEY (product_id, variant_id, output_name)
);
CREATE TABLE IF NOT EXISTS interruptions (
    run_id TEXT PRIMARY KEY,
    task_arn TEXT NOT NULL,
    event_id TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pending_interruptions ON interruptions (settled, recorded_at);
CREATE TABLE IF NOT EXISTS input_users (
    input_key TEXT NOT NULL,
    product_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (input_key, product_id)
);
CREATE INDEX IF NOT EXISTS inputs_of_product ON input_users (product_id);
CREATE TABLE IF NOT EXISTS input_seen (
    input_key TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL
);
"""
# The checkpoint table's columns are OutputCheckpoint's fields, in order.
_FIELDS = tuple(field.name for field in dataclasses.fields(OutputCheckpoint))
_COLUMNS = ", ".join(_FIELDS)
_CHECKPOINT_KEY = ("product_id", "variant_id", "output_name")
# Built once: it runs for every stored variant. A newer attempt's checkpoint replaces an older
# one's, never the reverse.
_UPSERT_CHECKPOINTS = (
    f"INSERT INTO output_checkpoints ({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))}) "
    f"ON CONFLICT ({', '.join(_CHECKPOINT_KEY)}) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _FIELDS if name not in _CHECKPOINT_KEY)
    + " WHERE excluded.attempt >= output_checkpoints.attempt"
)


class _SqliteFile:
    """One SQLite file, safe for several processes (WAL, busy timeout)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._database = SqliteConnections(self.path)
        # executescript commits on its own; the schema is idempotent (IF NOT EXISTS).
        self._database.get().executescript(_SCHEMA)
        with self._database.transaction() as connection:
            columns = {
                row[1] for row in connection.execute("PRAGMA table_info(output_checkpoints)")
            }
            if "attempt" not in columns:
                # Data folders made before attempts existed: their checkpoints are first attempts.
                connection.execute(
                    "ALTER TABLE output_checkpoints ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0"
                )


class SqliteCheckpointStore(_SqliteFile, CheckpointStore):
    """Checkpoints in a table of the local deployment's SQLite file."""

    def record(self, checkpoints: Sequence[OutputCheckpoint]) -> None:
        # Not dataclasses.astuple: it deep-copies every value, about 30 us a row against 2.
        rows = [tuple(getattr(c, name) for name in _FIELDS) for c in checkpoints]
        with self._database.transaction() as connection:
            connection.executemany(_UPSERT_CHECKPOINTS, rows)

    def read(self, product_id: str) -> dict[tuple[str, str], OutputCheckpoint]:
        rows = (
            self._database.get()
            .execute(
                f"SELECT {_COLUMNS} FROM output_checkpoints WHERE product_id = ?", (product_id,)
            )
            .fetchall()
        )
        checkpoints = (OutputCheckpoint(*row) for row in rows)
        return {(c.variant_id, c.output_name): c for c in checkpoints}


class SqliteInterruptionLedger(_SqliteFile, InterruptionLedger):
    """Interruptions in a table of the local deployment's SQLite file."""

    def record(self, interruption: Interruption) -> bool:
        with self._database.transaction() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO interruptions (run_id, task_arn, event_id, recorded_at) "
                "VALUES (?, ?, ?, ?)",
                (
                    interruption.run_id,
                    interruption.task_arn,
                    interruption.event_id,
                    interruption.recorded_at,
                ),
            )
            return cursor.rowcount == 1

    def pending(self, limit: int) -> list[Interruption]:
        rows = (
            self._database.get()
            .execute(
                "SELECT run_id, task_arn, event_id, recorded_at FROM interruptions "
                "WHERE settled = 0 ORDER BY recorded_at, run_id LIMIT ?",
                (limit,),
            )
            .fetchall()
        )
        return [Interruption(*row) for row in rows]

    def settle(self, run_id: str) -> None:
        with self._database.transaction() as connection:
            connection.execute("UPDATE interruptions SET settled = 1 WHERE run_id = ?", (run_id,))


class SqliteInputIndex(_SqliteFile, InputIndex):
    """The input index in two tables of the local deployment's SQLite file."""

    def record(self, product_id: str, inputs: Mapping[str, str]) -> None:
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM input_users WHERE product_id = ?", (product_id,))
            connection.executemany(
                "INSERT INTO input_users (input_key, product_id, sha256) VALUES (?, ?, ?)",
                [(key, product_id, sha256) for key, sha256 in sorted(inputs.items())],
            )

    def users(self, input_key: str, after: str = "", limit: int = 1000) -> list[tuple[str, str]]:
        rows = (
            self._database.get()
            .execute(
                "SELECT product_id, sha256 FROM input_users "
                "WHERE input_key = ? AND product_id > ? ORDER BY product_id LIMIT ?",
                (input_key, after, limit),
            )
            .fetchall()
        )
        return [(product_id, sha256) for product_id, sha256 in rows]

    def seen(self, input_keys: Collection[str]) -> dict[str, str]:
        connection = self._database.get()
        found = {}
        keys = sorted(set(input_keys))
        # In chunks: SQLite limits the parameters of one statement.
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = connection.execute(
                "SELECT input_key, sha256 FROM input_seen "
                f"WHERE input_key IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update(dict(rows.fetchall()))
        return found

    def see(self, sha256s: Mapping[str, str]) -> None:
        with self._database.transaction() as connection:
            connection.executemany(
                "INSERT INTO input_seen (input_key, sha256) VALUES (?, ?) "
                "ON CONFLICT (input_key) DO UPDATE SET sha256 = excluded.sha256",
                sorted(sha256s.items()),
            )
