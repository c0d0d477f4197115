"""The Dagster instance's PostgreSQL storage, keeping its connections open.

dagster-postgres opens a new connection for every statement (SQLAlchemy's NullPool) in every
process but the webserver. A run worker makes about 30 statements per product, and each new
connection is a TLS handshake and a SCRAM login: `make bench` measured 611 connections and 6.9 s
of a 24.5 s, 20-product run, Dagster's overhead per product at 61% of its render time on
PostgreSQL against 12% on SQLite. This storage asks each of its three stores to hold one
connection open (Dagster's own webserver mode), in the daemon and the run workers too.

deploy/dagster.yaml names it as the `custom` storage with dagster-postgres's configuration.
"""

from __future__ import annotations

from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

# A connection older than this is replaced when next taken from the pool: one a failover or
# an idle timeout has closed is not kept for long (the webserver uses one hour).
POOL_RECYCLE_S = 300
# Connections beyond the one kept open, closed again when returned: a run worker's event
# writes and its step's own queries can overlap.
POOL_MAX_OVERFLOW = 8
# No statement timeout, as with dagster-postgres's default engine: a long query of the
# daemon (a large backfill's partitions) must not fail half-way.
NO_STATEMENT_TIMEOUT = 0


class PooledPostgresStorage(DagsterPostgresStorage):
    """DagsterPostgresStorage with one connection kept open per store and process."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for store in (self.run_storage, self.event_log_storage, self.schedule_storage):
            store.optimize_for_webserver(
                statement_timeout=NO_STATEMENT_TIMEOUT,
                pool_recycle=POOL_RECYCLE_S,
                max_overflow=POOL_MAX_OVERFLOW,
            )

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value
    ) -> PooledPostgresStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
