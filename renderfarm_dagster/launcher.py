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

import dagster as dg
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster_aws.ecs import EcsRunLauncher

from renderfarm_dagster.ecs import CLUSTER_TAG, TASK_ARN_TAG
from renderfarm_dagster.messaging.events import SPOT_STOP_CODES


def spot_stopped(task: Mapping[str, Any]) -> bool:
    """Whether ECS stopped this task (a DescribeTasks entry) to reclaim spot capacity."""
    return task.get("lastStatus") == "STOPPED" and task.get("stopCode") in SPOT_STOP_CODES


def health_of_stopped_task(
    reported: CheckRunHealthResult, task: Mapping[str, Any] | None
) -> CheckRunHealthResult:
    """The stock launcher's verdict, unless it says SUCCESS for a task spot reclaimed."""
    if reported.status != WorkerStatus.SUCCESS or not (task and spot_stopped(task)):
        return reported
    return CheckRunHealthResult(
        WorkerStatus.FAILED,
        f"Task {task.get('taskArn')} was stopped by ECS ({task['stopCode']}: "
        f"{task.get('stoppedReason', 'no reason given')}) before the run finished.",
        run_worker_id=reported.run_worker_id,
    )


class SpotAwareEcsRunLauncher(EcsRunLauncher):
    """EcsRunLauncher whose health check reads a spot-reclaimed task as a failed worker."""

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        reported = super().check_run_worker_health(run)
        if reported.status != WorkerStatus.SUCCESS:
            return reported
        described = self.ecs.describe_tasks(
            tasks=[run.tags[TASK_ARN_TAG]], cluster=run.tags[CLUSTER_TAG]
        ).get("tasks", [])
        return health_of_stopped_task(reported, described[0] if described else None)
