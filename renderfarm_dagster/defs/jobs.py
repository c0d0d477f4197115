"""The render job: a product's variants, its manifest and the checks on them."""

import dagster as dg

from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.assets import PRODUCT_MANIFEST, RENDERED_VARIANTS

render_catalog_job = dg.define_asset_job(
    name="render_catalog",
    description="Render a product's variants, write its manifest and run the checks on both.",
    selection=dg.AssetSelection.assets(RENDERED_VARIANTS, PRODUCT_MANIFEST),
    # The one step runs in the run's own process: parallelism comes from the render pool
    # inside it, and a process of its own would re-import cairosvg and Dagster for nothing.
    executor_def=dg.in_process_executor,
    # The spot sensor is the only thing that retries a run: with Dagster's run retries on too,
    # one interruption would give two retries.
    tags={tags.MAX_RETRIES: "0"},
)
