"""The code location: everything Dagster loads from this project."""

import dagster as dg

from renderfarm_dagster.defs.assets import render_products
from renderfarm_dagster.defs.failure_sensor import render_failure_notifier
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.spec_sensor import spec_inbox_sensor
from renderfarm_dagster.defs.spot_sensor import spot_interruption_sensor
from renderfarm_dagster.deployment import resources


def build_definitions() -> dg.Definitions:
    """Definitions with the resources of the deployment the environment names right now."""
    return dg.Definitions(
        assets=[render_products],
        jobs=[render_catalog_job],
        sensors=[spec_inbox_sensor, spot_interruption_sensor, render_failure_notifier],
        resources=resources(),
    )


defs = build_definitions()
