"""What the Dagster instance already knows about runs the sensors request."""

from collections.abc import Iterable

import dagster as dg

# Dagster's own tags: it dedupes a sensor's run requests by these two.
RUN_KEY_TAG = "dagster/run_key"
SENSOR_NAME_TAG = "dagster/sensor_name"


def existing_run_keys(
    instance: dg.DagsterInstance, sensor_name: str, run_keys: Iterable[str]
) -> set[str]:
    """The run keys among `run_keys` that this sensor already launched a run for.

    Dagster would skip those requests anyway; leaving them out keeps ticks quiet and makes
    "requested once" literally true.
    """
    wanted = sorted(set(run_keys))
    if not wanted:
        return set()
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={RUN_KEY_TAG: wanted, SENSOR_NAME_TAG: sensor_name})
    )
    return {run.tags[RUN_KEY_TAG] for run in runs}
