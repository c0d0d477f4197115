"""Where runs execute, as far as the spot sensor needs to know: which tasks ran on an instance."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Cluster(ABC):
    @abstractmethod
    def tasks_on_instance(self, instance_id: str) -> list[str]:
        """ARNs of the tasks placed on an EC2 instance (EC2-backed capacity only)."""


class NoEc2Instances(Cluster):
    """Runs execute on this machine, or on Fargate alone: no EC2 instance is interrupted."""

    def tasks_on_instance(self, instance_id: str) -> list[str]:
        return []


class EcsCluster(Cluster):
    """An ECS cluster: an EC2 spot warning names an instance; ECS knows the tasks on it."""

    def __init__(self, client: Any, cluster: str):
        self.client = client
        self.cluster = cluster

    def tasks_on_instance(self, instance_id: str) -> list[str]:
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
