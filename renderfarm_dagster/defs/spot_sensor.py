"""The spot-interruption sensor: an interrupted run gets exactly one retry, which resumes.

Each tick first records every interruption in the durable ledger, then deletes the messages,
then derives retry run requests from the ledger with run keys. A tick that dies anywhere loses
nothing: unrecorded messages come back, recorded ones are in the ledger, and run keys make a
request made twice launch once.
"""

import time

import dagster as dg

from renderfarm_dagster.cluster import Cluster
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.jobs import render_catalog_job
from renderfarm_dagster.defs.resources import ClusterResource, MessagingResource, StorageResource
from renderfarm_dagster.defs.runs import existing_run_keys
from renderfarm_dagster.messaging.events import (
    IgnoredEvent,
    InstanceInterrupted,
    TasksInterrupted,
    Unreadable,
)
from renderfarm_dagster.settings import escalate_after_interruptions
from renderfarm_dagster.storage import Interruption

SENSOR_NAME = "spot_interruption_sensor"
MAX_MESSAGES_PER_TICK = 100
MAX_RETRIES_PER_TICK = 50
# Fargate Spot sends SIGTERM with the warning and SIGKILL at most 120 s later. A run still
# not finished after this long is dead, whatever its status says.
SHUTDOWN_GRACE_S = 150
# Tags of the interrupted run that its retry must not inherit (and those of where it ran).
_NOT_INHERITED = (tags.INTERRUPTED, tags.RETRY_OF, tags.FAILED_PRODUCTS)


def _run_of_task(instance: dg.DagsterInstance, cluster: Cluster, task: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={cluster.task_tag: task}), limit=1)
    return runs[0] if runs else None


def retry_run_key(run_id: str) -> str:
    return f"spot-retry:{run_id}"


def retry_request(run: dg.DagsterRun, escalate_after: int, cluster: Cluster) -> dg.RunRequest:
    """The run that resumes an interrupted `run`: same partitions, the next attempt number;
    on capacity that is not reclaimed once it was interrupted `escalate_after` times."""
    interruptions = int(run.tags.get(tags.INTERRUPTIONS, "0")) + 1
    inherited = {
        key: value
        for key, value in run.tags.items()
        if key not in (*_NOT_INHERITED, *cluster.placement_tags)
        and (
            not key.startswith("dagster/")
            or key in (tags.PARTITION_RANGE_START, tags.PARTITION_RANGE_END)
        )
    }
    retry_tags = {
        **inherited,
        tags.RETRY_OF: run.run_id,
        # Every retry serves the first run's request: what it announced stays announced.
        tags.REQUEST: run.tags.get(tags.REQUEST, run.run_id),
        tags.INTERRUPTIONS: str(interruptions),
    }
    if interruptions >= escalate_after:
        retry_tags.update(cluster.on_demand_tags())
    return dg.RunRequest(
        run_key=retry_run_key(run.run_id),
        partition_key=run.tags.get(tags.PARTITION),
        tags=retry_tags,
        asset_selection=list(run.asset_selection) if run.asset_selection else None,
    )


@dg.sensor(
    name=SENSOR_NAME,
    job=render_catalog_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Consumes spot-interruption events (EventBridge -> SQS). The interrupted run, found by "
        "its task's tag (ecs/task_arn), gets one retry for the same partitions that resumes "
        "from the checkpoints; after repeated interruptions the retry asks for on-demand "
        "capacity."
    ),
)
def spot_interruption_sensor(
    context: dg.SensorEvaluationContext,
    storage: StorageResource,
    messaging: MessagingResource,
    cluster: ClusterResource,
) -> dg.SensorResult:
    ledger = storage.interruptions()
    queue = messaging.spot_events()
    where_runs_execute = cluster.cluster()
    handled: list[str] = []
    for delivery in queue.receive(MAX_MESSAGES_PER_TICK):
        where = f"spot event message {delivery.message_id} (delivery {delivery.receive_count})"
        if isinstance(delivery, Unreadable):
            context.log.error(
                f"{where} is unreadable, left for the dead-letter queue: {delivery.error}"
            )
            continue
        event = delivery.event
        if isinstance(event, IgnoredEvent):
            context.log.info(f"{where}, event {event.event_id}: ignored, {event.reason}")
            handled.append(delivery.receipt)
            continue
        if isinstance(event, TasksInterrupted):
            task_arns = list(event.task_arns)
        else:
            task_arns = where_runs_execute.tasks_on_instance(event.instance_id)
        runs = [
            (arn, run)
            for arn in task_arns
            if (run := _run_of_task(context.instance, where_runs_execute, arn))
        ]
        if isinstance(event, TasksInterrupted) and not runs:
            context.log.error(
                f"{where}, event {event.event_id}: no Dagster run has tag "
                f"{where_runs_execute.task_tag}={task_arns[0]}; left for the dead-letter queue"
            )
            continue
        for task_arn, run in runs:
            interruption = Interruption(run.run_id, task_arn, event.event_id, time.time())
            if ledger.record(interruption):
                context.instance.add_run_tags(run.run_id, {tags.INTERRUPTED: event.event_id})
                context.log.warning(
                    f"run {run.run_id} interrupted (task {task_arn}, event {event.event_id})"
                )
        if isinstance(event, InstanceInterrupted) and not runs:
            context.log.info(f"{where}: no Dagster run on instance {event.instance_id}")
        handled.append(delivery.receipt)
    # Only now: every interruption in these messages is in the ledger.
    queue.delete(handled)

    pending = ledger.pending(MAX_RETRIES_PER_TICK)
    launched = existing_run_keys(
        context.instance, SENSOR_NAME, (retry_run_key(i.run_id) for i in pending)
    )
    escalate_after = escalate_after_interruptions()
    requests = []
    for interruption in pending:
        if retry_run_key(interruption.run_id) in launched:
            ledger.settle(interruption.run_id)
            continue
        run = context.instance.get_run_by_id(interruption.run_id)
        if run is None or run.status in (
            dg.DagsterRunStatus.SUCCESS,
            dg.DagsterRunStatus.CANCELED,
            dg.DagsterRunStatus.CANCELING,
        ):
            status = "deleted" if run is None else run.status.value
            context.log.info(f"run {interruption.run_id} is {status}: no retry needed")
            ledger.settle(interruption.run_id)
        elif not run.is_finished and time.time() - interruption.recorded_at < SHUTDOWN_GRACE_S:
            # Still shutting down: retrying now would render beside it.
            continue
        else:
            request = retry_request(run, escalate_after, where_runs_execute)
            context.log.warning(
                f"retrying run {run.run_id} as {request.run_key} "
                f"(interruption {request.tags[tags.INTERRUPTIONS]})"
            )
            requests.append(request)
    return dg.SensorResult(run_requests=requests)
