"""What the Dagster instance already knows about runs the sensors request."""

from collections.abc import Iterable

import dagster as dg

from renderfarm_dagster.defs import tags


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
        filters=dg.RunsFilter(tags={tags.RUN_KEY: wanted, tags.SENSOR_NAME: sensor_name})
    )
    return {run.tags[tags.RUN_KEY] for run in runs}
