"""The spec inbox sensor, tick by tick: (cursor, notifications, inbox) -> (partitions, runs)."""

import copy
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import dagster as dg
import pytest

from renderfarm_dagster.catalog.spec_decisions import SpecSensorCursor
from renderfarm_dagster.defs import spec_sensor
from renderfarm_dagster.defs.spec_sensor import spec_inbox_sensor
from renderfarm_dagster.deployment.local import LocalMessagingResource
from renderfarm_dagster.storage.local import LocalObjectStore
from tests.conftest import spec_bytes
from tests.daemon import SensorDriver, partitions_of
from tests.events import load_event


@pytest.fixture
def driver(instance, storage, messaging):
    return SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})


@pytest.fixture
def queue(messaging):
    return messaging.spec_queue()


@pytest.fixture
def redelivering(instance, storage, data_dir):
    """A driver whose queue redelivers unacknowledged messages at once (visibility timeout 0)."""
    messaging = LocalMessagingResource(data_dir=str(data_dir), visibility_timeout_s=0)
    driver = SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})
    return driver, messaging.spec_queue()


def put_spec(storage, doc, key=None):
    storage.objects().put(
        key or f"specs/{doc['product_id']}.json", spec_bytes(doc), "application/json"
    )


def notification(*keys: str, event_name="ObjectCreated:Put") -> str:
    """An S3 event notification as S3 sends it to SQS (keys URL-encoded)."""
    template = load_event("s3_notification_sqs_put.json")["Records"][0]
    records = []
    for key in keys:
        record = copy.deepcopy(template)
        record["eventName"] = event_name
        record["s3"]["object"]["key"] = key
        records.append(record)
    return json.dumps({"Records": records})


def skip_sweeps(driver):
    """Put the next reconciliation sweep far in the future: only notifications are read."""
    later = time.time() + 3600
    driver.cursor = SpecSensorCursor(next_sweep_at=later, next_input_sweep_at=later).serialize()


def partitions_now(driver):
    """The product partitions the instance holds, in partition order."""
    return list(driver.instance.get_dynamic_partitions("products"))


def requested(result, driver):
    """The products a tick's (applied) result requested, in request order."""
    return [p for request in result.run_requests for p in partitions_of(request, driver.instance)]


def later(monkeypatch, seconds):
    """Move the sensor's clock on: marks of ticks that died go out of flight."""
    now = spec_sensor.clock()
    monkeypatch.setattr(spec_sensor, "clock", lambda: now + seconds)


def test_new_spec_registers_partition_and_requests_a_run(driver, storage, spec_doc):
    put_spec(storage, spec_doc)
    result = driver.tick()
    assert partitions_now(driver) == ["test-shoe"]
    (request,) = result.run_requests
    assert request.partition_key == "test-shoe"
    assert request.run_key.startswith("specs:test-shoe..test-shoe:")
    assert SpecSensorCursor.parse(result.cursor).sweep_after == ""


def test_unchanged_spec_requests_nothing_and_changed_spec_requests_a_new_run(
    driver, storage, spec_doc
):
    put_spec(storage, spec_doc)
    first = driver.tick().run_requests[0].run_key
    again = driver.tick()
    assert again.run_requests == [] and partitions_now(driver) == ["test-shoe"]
    spec_doc["title"] = "Test Shoe, new title"
    put_spec(storage, spec_doc)
    (changed,) = driver.tick().run_requests
    assert changed.run_key != first
    assert len(driver.launched) == 2


def test_invalid_spec_is_rejected_and_the_rest_still_processed(driver, storage, spec_doc, data_dir):
    put_spec(storage, spec_doc)
    broken = {**spec_doc, "product_id": "broken", "template": "nope"}
    put_spec(storage, broken)
    # Dropped by hand into the inbox folder: a name outside the key layout, and not even JSON.
    (data_dir / "bucket" / "specs" / "Weird Name.json").write_bytes(b"{")
    driver.tick()
    assert partitions_now(driver) == ["test-shoe"]
    objects = storage.objects()
    assert objects.head("specs/broken.json") is None
    assert b"template" in objects.get("rejected/broken.json.error.json")
    rejected = [s.key for s in objects.list("rejected/")]
    assert any(k.startswith("rejected/weird-name-") and k.endswith(".error.json") for k in rejected)
    assert [s.key for s in objects.list("specs/")] == ["specs/test-shoe.json"]


def test_sweep_is_bounded_survives_a_deleted_cursor_key_and_wraps(
    driver, storage, spec_doc, monkeypatch
):
    monkeypatch.setattr(spec_sensor, "BUDGET", replace(spec_sensor.BUDGET, sweep=2))
    for name in ("a1", "a2", "a3"):
        put_spec(storage, {**spec_doc, "product_id": name})
    first = driver.tick()
    assert requested(first, driver) == ["a1", "a2"] and len(first.run_requests) == 1
    assert SpecSensorCursor.parse(first.cursor).sweep_after == "specs/a2.json"
    # The cursor key is deleted before the next tick: the sweep continues after it anyway.
    storage.objects().delete("specs/a2.json")
    second = driver.tick()
    assert requested(second, driver) == ["a3"]
    assert SpecSensorCursor.parse(second.cursor).sweep_after == ""
    # A spec changed behind the sweep's position is seen by the next sweep.
    put_spec(storage, {**spec_doc, "product_id": "a1", "title": "changed"})
    third = driver.tick()
    assert requested(third, driver) == ["a1"]


def test_specs_uploaded_in_the_same_second_are_all_seen(driver, storage, spec_doc):
    # dagster-aws's get_objects keeps a LastModified cursor and loses uploads sharing the
    # cursor's second; the sweep orders by key and the notifications carry every key.
    for index in range(5):
        put_spec(storage, {**spec_doc, "product_id": f"same-second-{index}"})
    result = driver.tick()
    assert requested(result, driver) == [f"same-second-{index}" for index in range(5)]


def test_notification_is_handled_without_listing_the_bucket(
    driver, storage, queue, spec_doc, monkeypatch
):
    skip_sweeps(driver)
    put_spec(storage, spec_doc)

    def no_listing(self, prefix, start_after=""):
        raise AssertionError("a notification tick must not list the bucket")

    monkeypatch.setattr(LocalObjectStore, "list", no_listing)
    queue.send(notification("specs/test-shoe.json"))
    result = driver.tick()
    assert [r.partition_key for r in result.run_requests] == ["test-shoe"]
    # The message is deleted by the next tick, once this tick's cursor (and runs) are stored.
    assert len(SpecSensorCursor.parse(result.cursor).acks) == 1
    driver.tick()
    assert SpecSensorCursor.parse(driver.cursor).acks == []
    assert queue.receive(10) == []


def test_url_encoded_keys_test_events_and_other_events(driver, storage, queue, spec_doc):
    skip_sweeps(driver)
    put_spec(storage, spec_doc)
    queue.send(json.dumps(load_event("s3_test_event.json")))
    queue.send(notification("specs/test-shoe.json", event_name="ObjectRemoved:Delete"))
    queue.send(notification("manifests/x.json"))  # not a spec
    # A key with a space and a '+', encoded as S3 encodes it: rejected under its real name.
    (storage.objects().root / "specs" / "shot 01+v2.json").write_bytes(b"{}")
    queue.send(json.dumps(load_event("s3_notification_sqs_put.json")))
    result = driver.tick()
    assert result.run_requests == []
    assert len(SpecSensorCursor.parse(result.cursor).acks) == 4
    report = storage.objects().list("rejected/")
    assert any("shot-01-v2" in summary.key for summary in report)


@pytest.mark.parametrize(
    "event_name",
    ["ObjectCreated:Put", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload"],
)
def test_every_kind_of_object_creation_counts(driver, storage, queue, spec_doc, event_name):
    skip_sweeps(driver)
    put_spec(storage, spec_doc)
    queue.send(notification("specs/test-shoe.json", event_name=event_name))
    assert [r.partition_key for r in driver.tick().run_requests] == ["test-shoe"]


def test_poison_message_is_left_for_the_dead_letter_queue_and_blocks_nothing(
    redelivering, storage, spec_doc
):
    driver, queue = redelivering
    skip_sweeps(driver)
    put_spec(storage, spec_doc)
    queue.send("this is not json")
    queue.send(notification("specs/test-shoe.json"))
    result = driver.tick()
    assert [r.partition_key for r in result.run_requests] == ["test-shoe"]
    assert len(SpecSensorCursor.parse(result.cursor).acks) == 1
    for _ in range(queue.max_receive_count + 1):
        driver.tick()
    assert queue.dead_letters() == ["this is not json"]
    assert len(driver.launched) == 1


def test_a_tick_killed_after_reading_notifications_loses_nothing(
    redelivering, storage, spec_doc, monkeypatch
):
    driver, queue = redelivering
    skip_sweeps(driver)
    put_spec(storage, spec_doc)
    queue.send(notification("specs/test-shoe.json"))
    killed = driver.kill_mid_tick()
    assert len(killed.run_requests) == 1  # computed, then lost with the daemon
    # The message was not deleted and comes back, but the spec's mark is in flight: its tick
    # may still be being stored, so nothing is requested twice.
    assert driver.tick().run_requests == []
    # Once the mark is out of flight with no run, the spec is requested again.
    later(monkeypatch, 600)
    queue.send(notification("specs/test-shoe.json"))
    result = driver.tick()
    assert [r.partition_key for r in result.run_requests] == ["test-shoe"]
    # Redelivered again before the ack (visibility timeout 0): same run key, no second run.
    driver.tick()
    driver.tick()
    assert len(driver.launched) == 1
    assert queue.receive(10) == []


def test_a_tick_that_dies_mid_rejection_is_completed_by_the_next(
    driver, storage, spec_doc, monkeypatch
):
    put_spec(storage, spec_doc)
    put_spec(storage, {**spec_doc, "product_id": "broken", "template": "nope"})
    objects = storage.objects()
    real_delete = LocalObjectStore.delete

    def die_before_delete(self, key):
        raise SystemExit("daemon killed")

    # The rejected copy and report are written, then the daemon dies before the delete and
    # before the tick's cursor and run requests are stored.
    monkeypatch.setattr(LocalObjectStore, "delete", die_before_delete)
    with pytest.raises(SystemExit):
        driver.tick()
    monkeypatch.setattr(LocalObjectStore, "delete", real_delete)
    assert objects.head("specs/broken.json") is not None
    assert objects.head("rejected/broken.json.error.json") is not None

    retry = driver.tick()
    assert [r.partition_key for r in retry.run_requests] == ["test-shoe"]
    assert objects.head("specs/broken.json") is None
    assert [s.key for s in objects.list("rejected/")] == [
        "rejected/broken.json",
        "rejected/broken.json.error.json",
    ]
    assert driver.tick().run_requests == []
    assert len(driver.launched) == 1


def test_a_bulk_drop_of_ten_thousand_specs_is_requested_once_each_in_few_runs(
    storage, messaging, spec_doc
):
    count = 10_000
    objects, queue = storage.objects(), messaging.spec_queue()
    keys = []
    for index in range(count):
        doc = {**spec_doc, "product_id": f"bulk-{index:05d}"}
        keys.append(objects.put(f"specs/{doc['product_id']}.json", spec_bytes(doc), "json").key)
        queue.send(notification(keys[-1]))
    # At-least-once delivery: some notifications arrive twice.
    for key in keys[::500]:
        queue.send(notification(key))
    # An in-memory instance: the file-backed test instance would spend minutes on 10,000 runs.
    with dg.DagsterInstance.ephemeral() as instance:
        driver = SensorDriver(
            spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging}
        )
        skip_sweeps(driver)
        ticks, slowest, busy = 0, 0.0, True
        while busy:
            started = time.monotonic()
            result = driver.tick()
            slowest = max(slowest, time.monotonic() - started)
            ticks += 1
            assert len(result.run_requests) <= spec_sensor.BUDGET.messages
            assert ticks <= count // spec_sensor.BUDGET.messages + 3
            busy = bool(result.run_requests or SpecSensorCursor.parse(driver.cursor).acks)
        ids = [f"bulk-{index:05d}" for index in range(count)]
        assert driver.launched_partitions() == ids  # each product in exactly one run
        # Small products: runs are capped by products, not by their estimated time.
        assert len(driver.launched) <= count / 25
        assert len(instance.get_dynamic_partitions("products")) == count
    assert queue.receive(10) == []
    print(f"{count} specs: {ticks} ticks, slowest tick {slowest:.2f}s")


def test_two_overlapping_ticks_request_each_spec_once_and_lose_none(
    redelivering, storage, spec_doc
):
    """A slow tick still running when the next starts: both from the same cursor, both applied."""
    driver, queue = redelivering
    ids = [f"overlap-{index:02d}" for index in range(20)]
    for product_id in ids:
        put_spec(storage, {**spec_doc, "product_id": product_id})
        queue.send(notification(f"specs/{product_id}.json"))
    with ThreadPoolExecutor(max_workers=2) as ticks:
        results = list(ticks.map(lambda _: driver.evaluate(), range(2)))
    for result in results:
        driver.apply(result)
    for _ in range(3):  # the messages either tick left unacknowledged come back
        driver.tick()
    assert driver.launched_partitions() == ids
    assert queue.receive(10) == []
    assert queue.dead_letters() == []


def test_a_changed_spec_among_many_is_requested_alone_never_with_its_neighbours(
    driver, storage, spec_doc
):
    ids = [f"n{index}" for index in range(6)]
    for product_id in ids:
        put_spec(storage, {**spec_doc, "product_id": product_id})
    first = driver.tick()
    assert len(first.run_requests) == 1 and requested(first, driver) == ids
    put_spec(storage, {**spec_doc, "product_id": "n3", "title": "changed"})
    put_spec(storage, {**spec_doc, "product_id": "n4", "title": "changed"})
    put_spec(storage, {**spec_doc, "product_id": "n9"})
    second = driver.tick()
    # n3 and n4 are neighbours in partition order; n9 is new, added at the end after n5,
    # which did not change: it gets a run of its own.
    assert [partitions_of(r, driver.instance) for r in second.run_requests] == [
        ["n3", "n4"],
        ["n9"],
    ]


def test_runs_are_sized_by_the_work_of_their_products(driver, storage, spec_doc, monkeypatch):
    # The small spec writes 0.111 megapixels: at 1 megapixel/s, 20 of them are 2.2 s of work,
    # three runs of about 0.74 s at a 1-second target.
    monkeypatch.setenv("RENDERFARM_RENDER_MEGAPIXELS_PER_S", "1")
    monkeypatch.setenv("RENDERFARM_TARGET_RUN_SECONDS", "1")
    ids = [f"w{index:02d}" for index in range(20)]
    for product_id in ids:
        put_spec(storage, {**spec_doc, "product_id": product_id})
    result = driver.tick()
    assert [len(partitions_of(r, driver.instance)) for r in result.run_requests] == [7, 6, 7]
    assert requested(result, driver) == ids


class CountingReads:
    """An object store that counts the reads of each key."""

    def __init__(self, inner):
        self._inner = inner
        self.reads: list[str] = []

    def get(self, key):
        self.reads.append(key)
        return self._inner.get(key)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_idle_ticks_read_no_unchanged_spec(instance, storage, messaging, spec_doc, monkeypatch):
    counting = CountingReads(storage.objects())
    monkeypatch.setattr(type(storage), "objects", lambda self: counting)
    driver = SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})
    for index in range(30):
        put_spec(storage, {**spec_doc, "product_id": f"idle-{index:02d}"})
    driver.tick()
    assert len(counting.reads) == 30
    counting.reads.clear()
    # The local deployment sweeps specs/ on every tick: each sweep lists, and reads nothing.
    for _ in range(3):
        assert driver.tick().run_requests == []
    assert counting.reads == []
    # Changed in place: picked up by the next sweep, and only it is read.
    put_spec(storage, {**spec_doc, "product_id": "idle-07", "title": "new title"})
    assert requested(driver.tick(), driver) == ["idle-07"]
    assert counting.reads == ["specs/idle-07.json"]
    # Rewritten with the same bytes: read once (its listing changed), requested never.
    put_spec(storage, {**spec_doc, "product_id": "idle-07", "title": "new title"})
    counting.reads.clear()
    assert driver.tick().run_requests == []
    assert driver.tick().run_requests == []
    assert counting.reads == ["specs/idle-07.json"]
