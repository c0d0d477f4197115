"""The production run launcher: dagster-aws's EcsRunLauncher, reading spot-stopped tasks as failed.

The stock launcher reads a stopped task whose containers all exited 0 as a success. A task that
Fargate Spot reclaimed can exit 0 (`dagster api execute_run` does after SIGTERM, if anything runs
it without the `renderfarm-worker` entry point); run monitoring then leaves its run STARTED for
good, and neither the failure notifier nor the interruption sensor ever sees it finish. ECS's
stopCode says what happened whatever the exit code, so it decides here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster_aws.ecs import EcsRunLauncher

from renderfarm_dagster.catalog.events import SPOT_STOP_CODES
from renderfarm_dagster.defs import tags


def spot_stopped(task: Mapping[str, Any]) -> bool:
    """Whether ECS stopped this task (a DescribeTasks entry) to reclaim spot capacity."""
    return task.get("lastStatus") == "STOPPED" and task.get("stopCode") in SPOT_STOP_CODES


class SpotAwareEcsRunLauncher(EcsRunLauncher):
    """EcsRunLauncher whose health check reads a spot-reclaimed task as a failed worker."""

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        result = super().check_run_worker_health(run)
        if result.status != WorkerStatus.SUCCESS:
            return result
        task_arn, cluster = run.tags.get(tags.ECS_TASK_ARN), run.tags.get(tags.ECS_CLUSTER)
        described = self.ecs.describe_tasks(tasks=[task_arn], cluster=cluster).get("tasks", [])
        if not (described and spot_stopped(described[0])):
            return result
        task = described[0]
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"Task {task_arn} was stopped by ECS ({task['stopCode']}: "
            f"{task.get('stoppedReason', 'no reason given')}) before the run finished.",
            run_worker_id=result.run_worker_id,
        )
