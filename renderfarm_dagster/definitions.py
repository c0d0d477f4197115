"""The code location: everything Dagster loads from this project."""

import dagster as dg

from renderfarm_dagster.defs.assets import product_manifest, rendered_variants
from renderfarm_dagster.defs.checks import manifest_matches_spec, stored_outputs_checks
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.sensors import spec_inbox_sensor
from renderfarm_dagster.deployment import storage_resource

defs = dg.Definitions(
    assets=[rendered_variants, product_manifest],
    asset_checks=[manifest_matches_spec, stored_outputs_checks],
    jobs=[render_catalog_job],
    sensors=[spec_inbox_sensor],
    resources={"storage": storage_resource()},
)
