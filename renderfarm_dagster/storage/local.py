"""Local deployment storage: a folder is the bucket, one SQLite file holds checkpoints and
interruptions."""

from __future__ import annotations

import bisect
import dataclasses
import errno
import hashlib
import os
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from stat import S_ISLNK

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
    ProductOutcome,
)

# Temporary files start with this, which no valid key segment can, so listings never show them.
_PARTIAL_PREFIX = ".partial-"


def _file_version(stat: os.stat_result) -> str:
    # The inode changes on every put (write, then rename) and mtime on an in-place edit.
    return f"{stat.st_size}-{stat.st_mtime_ns}-{stat.st_ino}"


# A folder's entries sorted by key, kept while the folder is unchanged: a sweep lists a few
# thousand keys per tick from a folder of 100,000 without reading and sorting it every time.
# A folder's mtime changes when an entry is added, removed or renamed; entries of a folder
# changed in the last seconds are read again, as mtime may not tick between two quick changes.
# Only large folders are kept (a small one is read as fast as it is checked), and only the
# last few read: a long-running process listing many folders does not grow.
_FRESH_FOLDER_S = 2.0
_CACHED_FOLDER_MIN_ENTRIES = 1000
_MAX_CACHED_FOLDERS = 16
_folder_entries: dict[Path, tuple[tuple[int, int], list[tuple[bytes, str, bool]]]] = {}


def _sorted_entries(folder: Path) -> list[tuple[bytes, str, bool]]:
    """(sort key, name, is a folder) of the visible entries of `folder`, in key order."""
    stat = folder.stat()
    identity = (stat.st_mtime_ns, stat.st_ino)
    cached = _folder_entries.get(folder)
    if (
        cached is not None
        and cached[0] == identity
        and time.time() - stat.st_mtime > _FRESH_FOLDER_S
    ):
        return cached[1]
    entries = []
    with os.scandir(folder) as scan:
        for entry in scan:
            if entry.name.startswith("."):
                continue
            is_folder = entry.is_dir(follow_symlinks=False)
            # A folder's keys all start with "<name>/": it sorts as that prefix. S3 lists in
            # UTF-8 byte order; sorting the encoded names gives the same order here.
            name = entry.name + "/" if is_folder else entry.name
            entries.append((name.encode("utf-8", "surrogateescape"), entry.name, is_folder))
    entries.sort()
    _folder_entries.pop(folder, None)
    if len(entries) >= _CACHED_FOLDER_MIN_ENTRIES:
        _folder_entries[folder] = (identity, entries)
        if len(_folder_entries) > _MAX_CACHED_FOLDERS:
            del _folder_entries[next(iter(_folder_entries))]  # the one kept longest
    return entries


def _walk_sorted(
    folder: Path, base: str, prefix: str, start_after: str
) -> Iterator[tuple[str, Path]]:
    """(key, path) of the files under `folder` (whose keys start with `base`) that start with
    `prefix` and sort after `start_after`, in key order, lazily."""
    after = start_after.encode("utf-8", "surrogateescape")
    wanted = prefix.encode("utf-8", "surrogateescape")
    entries = _sorted_entries(folder)
    base_bytes = base.encode("utf-8", "surrogateescape")
    # Skip straight to the entries that can hold keys after `start_after`.
    start = 0
    if after.startswith(base_bytes):
        start = bisect.bisect_left(entries, (after[len(base_bytes) :],))
        # The entry just before may be a folder holding keys after `start_after`.
        start = max(start - 1, 0)
    for sort_key, name, is_folder in entries[start:]:
        key_bytes = base_bytes + sort_key
        if is_folder:
            # All its keys start with key_bytes: skip it when they all sort before `after` or
            # none can start with the prefix.
            if after > key_bytes and not after.startswith(key_bytes):
                continue
            if not (key_bytes.startswith(wanted) or wanted.startswith(key_bytes)):
                continue
            yield from _walk_sorted(folder / name, base + name + "/", prefix, start_after)
        elif key_bytes > after and key_bytes.startswith(wanted):
            yield base + name, folder / name


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

    def link(self, key: str) -> str:
        return self._path(validate_key(key)).as_uri()

    def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        path = self._path(validate_key(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: os.replace is atomic within a filesystem, so a process killed
        # mid-write leaves at most a stray .partial- file, never a truncated object.
        handle, temporary = tempfile.mkstemp(prefix=_PARTIAL_PREFIX, dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                # The renamed file keeps this inode and mtime: the version it is listed with.
                version = _file_version(os.fstat(file.fileno()))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        sha256 = hashlib.sha256(data).hexdigest()
        return ObjectInfo(key=key, size=len(data), sha256=sha256, version=version)

    def get(self, key: str) -> bytes:
        data, _ = self._read(key)
        return data

    def _read(self, key: str) -> tuple[bytes, str]:
        """The bytes at `key` and the listing version of exactly those bytes (the opened
        file's: a put meanwhile replaces the file with a new inode)."""
        validate_foreign_key(key)
        try:
            with os.fdopen(self._open(key), "rb") as file:
                version = _file_version(os.fstat(file.fileno()))
                return file.read(), version
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(key) from None

    def _open(self, key: str) -> int:
        """The file at `key`, opened for reading one path segment at a time from the bucket's
        folder without following any symbolic link: a link inside the bucket cannot lead out
        of it, even one swapped in between a check and the read. A quarter of the cost of
        resolving the path first (the spec sensor reads thousands of specs a tick)."""
        *folders, name = key.split("/")
        directory = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for folder in folders:
                try:
                    inner = os.open(
                        folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory
                    )
                except NotADirectoryError:
                    # What O_NOFOLLOW reports for a link where a folder is expected.
                    if S_ISLNK(os.stat(folder, dir_fd=directory, follow_symlinks=False).st_mode):
                        raise InvalidKeyError(
                            f"invalid key {key!r}: {folder} is a symbolic link"
                        ) from None
                    raise
                os.close(directory)
                directory = inner
            try:
                return os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=directory)
            except OSError as error:
                if error.errno == errno.ELOOP:  # what O_NOFOLLOW reports for a link
                    raise InvalidKeyError(
                        f"invalid key {key!r}: {name} is a symbolic link"
                    ) from None
                raise
        finally:
            os.close(directory)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            data, version = self._read(key)
        except ObjectNotFoundError:
            return None
        return ObjectInfo(
            key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest(), version=version
        )

    def list(self, prefix: str, start_after: str = "") -> Iterator[ObjectSummary]:
        # The deepest folder the prefix names is where the walk starts.
        base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        folder = self.root / base
        if not folder.resolve().is_relative_to(self.root) or not folder.is_dir():
            return
        for key, path in _walk_sorted(folder, base, prefix, start_after):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            yield ObjectSummary(key=key, size=stat.st_size, version=_file_version(stat))

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
CREATE TABLE IF NOT EXISTS product_outcomes (
    product_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    published INTEGER NOT NULL,
    detail TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (product_id, request_id)
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


# SQLite limits the parameters of one statement: IN lists are sent this many values at a time.
_IN_CHUNK = 500


def _in_chunks(values: Collection[str]) -> Iterator[tuple[list[str], str]]:
    """The distinct values in order, _IN_CHUNK at a time, each chunk with its IN list of
    placeholders."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        yield chunk, f"({', '.join('?' * len(chunk))})"


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

    def record_outcome(self, outcome: ProductOutcome) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO product_outcomes (product_id, request_id, published, detail, run_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (product_id, request_id) DO UPDATE SET "
                "published = excluded.published, detail = excluded.detail, "
                "run_id = excluded.run_id",
                (
                    outcome.product_id,
                    outcome.request_id,
                    int(outcome.published),
                    outcome.detail,
                    outcome.run_id,
                ),
            )

    def outcomes(self, request_id: str, product_ids: Collection[str]) -> dict[str, ProductOutcome]:
        connection = self._database.get()
        found = {}
        for chunk, placeholders in _in_chunks(product_ids):
            rows = connection.execute(
                "SELECT product_id, request_id, published, detail, run_id FROM product_outcomes "
                f"WHERE request_id = ? AND product_id IN {placeholders}",
                [request_id, *chunk],
            )
            for product_id, request, published, detail, run_id in rows:
                found[product_id] = ProductOutcome(
                    product_id, request, bool(published), detail, run_id
                )
        return found

    def forget(self, product_id: str) -> None:
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM output_checkpoints WHERE product_id = ?", (product_id,))
            connection.execute("DELETE FROM product_outcomes WHERE product_id = ?", (product_id,))


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

    def inputs_of(self, product_id: str) -> dict[str, str]:
        rows = (
            self._database.get()
            .execute(
                "SELECT input_key, sha256 FROM input_users WHERE product_id = ?", (product_id,)
            )
            .fetchall()
        )
        return dict(rows)

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
        for chunk, placeholders in _in_chunks(input_keys):
            rows = connection.execute(
                f"SELECT input_key, sha256 FROM input_seen WHERE input_key IN {placeholders}",
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

    def unsee(self, input_keys: Collection[str]) -> None:
        with self._database.transaction() as connection:
            connection.executemany(
                "DELETE FROM input_seen WHERE input_key = ?", [(key,) for key in sorted(input_keys)]
            )
