"""The spot-interruption sensor: every interruption ends in exactly one retry run."""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest

from renderfarm_dagster import ecs
from renderfarm_dagster.cluster import Cluster
from renderfarm_dagster.defs import spot_sensor, tags
from renderfarm_dagster.defs.resources import ClusterResource
from renderfarm_dagster.defs.spot_sensor import spot_interruption_sensor
from renderfarm_dagster.deployment.local import (
    LocalClusterResource,
    LocalMessagingResource,
    LocalStorageResource,
)
from renderfarm_dagster.ecs import EcsCluster
from renderfarm_dagster.messaging.local import SqliteQueue
from renderfarm_dagster.storage import InterruptionLedger
from tests.daemon import SensorDriver
from tests.events import load_event
from tests.polling import eventually
from tests.storage.eventual import INDEX_LAG_S, LaggingLedger

WARNING = load_event("ecs_task_fargate_spot_warning.json")
STOPPED = load_event("ecs_task_fargate_spot_stopped.json")
TASK_ARN = WARNING["detail"]["taskArn"]


class OneInstanceCluster(ClusterResource):
    """EC2-backed capacity: one instance running one task."""

    instance_id: str
    task_arn: str

    def cluster(self) -> Cluster:
        resource = self

        class _Cluster(EcsCluster):
            def tasks_on_instance(self, instance_id):
                return [resource.task_arn] if instance_id == resource.instance_id else []

        return _Cluster()


@pytest.fixture
def messaging(data_dir):
    # Redelivers unacknowledged messages at once, so redelivery is visible tick by tick.
    return LocalMessagingResource(data_dir=str(data_dir), visibility_timeout_s=0)


@pytest.fixture
def queue(messaging):
    return messaging.spot_queue()


def make_driver(instance, storage, messaging, cluster=None):
    return SensorDriver(
        spot_interruption_sensor,
        instance,
        {"storage": storage, "messaging": messaging, "cluster": cluster or LocalClusterResource()},
    )


@pytest.fixture
def driver(instance, storage, messaging):
    return make_driver(instance, storage, messaging)


def interrupted_run(instance, task_arn=TASK_ARN, status=dg.DagsterRunStatus.FAILURE, **extra):
    run_tags = {ecs.TASK_ARN_TAG: task_arn, tags.PARTITION: "test-shoe", **extra}
    return instance.add_run(
        dg.DagsterRun(
            job_name="render_catalog", run_id=str(uuid.uuid4()), tags=run_tags, status=status
        )
    )


def event(document, **detail):
    return json.dumps({**document, "detail": {**document["detail"], **detail}})


def test_an_interruption_requests_one_retry_of_the_same_partition(driver, instance, queue):
    run = interrupted_run(instance)
    queue.send(json.dumps(WARNING))
    (retry,) = driver.tick().run_requests
    assert retry.run_key == f"spot-retry:{run.run_id}"
    assert retry.partition_key == "test-shoe"
    assert retry.tags[tags.RETRY_OF] == run.run_id
    assert retry.tags[tags.INTERRUPTIONS] == "1"
    assert ecs.RUN_TASK_KWARGS_TAG not in retry.tags  # first retry stays on Spot
    assert ecs.TASK_ARN_TAG not in retry.tags
    assert instance.get_run_by_id(run.run_id).tags[tags.INTERRUPTED] == WARNING["id"]
    assert queue.receive(10) == []  # handled messages are deleted
    assert driver.tick().run_requests == []


class LaggingIndexStorage(LocalStorageResource):
    """The local storage with a pending index that lags its writes, as a DynamoDB GSI may."""

    def interruptions(self) -> InterruptionLedger:
        # One ledger per data folder across ticks: its lag is state kept in memory.
        if self.data_dir not in LAGGING_LEDGERS:
            LAGGING_LEDGERS[self.data_dir] = LaggingLedger(super().interruptions())
        return LAGGING_LEDGERS[self.data_dir]


LAGGING_LEDGERS: dict[str, LaggingLedger] = {}


def test_a_lagging_pending_index_delays_the_retry_to_a_later_tick_and_never_doubles_it(
    instance, data_dir, messaging, queue
):
    driver = make_driver(instance, LaggingIndexStorage(data_dir=str(data_dir)), messaging)
    run = interrupted_run(instance)
    queue.send(json.dumps(WARNING))
    # The tick that records the interruption may not see it pending yet: a later tick
    # catches up (the sensor relies on that; so does this test, within a deadline).
    assert driver.tick().run_requests == []
    (retry,) = eventually(lambda: driver.tick().run_requests, bool)
    assert retry.run_key == f"spot-retry:{run.run_id}"
    # Settled, but the index still shows it pending for a while: the run key stops a double.
    for _ in range(3):
        assert driver.tick().run_requests == []
    time.sleep(INDEX_LAG_S)
    assert driver.tick().run_requests == []
    assert len(driver.launched) == 1


def test_duplicates_out_of_order_and_redeliveries_give_exactly_one_retry(driver, instance, queue):
    interrupted_run(instance)
    queue.send(json.dumps(STOPPED))  # the STOPPED event overtakes the warning
    queue.send(json.dumps(WARNING))
    queue.send(json.dumps(WARNING))  # same task, same detail.version: a duplicate
    driver.tick()
    queue.send(json.dumps(STOPPED))  # redelivered long after
    driver.tick()
    driver.tick()
    assert len(driver.launched) == 1


def test_a_tick_killed_after_deleting_is_completed_from_the_ledger(driver, instance, queue):
    run = interrupted_run(instance)
    queue.send(json.dumps(WARNING))
    lost = driver.kill_mid_tick()  # recorded, deleted, then the daemon died with the result
    assert len(lost.run_requests) == 1 and queue.receive(10) == []
    (retry,) = driver.tick().run_requests
    assert retry.run_key == f"spot-retry:{run.run_id}"
    assert len(driver.launched) == 1


def test_a_tick_killed_between_recording_and_deleting_retries_once(
    driver, instance, queue, monkeypatch
):
    interrupted_run(instance)
    queue.send(json.dumps(WARNING))

    def die(self, receipts):
        raise SystemExit("daemon killed")

    monkeypatch.setattr(SqliteQueue, "delete", die)
    with pytest.raises(SystemExit):
        driver.tick()
    monkeypatch.undo()
    driver.tick()  # the message comes back: already recorded, so only deleted now
    driver.tick()
    assert len(driver.launched) == 1
    assert queue.receive(10) == []


def test_repeated_interruptions_escalate_to_on_demand_capacity(driver, instance, queue):
    run = interrupted_run(instance, **{tags.INTERRUPTIONS: "1", tags.RETRY_OF: "first-run"})
    queue.send(json.dumps(WARNING))
    (retry,) = driver.tick().run_requests
    assert retry.tags[tags.INTERRUPTIONS] == "2"
    assert retry.tags[tags.RETRY_OF] == run.run_id
    assert json.loads(retry.tags[ecs.RUN_TASK_KWARGS_TAG]) == ecs.ON_DEMAND


def test_a_batch_run_is_retried_for_its_whole_partition_range(driver, instance, queue):
    run = instance.add_run(
        dg.DagsterRun(
            job_name="render_catalog",
            run_id=str(uuid.uuid4()),
            tags={
                ecs.TASK_ARN_TAG: TASK_ARN,
                tags.PARTITION_RANGE_START: "a",
                tags.PARTITION_RANGE_END: "k",
            },
            status=dg.DagsterRunStatus.FAILURE,
        )
    )
    queue.send(json.dumps(WARNING))
    (retry,) = driver.tick().run_requests
    assert retry.partition_key is None
    assert (retry.tags[tags.PARTITION_RANGE_START], retry.tags[tags.PARTITION_RANGE_END]) == (
        "a",
        "k",
    )
    assert retry.tags[tags.RETRY_OF] == run.run_id


def test_a_run_still_shutting_down_is_retried_once_it_has_stopped(driver, instance, queue):
    run = interrupted_run(instance, status=dg.DagsterRunStatus.STARTED)
    queue.send(json.dumps(WARNING))
    assert driver.tick().run_requests == []  # within its two minutes: not yet
    instance.report_run_failed(instance.get_run_by_id(run.run_id))
    assert len(driver.tick().run_requests) == 1


def test_a_run_that_finished_anyway_is_not_retried(driver, instance, queue):
    interrupted_run(instance, status=dg.DagsterRunStatus.SUCCESS)
    queue.send(json.dumps(WARNING))
    assert driver.tick().run_requests == []
    assert driver.tick().run_requests == []


def test_unreadable_messages_go_to_the_dead_letter_queue_and_block_nothing(driver, instance, queue):
    interrupted_run(instance)
    queue.send("not json")
    queue.send(json.dumps({"id": "x", "source": "aws.s3", "detail-type": "Mystery", "detail": {}}))
    other_task = TASK_ARN.replace("0b69d5c0", "ffffffff")
    queue.send(event(WARNING, taskArn=other_task))  # a task with no known run
    queue.send(event(WARNING, taskArn="arn:aws:ecs:../../etc"))  # not a task ARN
    queue.send(json.dumps(WARNING))
    assert len(driver.tick().run_requests) == 1
    for _ in range(queue.max_receive_count + 1):
        driver.tick()
    assert len(queue.dead_letters()) == 4
    assert len(driver.launched) == 1


def test_events_that_need_no_action_are_acknowledged(driver, instance, queue):
    interrupted_run(instance)
    queue.send(json.dumps(load_event("ec2_rebalance_recommendation.json")))
    queue.send(json.dumps(load_event("ecs_service_placement_failure_fargate_spot.json")))
    queue.send(event(WARNING, stopCode="UserInitiated"))
    queue.send(json.dumps(load_event("ec2_spot_interruption_warning.json")))  # no task of ours
    assert driver.tick().run_requests == []
    assert queue.receive(10) == [] and queue.dead_letters() == []


def test_an_ec2_spot_warning_retries_the_runs_on_that_instance(instance, storage, messaging, queue):
    ec2_warning = load_event("ec2_spot_interruption_warning.json")
    cluster = OneInstanceCluster(
        instance_id=ec2_warning["detail"]["instance-id"], task_arn=TASK_ARN
    )
    driver = make_driver(instance, storage, messaging, cluster)
    run = interrupted_run(instance)
    queue.send(json.dumps(ec2_warning))
    (retry,) = driver.tick().run_requests
    assert retry.tags[tags.RETRY_OF] == run.run_id


def test_interrupted_runs_past_their_grace_are_retried_even_if_never_marked_finished(
    driver, instance, queue, monkeypatch
):
    interrupted_run(instance, status=dg.DagsterRunStatus.STARTED)
    queue.send(json.dumps(WARNING))
    assert driver.tick().run_requests == []
    # SIGKILL came and nothing marked the run failed (no run monitoring): retried anyway.
    later = time.time() + spot_sensor.SHUTDOWN_GRACE_S + 1
    monkeypatch.setattr(spot_sensor.time, "time", lambda: later)
    assert len(driver.tick().run_requests) == 1


def test_a_flood_of_duplicates_and_other_clusters_events_gives_one_retry_in_bounded_ticks(
    driver, instance, queue
):
    run = interrupted_run(instance)
    other_cluster = TASK_ARN.replace(":task/", ":task/someone-elses-cluster/")
    for index in range(300):
        # EventBridge delivers at least once, and a misrouted rule can send another cluster's.
        queue.send(event(WARNING if index % 2 else STOPPED, id=f"dup-{index}"))
        queue.send(event(WARNING, taskArn=other_cluster, id=f"other-{index}"))
    # Each tick reads at most MAX_MESSAGES_PER_TICK: the 300 duplicates once, the 300 others
    # once more than max_receive_count, as they move to the dead-letter queue then.
    deliveries = 300 + 300 * (queue.max_receive_count + 1)
    for _ in range(-(-deliveries // spot_sensor.MAX_MESSAGES_PER_TICK) + 1):
        assert len(driver.tick().run_requests) <= 1
    assert queue.receive(10) == []
    (retry,) = driver.launched
    assert retry.tags[tags.RETRY_OF] == run.run_id
    # The other cluster's tasks match no run of ours: after their redeliveries they wait in
    # the dead-letter queue, where an operator sees them; nothing was retried for them.
    assert len(queue.dead_letters()) == 300


def test_two_overlapping_ticks_retry_each_interrupted_run_once(driver, instance, queue):
    """A slow tick still running when the next starts: both from the same cursor, both applied."""
    runs = {}
    for index in range(10):
        task_arn = TASK_ARN.replace("0b69d5c0", f"{index:08x}")
        runs[interrupted_run(instance, task_arn=task_arn).run_id] = task_arn
        queue.send(event(WARNING, taskArn=task_arn))
        queue.send(event(STOPPED, taskArn=task_arn))
    with ThreadPoolExecutor(max_workers=2) as ticks:
        results = list(ticks.map(lambda _: driver.evaluate(), range(2)))
    for result in results:
        driver.apply(result)
    for _ in range(3):
        driver.tick()
    assert sorted(run.tags[tags.RETRY_OF] for run in driver.launched) == sorted(runs)
    assert queue.receive(10) == [] and queue.dead_letters() == []
