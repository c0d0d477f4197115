"""A throwaway PostgreSQL server, for the tests and the bench that use production's storage.

Debian's server binaries (installed by tests/install-test-packages.sh, which `make test` runs)
start a private cluster in a temporary directory on a free loopback port, with TLS (a
self-signed certificate, so PGSSLMODE=require holds as in production) and password
authentication. Nothing system-wide is configured or started.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devkit.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
USER = "dagster"
DATABASE = "dagster"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    return Path(found[-1]).parent if found else None


def _major_version(initdb: str) -> int:
    return int(Path(initdb).parent.parent.name)


def _as_server_user() -> tuple[list[str], int | None]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's `postgres` user."""
    if os.geteuid() != 0:
        return [], None
    return ["runuser", "-u", "postgres", "--"], pwd.getpwnam("postgres").pw_uid


@contextmanager
def running_postgres(binaries: Path) -> Iterator[PostgresServer]:
    prefix, uid = _as_server_user()
    password = "test-" + os.urandom(8).hex()
    root = Path(tempfile.mkdtemp(prefix="renderfarm-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    password_file = root / "password"
    password_file.write_text(password)
    if uid is not None:
        shutil.chown(root, user=uid)
        shutil.chown(sockets, user=uid)
        shutil.chown(password_file, user=uid)
    try:
        subprocess.run(
            [*prefix, str(binaries / "initdb"), "--pgdata", str(data), "--username", USER,
             "--pwfile", str(password_file), "--auth", "scram-sha-256", "--encoding", "UTF8"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [*prefix, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-keyout", str(data / "server.key"),
             "-out", str(data / "server.crt")],
            check=True, capture_output=True,
        )  # fmt: skip
        port = free_port()
        server = subprocess.Popen(
            [*prefix, str(binaries / "postgres"), "-D", str(data), "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sockets}",
             "-c", "ssl=on", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            _wait_until_accepting(binaries, port, server)
            subprocess.run(
                [str(binaries / "createdb"), "--host", "127.0.0.1", "--port", str(port),
                 "--username", USER, DATABASE],
                check=True, capture_output=True, env={**os.environ, "PGPASSWORD": password},
            )  # fmt: skip
            yield PostgresServer("127.0.0.1", port, USER, password, DATABASE)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_accepting(binaries: Path, port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"postgres exited: {server.stderr.read().decode()}")
        ready = subprocess.run(
            [str(binaries / "pg_isready"), "--host", "127.0.0.1", "--port", str(port)],
            capture_output=True,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"postgres did not accept connections on port {port} within 30 s")


def connect(server: PostgresServer):
    """A psycopg2 connection to `server`'s own database, over TLS."""
    import psycopg2

    return psycopg2.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        dbname=server.database,
        sslmode="require",
    )


def create_database(server: PostgresServer, name: str) -> None:
    """A new, empty database on `server` (one per Dagster instance measured)."""
    from psycopg2 import sql

    connection = connect(server)
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def production_instance(server: PostgresServer, database: str) -> tuple[str, dict[str, str]]:
    """A dagster.yaml stored as production's is, on `database` of `server`: deploy/dagster.yaml's
    storage block, and the environment variables it reads, as the stack sets them."""
    import yaml

    production = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    config = yaml.safe_dump({"storage": production["storage"]})
    environment = {
        "DAGSTER_PG_HOST": server.host,
        "DAGSTER_PG_PORT": str(server.port),
        "DAGSTER_PG_DB": database,
        "DAGSTER_PG_USERNAME": server.user,
        "DAGSTER_PG_PASSWORD": server.password,
        "PGSSLMODE": "require",
    }
    return config, environment
