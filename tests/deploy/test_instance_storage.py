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


def test_a_batch_fails_only_its_bad_product_on_production_storage(
    postgres, tmp_path, monkeypatch, storage
):
    """Per-product outcomes hold on PostgreSQL as on SQLite: the good products of a range run
    materialised with their checks, the bad one failed alone."""
    from devkit import drops
    from renderfarm_dagster.definitions import build_definitions
    from renderfarm_dagster.defs import dagster_internals, tags
    from renderfarm_dagster.defs.partitions import products

    database = "outcomes"
    create_database(postgres, database)
    config, environment = production_instance(postgres, database)
    (tmp_path / "dagster.yaml").write_text(config)
    for name, value in {**environment, "DAGSTER_HOME": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    objects = storage.objects()
    drops.store_template(objects)
    ids = ["pg-a", "pg-b", "pg-c"]
    for index, product_id in enumerate(ids):
        objects.put(f"specs/{product_id}.json", drops.spec(product_id), "application/json")
        drops.store_photo(objects, product_id, index, "truncated" if product_id == "pg-b" else None)

    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(products.name, ids)
        result = (
            build_definitions()
            .resolve_job_def("render_catalog")
            .execute_in_process(
                instance=instance,
                tags={tags.PARTITION_RANGE_START: "pg-a", tags.PARTITION_RANGE_END: "pg-c"},
                raise_on_error=False,
            )
        )
        assert not result.success
        for asset in ("rendered_variants", "product_manifest"):
            key = dg.AssetKey(asset)
            assert dagster_internals.failed_partitions(instance, key, products) == {"pg-b"}
            materialised = instance.get_materialized_partitions(key)
            assert materialised == {"pg-a", "pg-c"}
        check = dg.AssetCheckKey(dg.AssetKey("product_manifest"), "product_verified")
        history = instance.event_log_storage.get_asset_check_execution_history(check, limit=10)
        succeeded = {r.partition for r in history if r.status.value == "SUCCEEDED"}
        assert succeeded == {"pg-a", "pg-c"}
