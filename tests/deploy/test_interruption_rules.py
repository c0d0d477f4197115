"""The template's EventBridge rules, created on the moto server: interruptions reach the
interruption queue; ordinary task stops and other clusters' tasks do not."""

from __future__ import annotations

import copy

from tests.events import load_event


def deliver(aws, events: list[dict], expect: int) -> list[dict]:
    """Put `events` on the default bus; return what arrived on the interruption queue.

    Delivery is asynchronous: it waits for `expect` events, then for a quiet moment.
    """
    aws.put_events(events)
    return aws.drain(aws.spot_queue_url, expect)


def in_cluster(name: str, cluster_arn: str, **detail) -> dict:
    event = copy.deepcopy(load_event(name))
    event["detail"].update(clusterArn=cluster_arn, **detail)
    return event


def test_spot_interruptions_of_this_cluster_and_ec2_warnings_reach_the_queue(aws):
    arrived = deliver(
        aws,
        [
            in_cluster("ecs_task_fargate_spot_warning.json", aws.cluster_arn),
            in_cluster("ecs_task_fargate_spot_stopped.json", aws.cluster_arn),
            in_cluster(
                "ecs_task_fargate_spot_stopped.json", aws.cluster_arn, stopCode="TerminationNotice"
            ),
            load_event("ec2_spot_interruption_warning.json"),
        ],
        expect=4,
    )
    assert sorted(
        (
            event["detail-type"],
            event["detail"].get("stopCode", ""),
            event["detail"].get("lastStatus", ""),
        )
        for event in arrived
    ) == [
        ("EC2 Spot Instance Interruption Warning", "", ""),
        ("ECS Task State Change", "SpotInterruption", "RUNNING"),
        ("ECS Task State Change", "SpotInterruption", "STOPPED"),
        ("ECS Task State Change", "TerminationNotice", "STOPPED"),
    ]
    warning = load_event("ecs_task_fargate_spot_warning.json")
    assert any(event["detail"]["taskArn"] == warning["detail"]["taskArn"] for event in arrived)


def test_ordinary_stops_other_clusters_and_other_events_do_not(aws):
    other_cluster = aws.cluster_arn.rsplit("/", 1)[0] + "/someone-elses-cluster"
    arrived = deliver(
        aws,
        [
            in_cluster(
                "ecs_task_fargate_spot_stopped.json",
                aws.cluster_arn,
                stopCode="EssentialContainerExited",
                stoppedReason="Essential container in task exited",
            ),
            in_cluster(
                "ecs_task_fargate_spot_stopped.json", aws.cluster_arn, stopCode="UserInitiated"
            ),
            in_cluster("ecs_task_fargate_spot_warning.json", other_cluster),
            load_event("ec2_rebalance_recommendation.json"),
            load_event("ecs_service_placement_failure_fargate_spot.json"),
        ],
        expect=0,
    )
    assert arrived == []
