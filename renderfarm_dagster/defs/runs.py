"""What the Dagster instance already knows about runs the sensors request."""

from collections.abc import Collection, Iterable

import dagster as dg

from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.partitions import products


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


class SensorRuns:
    """What the instance knows that a sensor's tick needs: the runs the sensor launched and the
    product partitions (catalog/spec_tick.py's RunsSeen)."""

    def __init__(self, instance: dg.DagsterInstance, sensor_name: str):
        self.instance = instance
        self.sensor_name = sensor_name

    def launched(self, run_keys: Collection[str]) -> set[str]:
        return existing_run_keys(self.instance, self.sensor_name, run_keys)

    def partitions(self) -> list[str]:
        return list(self.instance.get_dynamic_partitions(products.name))
