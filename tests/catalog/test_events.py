"""Reading S3 notifications and spot events, from the real payloads in tests/events/."""

import json
import re

import pytest

from renderfarm_dagster.messaging.events import (
    IgnoredEvent,
    InstanceInterrupted,
    ObjectCreated,
    TasksInterrupted,
    UnreadableMessage,
    created_objects,
    spot_event,
)
from renderfarm_dagster.storage import s3_version
from tests.events import load_event


def created_keys(body: str) -> list[str]:
    return [created.key for created in created_objects(body)]


def test_s3_notification_keys_are_url_decoded_and_carry_the_listing_version():
    body = json.dumps(load_event("s3_notification_sqs_put.json"))
    # The version S3's listing reports for the same object: its ETag and size.
    assert created_objects(body) == [
        ObjectCreated(
            "specs/shot 01+v2.json", s3_version('"d41d8cd98f00b204e9800998ecf8427e"', 1024)
        )
    ]


def test_eventbridge_object_created_keys_are_taken_as_they_are():
    body = json.dumps(load_event("s3_eventbridge_object_created.json"))
    assert created_objects(body) == [
        ObjectCreated("specs/shot 01+v2.json", "b1946ac92492d2347c6235b4d2611184/5")
    ]


def test_an_event_without_etag_or_size_has_no_version():
    record = {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "specs/a.json"}}}
    assert created_objects(json.dumps({"Records": [record]})) == [ObjectCreated("specs/a.json", "")]


def test_test_event_and_sns_envelope():
    assert created_keys(json.dumps(load_event("s3_test_event.json"))) == []
    wrapped = {
        "Type": "Notification",
        "Message": json.dumps(load_event("s3_notification_sqs_put.json")),
    }
    assert created_keys(json.dumps(wrapped)) == ["specs/shot 01+v2.json"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("{", "not JSON"),
        ("[1]", "$: expected a JSON object"),
        ('{"Records": {}}', "$.Records: expected a list"),
        ('{"Records": [{"eventName": "ObjectCreated:Put"}]}', "$.Records[0].s3: missing"),
        ('{"hello": 1}', "neither an S3 event notification"),
    ],
)
def test_unreadable_s3_messages_name_what_and_where(body, where):
    with pytest.raises(UnreadableMessage, match=re.escape(where)):
        created_keys(body)


def test_fargate_spot_warning_and_stopped_name_the_task():
    for name in ("ecs_task_fargate_spot_warning.json", "ecs_task_fargate_spot_stopped.json"):
        document = load_event(name)
        parsed = spot_event(json.dumps(document))
        assert parsed == TasksInterrupted(document["id"], (document["detail"]["taskArn"],))


def test_older_termination_notice_stop_code_counts():
    document = load_event("ecs_task_fargate_spot_warning.json")
    document["detail"]["stopCode"] = "TerminationNotice"
    assert isinstance(spot_event(json.dumps(document)), TasksInterrupted)


def test_ec2_warning_names_the_instance_and_rebalance_is_ignored():
    warning = spot_event(json.dumps(load_event("ec2_spot_interruption_warning.json")))
    assert warning == InstanceInterrupted(
        "12345678-1234-1234-1234-123456789012", "i-1234567890abcdef0"
    )
    rebalance = spot_event(json.dumps(load_event("ec2_rebalance_recommendation.json")))
    assert isinstance(rebalance, IgnoredEvent)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"detail": {"stopCode": "SpotInterruption", "taskArn": "task/../../x"}}, "taskArn"),
        ({"detail": {"stopCode": "SpotInterruption"}}, "$.detail.taskArn: missing"),
        ({"detail": "nope"}, "$.detail: expected an object"),
        ({"source": "aws.batch"}, "unknown event"),
    ],
)
def test_malformed_spot_events_are_unreadable(change, where):
    document = {**load_event("ecs_task_fargate_spot_warning.json"), **change}
    with pytest.raises(UnreadableMessage, match=re.escape(where)):
        spot_event(json.dumps(document))


def test_ec2_instance_ids_are_validated_before_use_in_an_ecs_filter():
    document = load_event("ec2_spot_interruption_warning.json")
    document["detail"]["instance-id"] = "i-123' or true"
    with pytest.raises(UnreadableMessage, match="instance-id"):
        spot_event(json.dumps(document))


def test_an_event_reader_hands_on_domain_events_and_names_unreadable_deliveries(tmp_path):
    from renderfarm_dagster.messaging.events import Delivery, EventReader, Unreadable
    from renderfarm_dagster.messaging.local import SqliteQueue

    queue = SqliteQueue(tmp_path / "queues.sqlite3", "spec-events")
    good = queue.send(json.dumps(load_event("s3_eventbridge_object_created.json")))
    bad = queue.send("{")
    reader = EventReader(queue, created_objects)
    deliveries = {d.message_id: d for d in reader.receive(10)}
    assert isinstance(deliveries[good], Delivery)
    assert [o.key for o in deliveries[good].event] == ["specs/shot 01+v2.json"]
    assert deliveries[bad] == Unreadable(bad, 1, deliveries[bad].error)
    assert "not JSON" in deliveries[bad].error
    reader.delete([deliveries[good].receipt])
