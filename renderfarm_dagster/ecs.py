"""Runs on ECS: the run tags dagster-aws's EcsRunLauncher writes and reads, and the cluster as
the spot sensor sees it. The aws deployment's run workers are ECS tasks (Fargate Spot, or EC2
spot instances in a cluster); the local deployment's spot events are the ones the Fargate Spot
simulator sends (devkit/simulated_ecs.py), so it reads them the same way.
"""

from __future__ import annotations

import json
from typing import Any

from renderfarm_dagster.cluster import Cluster

# EcsRunLauncher records the task of each run, and reads extra run_task arguments for a run
# from a tag:
# https://github.com/dagster-io/dagster/blob/master/python_modules/libraries/dagster-aws/dagster_aws/ecs/launcher.py
TASK_ARN_TAG = "ecs/task_arn"
CLUSTER_TAG = "ecs/cluster"
RUN_TASK_KWARGS_TAG = "ecs/run_task_kwargs"
# The on-demand capacity a retry asks for once its partitions were interrupted too often.
ON_DEMAND = {"capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]}


class EcsCluster(Cluster):
    """An ECS cluster. An EC2 spot warning names an instance, and ECS knows the tasks on it;
    without a cluster client (Fargate alone, or this machine) no instance runs a task."""

    def __init__(self, client: Any | None = None, cluster: str = ""):
        self.client = client
        self.cluster = cluster

    @property
    def task_tag(self) -> str:
        return TASK_ARN_TAG

    @property
    def placement_tags(self) -> tuple[str, ...]:
        return (TASK_ARN_TAG, CLUSTER_TAG, RUN_TASK_KWARGS_TAG)

    def tasks_on_instance(self, instance_id: str) -> list[str]:
        if self.client is None:
            return []
        containers = self.client.list_container_instances(
            cluster=self.cluster, filter=f"ec2InstanceId == '{instance_id}'"
        )["containerInstanceArns"]
        tasks: list[str] = []
        for container_instance in containers:
            pages = self.client.get_paginator("list_tasks").paginate(
                cluster=self.cluster, containerInstance=container_instance
            )
            for page in pages:
                tasks.extend(page["taskArns"])
        return tasks

    def on_demand_tags(self) -> dict[str, str]:
        return {RUN_TASK_KWARGS_TAG: json.dumps(ON_DEMAND)}
