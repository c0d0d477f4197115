"""Local-deployment specifics: atomic writes and the bucket folder's boundary."""

import os

import pytest

from renderfarm_dagster.keys import InvalidKeyError
from renderfarm_dagster.storage import ObjectNotFoundError
from renderfarm_dagster.storage.local import LocalObjectStore


def test_a_write_that_dies_leaves_the_old_object_and_no_visible_partial(tmp_path, monkeypatch):
    store = LocalObjectStore(tmp_path)
    store.put("manifests/p1.json", b"complete", "application/json")

    def die(*args):
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(os, "replace", die)
    with pytest.raises(KeyboardInterrupt):
        store.put("manifests/p1.json", b"half", "application/json")
    monkeypatch.undo()
    assert store.get("manifests/p1.json") == b"complete"
    assert [s.key for s in store.list("")] == ["manifests/p1.json"]
    assert sorted(p.name for p in (tmp_path / "manifests").iterdir()) == ["p1.json"]


def test_partial_files_left_by_a_killed_process_are_not_listed(tmp_path):
    store = LocalObjectStore(tmp_path)
    store.put("specs/p1.json", b"{}", "application/json")
    (tmp_path / "specs" / ".partial-abc123").write_bytes(b"half")
    assert [s.key for s in store.list("specs/")] == ["specs/p1.json"]


def test_symlinks_cannot_lead_out_of_the_bucket(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text("secret")
    bucket = tmp_path / "bucket"
    (bucket / "specs").mkdir(parents=True)
    (bucket / "specs" / "link").symlink_to(outside)
    (bucket / "specs" / "secret.json").symlink_to(outside / "secret.json")
    store = LocalObjectStore(bucket)
    for key in ("specs/link/secret.json", "specs/secret.json"):
        with pytest.raises(InvalidKeyError, match="is a symbolic link"):
            store.get(key)
    (bucket / "specs" / "folder").mkdir()
    with pytest.raises(ObjectNotFoundError):
        store.get("specs/folder")  # a folder is no object


def test_opening_a_new_sqlite_file_while_another_writer_holds_it_waits(tmp_path):
    """The first opener switches a new file to WAL, which needs the file to itself: another
    thread or process may be creating its tables right then (two sensor ticks overlapping)."""
    import sqlite3
    import threading

    from renderfarm_dagster.sqlite_file import SqliteConnections

    path = tmp_path / "new.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x)")  # a new file, still in the default journal mode
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    opened = SqliteConnections(path)  # raised "database is locked" before it waited
    assert opened.get().execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert opened.get().execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_large_folder_listed_from_its_cache_still_sees_every_change(tmp_path):
    store = LocalObjectStore(tmp_path)
    folder = tmp_path / "specs"
    folder.mkdir()
    names = [f"p{index:05d}.json" for index in range(0, 3000, 2)]  # 1,500: large enough
    for name in names:
        (folder / name).write_bytes(b"{}")
    expected = [f"specs/{name}" for name in names]

    def age_folder():
        # Older than the seconds within which a folder is always read again.
        past = os.stat(folder).st_mtime - 10
        os.utime(folder, (past, past))

    age_folder()
    assert [s.key for s in store.list("specs/")] == expected
    # Listed again from the cache, from a start key.
    assert [s.key for s in store.list("specs/", "specs/p01000.json")][:2] == [
        "specs/p01002.json",
        "specs/p01004.json",
    ]
    # A file added: the folder's mtime moves (aged here, so that only the change of mtime,
    # not its recency, makes the listing read the folder again).
    (folder / "p01001.json").write_bytes(b"{}")
    age_folder()
    expected = sorted([*expected, "specs/p01001.json"])
    assert [s.key for s in store.list("specs/")] == expected
    # Replaced in place: the folder does not change, the file's listing version does.
    before = {s.key: s.version for s in store.list("specs/", "specs/p01999.json")}
    (folder / "p02000.json").write_bytes(b'{"changed": 1}')
    age_folder()
    listed = {s.key: s.version for s in store.list("specs/")}
    assert list(listed) == expected
    assert listed["specs/p02000.json"] != before["specs/p02000.json"]
