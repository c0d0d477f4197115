"""Where run workers execute, as far as the spot sensor needs to know: which run a task is,
which tasks ran on an interrupted instance, and how a retry asks for capacity that is not
reclaimed. Each deployment's cluster resource implements it (aws: ecs.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Cluster(ABC):
    @property
    @abstractmethod
    def task_tag(self) -> str:
        """The run tag naming the task a run executes in (its run launcher writes it)."""

    @property
    @abstractmethod
    def placement_tags(self) -> tuple[str, ...]:
        """Tags the run launcher writes about where a run executed: its retry runs elsewhere
        and does not inherit them."""

    @abstractmethod
    def tasks_on_instance(self, instance_id: str) -> list[str]:
        """The tasks placed on an interrupted instance (instance-backed capacity only)."""

    @abstractmethod
    def on_demand_tags(self) -> dict[str, str]:
        """Run tags that launch a run on capacity that is not reclaimed."""
