"""SpotAwareEcsRunLauncher's one decision, on ECS's own task shapes (the EventBridge fixtures
carry the same task document DescribeTasks returns)."""

from __future__ import annotations

import copy

import pytest
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

from renderfarm_dagster.launcher import health_of_stopped_task, spot_stopped
from tests.events import load_event


def stopped_task(**changes) -> dict:
    task = copy.deepcopy(load_event("ecs_task_fargate_spot_stopped.json")["detail"])
    task.update(changes)
    return task


def test_only_a_stopped_task_with_a_spot_stop_code_counts_as_reclaimed():
    assert spot_stopped(stopped_task())
    assert spot_stopped(stopped_task(stopCode="TerminationNotice"))
    assert not spot_stopped(load_event("ecs_task_fargate_spot_warning.json")["detail"])
    assert not spot_stopped(stopped_task(stopCode="EssentialContainerExited"))
    assert not spot_stopped(stopped_task(stopCode="UserInitiated"))


def test_a_reclaimed_task_that_exited_0_is_a_failed_worker():
    # `dagster api execute_run` exits 0 after SIGTERM; the stock launcher then says SUCCESS.
    task = stopped_task(containers=[{"name": "run", "lastStatus": "STOPPED", "exitCode": 0}])
    verdict = health_of_stopped_task(
        CheckRunHealthResult(WorkerStatus.SUCCESS, run_worker_id="abc123"), task
    )
    assert verdict.status == WorkerStatus.FAILED
    assert verdict.run_worker_id == "abc123"
    assert "SpotInterruption" in verdict.msg and task["taskArn"] in verdict.msg


@pytest.mark.parametrize(
    ("reported", "task"),
    [
        # A task that ended normally stays a success.
        (WorkerStatus.SUCCESS, stopped_task(stopCode="EssentialContainerExited")),
        (WorkerStatus.SUCCESS, None),
        # Anything the stock launcher did not call a success is left as it said.
        (WorkerStatus.FAILED, stopped_task()),
        (WorkerStatus.RUNNING, load_event("ecs_task_fargate_spot_warning.json")["detail"]),
        (WorkerStatus.UNKNOWN, None),
    ],
)
def test_every_other_verdict_stands(reported, task):
    result = CheckRunHealthResult(reported, "as reported", run_worker_id="abc123")
    assert health_of_stopped_task(result, task) is result
