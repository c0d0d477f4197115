"""Resources: the interfaces the definitions use. Each deployment implements them in its own
module (local.py, aws.py); deployment.py picks one."""

from abc import ABC, abstractmethod

import dagster as dg

from renderfarm_dagster.cluster import Cluster
from renderfarm_dagster.messaging import EventQueue, Notifier
from renderfarm_dagster.messaging.events import (
    EventReader,
    ObjectCreated,
    SpotEvent,
    created_objects,
    spot_event,
)
from renderfarm_dagster.storage import CheckpointStore, InputIndex, InterruptionLedger, ObjectStore


class StorageResource(dg.ConfigurableResource, ABC):
    """Where specs, renders and manifests live, and where progress and interruptions are kept."""

    @abstractmethod
    def objects(self) -> ObjectStore: ...

    @abstractmethod
    def checkpoints(self) -> CheckpointStore: ...

    @abstractmethod
    def interruptions(self) -> InterruptionLedger: ...

    @abstractmethod
    def inputs(self) -> InputIndex:
        """Which products use which uploaded templates and photos."""


class MessagingResource(dg.ConfigurableResource, ABC):
    """The queues the sensors drain and the topic notifications go to."""

    @abstractmethod
    def spec_queue(self) -> EventQueue:
        """S3 notifications of uploads under specs/, templates/ and assets/."""

    @abstractmethod
    def spot_queue(self) -> EventQueue:
        """EventBridge spot-interruption events."""

    def spec_events(self) -> EventReader[list[ObjectCreated]]:
        """The spec queue's messages as the objects they report created."""
        return EventReader(self.spec_queue(), created_objects)

    def spot_events(self) -> EventReader[SpotEvent]:
        """The spot queue's messages as interruptions."""
        return EventReader(self.spot_queue(), spot_event)

    @abstractmethod
    def notifier(self) -> Notifier: ...


class ClusterResource(dg.ConfigurableResource, ABC):
    """Where run workers execute."""

    @abstractmethod
    def cluster(self) -> Cluster: ...
