"""Loopback ports for the servers tests start (PostgreSQL, the Dagster webserver)."""

import socket


def free_port() -> int:
    """A port nothing listens on now (the server started next binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
