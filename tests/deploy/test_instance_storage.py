"""Production's Dagster storage (deploy/dagster.yaml) keeps its PostgreSQL connections open."""

import dagster as dg

from devkit.postgres import connect, create_database, production_instance
from renderfarm_dagster.instance_storage import PooledPostgresStorage


def backends(postgres, database: str) -> set[int]:
    """The server processes serving `database`: one per open connection."""
    connection = connect(postgres)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))
            return {pid for (pid,) in cursor.fetchall()}
    finally:
        connection.close()


def test_the_production_instance_reuses_its_connections(postgres, tmp_path, monkeypatch):
    database = "pooled_storage"
    create_database(postgres, database)
    config, environment = production_instance(postgres, database)
    (tmp_path / "dagster.yaml").write_text(config)
    for name, value in {**environment, "DAGSTER_HOME": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)

    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.get_ref().storage, PooledPostgresStorage)

        def use_every_store() -> None:
            # The run, event log and schedule stores, as a run worker and the daemon use them.
            instance.add_dynamic_partitions("products", ["p-1"])
            instance.has_dynamic_partition("products", "p-1")
            instance.get_runs(limit=1)
            instance.all_instigator_state()

        use_every_store()
        opened = backends(postgres, database)
        for _ in range(20):
            use_every_store()
        # dagster-postgres's default opens a connection per statement and closes it: none
        # would stay open, and every statement would have had a new server process.
        assert opened and len(opened) <= 3
        assert backends(postgres, database) == opened
