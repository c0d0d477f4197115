"""Run tags this project reads and writes, and the ones of Dagster and dagster-aws it relies on."""

# How many times the partitions of this run were interrupted before it: 0 on a first run.
# Also the checkpoint attempt, so an interrupted run never overwrites its retry's checkpoints.
INTERRUPTIONS = "renderfarm/interruptions"
# The run a retry replaces.
RETRY_OF = "renderfarm/retry_of"
# The first run of the request a retry resumes (absent on a first run: the run itself). A
# product the request announced is not announced again by its retries.
REQUEST = "renderfarm/request"
# Set on a run whose products were carried to their outcomes and some could not be published:
# how many. Each was reported on its own (render_failed), so the run's failure is not.
FAILED_PRODUCTS = "renderfarm/failed_products"
# Set on a run that was interrupted: "sigterm" by the run itself, or the EventBridge event id
# by the spot sensor. A failed run with this tag is retried, not reported as a failure.
INTERRUPTED = "renderfarm/interrupted"
# Why the spec sensor requested a run: the spec, template or photo that changed.
REASON = "renderfarm/reason"
# On a run requested because an uploaded template or photo changed: its key and new sha256.
CHANGED_INPUT = "renderfarm/changed_input"
CHANGED_INPUT_SHA256 = "renderfarm/changed_input_sha256"

# Dagster's partition tags: a run carries one partition, or a range for batched backfills.
PARTITION = "dagster/partition"
PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"
# Dagster's own: it dedupes a sensor's run requests by these two.
RUN_KEY = "dagster/run_key"
SENSOR_NAME = "dagster/sensor_name"
# Dagster's own run retries: this project turns them off (docs/deployments.md, "Event flow").
MAX_RETRIES = "dagster/max_retries"
