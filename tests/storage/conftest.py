"""Every implementation of each storage and messaging interface, for the contract tests.

Each contract test runs once per deployment: "local" (files, SQLite) and "aws" (a moto server).
"""

import pytest

from renderfarm_dagster.defs.resources import LocalStorageResource
from tests.aws import MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_S

DEPLOYMENTS = ["local", "aws"]


@pytest.fixture(params=DEPLOYMENTS)
def storage_resource(request, tmp_path):
    """A StorageResource of one deployment; each call to its methods opens a new client."""
    if request.param == "local":
        yield LocalStorageResource(data_dir=str(tmp_path))
        return
    request.getfixturevalue("aws")
    from renderfarm_dagster.deployment import storage

    with storage() as initialized:
        yield initialized


@pytest.fixture
def object_store(storage_resource):
    return storage_resource.objects()


@pytest.fixture
def checkpoint_store(storage_resource):
    return storage_resource.checkpoints()


@pytest.fixture
def interruption_ledger(storage_resource):
    return storage_resource.interruptions()


@pytest.fixture(params=DEPLOYMENTS)
def queue(request, tmp_path):
    """A queue with a short visibility timeout and a dead-letter queue after a few receives."""
    if request.param == "local":
        from renderfarm_dagster.messaging.local import SqliteQueue

        return SqliteQueue(
            tmp_path / "queues.sqlite3",
            "contract",
            visibility_timeout_s=VISIBILITY_TIMEOUT_S,
            max_receive_count=MAX_RECEIVE_COUNT,
        )
    aws = request.getfixturevalue("aws")
    from renderfarm_dagster.messaging.aws import SqsQueue

    return SqsQueue(aws.client("sqs"), aws.spot_queue_url)


def dead_letters(queue) -> list[str]:
    """Bodies that moved to the queue's dead-letter queue."""
    from renderfarm_dagster.messaging.aws import SqsQueue

    if isinstance(queue, SqsQueue):
        dlq_url = queue.queue_url + "-dlq"  # tests/aws.py names each DLQ after its queue
        messages = queue.client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)
        return [m["Body"] for m in messages.get("Messages", [])]
    return queue.dead_letters()
