"""What the Dagster daemon does with a sensor tick's result, for driving sensors in tests.

It applies partition requests, then launches each run request unless a run with the same run
key from the same sensor exists (Dagster's own rule), then stores the cursor. A "killed" tick
evaluates the sensor and applies nothing, as when the daemon dies before storing the result.
"""

from __future__ import annotations

import uuid

import dagster as dg

from renderfarm_dagster.defs import tags


def partitions_of(request_or_run: dg.RunRequest | dg.DagsterRun, instance) -> list[str]:
    """The products a run request (or run) targets: its partition, or every product of its
    range (in partition order, as Dagster resolves it)."""
    run_tags = request_or_run.tags
    partition = getattr(request_or_run, "partition_key", None) or run_tags.get(tags.PARTITION)
    if partition:
        return [partition]
    order = list(instance.get_dynamic_partitions("products"))
    start = order.index(run_tags[tags.PARTITION_RANGE_START])
    return order[start : order.index(run_tags[tags.PARTITION_RANGE_END]) + 1]


class SensorDriver:
    def __init__(self, sensor: dg.SensorDefinition, instance, resources: dict):
        self.sensor = sensor
        self.instance = instance
        self.resources = resources
        self.cursor: str | None = None
        self.launched: list[dg.DagsterRun] = []
        # Run keys are unique per sensor (Dagster's rule); one driver drives one sensor.
        self._launched_keys: set[str] = set()

    def evaluate(self) -> dg.SensorResult:
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources=self.resources
        ) as context:
            return self.sensor(context)

    def tick(self) -> dg.SensorResult:
        return self.apply(self.evaluate())

    def apply(self, result: dg.SensorResult) -> dg.SensorResult:
        """What the daemon does with one tick's result (also for ticks that overlapped)."""
        for request in result.dynamic_partitions_requests:
            self.instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        for request in result.run_requests:
            self.launch(request)
        if result.cursor is not None:
            self.cursor = result.cursor
        return result

    def kill_mid_tick(self) -> dg.SensorResult:
        """The sensor ran (and did its side effects); the daemon died before storing anything."""
        return self.evaluate()

    def launch(self, request: dg.RunRequest) -> dg.DagsterRun | None:
        if request.run_key in self._launched_keys:
            return None
        self._launched_keys.add(request.run_key)
        run_tags = {
            **request.tags,
            tags.RUN_KEY: request.run_key,
            tags.SENSOR_NAME: self.sensor.name,
        }
        if request.partition_key:
            run_tags[tags.PARTITION] = request.partition_key
        run = self.instance.add_run(
            dg.DagsterRun(
                job_name="render_catalog",
                run_id=str(uuid.uuid4()),
                tags=run_tags,
                status=dg.DagsterRunStatus.NOT_STARTED,
            )
        )
        self.launched.append(run)
        return run

    def launched_partitions(self, **with_tags: str) -> list[str]:
        """The products of every run launched (with these tags), sorted; repeats stay."""
        return sorted(
            product
            for run in self.launched
            if all(run.tags.get(k) == v for k, v in with_tags.items())
            for product in partitions_of(run, self.instance)
        )
