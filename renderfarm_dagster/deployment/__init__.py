"""The one place that picks the implementations of the deployment the settings name: one module
per deployment (local.py, aws.py), each implementing the resource interfaces of
defs/resources/ with its adapters of storage/ and messaging/ and building them from the
environment (docs/extending.md, "A deployment").

Nothing it imports imports it back: the definitions read their settings from settings.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

from renderfarm_dagster.cluster import Cluster
from renderfarm_dagster.defs.resources import StorageResource
from renderfarm_dagster.deployment import aws, local
from renderfarm_dagster.settings import DEPLOYMENTS, deployment_name

_RESOURCES_BY_DEPLOYMENT: dict[str, Callable[[], dict[str, dg.ConfigurableResource]]] = {
    "local": local.resources,
    "aws": aws.resources,
}
assert tuple(_RESOURCES_BY_DEPLOYMENT) == DEPLOYMENTS


def resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of the deployment RENDERFARM_DEPLOYMENT names (local by default)."""
    return _RESOURCES_BY_DEPLOYMENT[deployment_name()]()


@contextmanager
def storage() -> Iterator[StorageResource]:
    """The storage resource with its environment variables resolved, for use outside a run."""
    with resources()["storage"].process_config_and_initialize_cm() as initialized:
        yield initialized


def cluster() -> Cluster:
    """Where the deployment's run workers execute, for use outside a sensor (retrying a run by
    hand, the chaos and bench tools)."""
    with resources()["cluster"].process_config_and_initialize_cm() as initialized:
        return initialized.cluster()
