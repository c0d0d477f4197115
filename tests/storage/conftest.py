"""Every implementation of each storage and messaging interface, for the contract tests.

Each contract test runs once per deployment: "local" (files, SQLite) and "aws" (a moto server).
The queue and interruption-ledger contracts also run "eventual": the local implementations at
the slow edge of what SQS and DynamoDB document (tests/storage/eventual.py), since moto answers
at once where AWS need not.
"""

from contextlib import contextmanager

import pytest

from devkit.aws import MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_S
from renderfarm_dagster.deployment.local import LocalStorageResource
from renderfarm_dagster.messaging.local import SqliteQueue
from tests.storage.eventual import LaggingLedger, SlowQueue

DEPLOYMENTS = ["local", "aws"]


@contextmanager
def deployed_storage(request, tmp_path, deployment: str):
    """The StorageResource of `deployment`; each call to its methods opens a new client."""
    if deployment == "local":
        yield LocalStorageResource(data_dir=str(tmp_path))
        return
    request.getfixturevalue("aws")
    from renderfarm_dagster.deployment import storage

    with storage() as initialized:
        yield initialized


@pytest.fixture(params=DEPLOYMENTS)
def storage_resource(request, tmp_path):
    with deployed_storage(request, tmp_path, request.param) as resource:
        yield resource


@pytest.fixture
def object_store(storage_resource):
    return storage_resource.objects()


@pytest.fixture
def checkpoint_store(storage_resource):
    return storage_resource.checkpoints()


@pytest.fixture(params=[*DEPLOYMENTS, "eventual"])
def interruption_ledger(request, tmp_path):
    if request.param == "eventual":
        yield LaggingLedger(LocalStorageResource(data_dir=str(tmp_path)).interruptions())
        return
    with deployed_storage(request, tmp_path, request.param) as resource:
        yield resource.interruptions()


@pytest.fixture(params=[*DEPLOYMENTS, "eventual"])
def queue(request, tmp_path):
    """A queue with a short visibility timeout and a dead-letter queue after a few receives."""
    if request.param in ("local", "eventual"):
        local = SqliteQueue(
            tmp_path / "queues.sqlite3",
            "contract",
            visibility_timeout_s=VISIBILITY_TIMEOUT_S,
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        return local if request.param == "local" else SlowQueue(local)
    aws = request.getfixturevalue("aws")
    from renderfarm_dagster.messaging.aws import SqsQueue

    return SqsQueue(aws.client("sqs"), aws.spot_queue_url)


def dead_letters(queue) -> list[str]:
    """Bodies that moved to the queue's dead-letter queue."""
    from renderfarm_dagster.messaging.aws import SqsQueue

    if isinstance(queue, SqsQueue):
        dlq_url = queue.queue_url + "-dlq"  # devkit/aws.py names each DLQ after its queue
        messages = queue.client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)
        return [m["Body"] for m in messages.get("Messages", [])]
    return queue.dead_letters()


@pytest.fixture
def input_index(storage_resource):
    return storage_resource.inputs()
