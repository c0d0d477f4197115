"""The spec inbox sensor, tick by tick: (cursor, inbox) -> (partitions, run requests, cursor)."""

import dagster as dg
import pytest

from renderfarm_dagster.defs import sensors
from renderfarm_dagster.defs.sensors import spec_inbox_sensor
from tests.conftest import spec_bytes


def tick(instance, storage, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"storage": storage}
    )
    result = spec_inbox_sensor(context)
    # Apply partition requests as the daemon would, so the next tick sees them.
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def put_spec(storage, doc, key=None):
    storage.objects().put(
        key or f"specs/{doc['product_id']}.json", spec_bytes(doc), "application/json"
    )


def added(result):
    return [k for r in result.dynamic_partitions_requests for k in r.partition_keys]


def test_new_spec_registers_partition_and_requests_a_run(instance, storage, spec_doc):
    put_spec(storage, spec_doc)
    result = tick(instance, storage)
    assert added(result) == ["test-shoe"]
    (request,) = result.run_requests
    assert request.partition_key == "test-shoe"
    assert request.run_key.startswith("test-shoe:")
    assert result.cursor == ""


def test_unchanged_spec_keeps_its_run_key_and_changed_spec_gets_a_new_one(
    instance, storage, spec_doc
):
    put_spec(storage, spec_doc)
    first = tick(instance, storage).run_requests[0].run_key
    again = tick(instance, storage)
    assert added(again) == []  # partition already registered
    assert again.run_requests[0].run_key == first  # Dagster launches a run key only once
    spec_doc["title"] = "Test Shoe, new title"
    put_spec(storage, spec_doc)
    changed = tick(instance, storage).run_requests[0].run_key
    assert changed != first


def test_invalid_spec_is_rejected_and_the_rest_still_processed(
    instance, storage, spec_doc, data_dir
):
    put_spec(storage, spec_doc)
    broken = {**spec_doc, "product_id": "broken", "template": "nope"}
    put_spec(storage, broken)
    # Dropped by hand into the inbox folder: a name outside the key layout, and not even JSON.
    (data_dir / "bucket" / "specs" / "Weird Name.json").write_bytes(b"{")
    result = tick(instance, storage)
    assert added(result) == ["test-shoe"]
    objects = storage.objects()
    assert objects.head("specs/broken.json") is None
    assert b"template" in objects.get("rejected/broken.json.error.json")
    rejected = [s.key for s in objects.list("rejected/")]
    assert any(k.startswith("rejected/weird-name-") and k.endswith(".error.json") for k in rejected)
    assert [s.key for s in objects.list("specs/")] == ["specs/test-shoe.json"]


def test_cursor_bounds_each_tick_and_the_sweep_wraps_around(
    instance, storage, spec_doc, monkeypatch
):
    monkeypatch.setattr(sensors, "MAX_SPECS_PER_TICK", 2)
    for name in ("a1", "a2", "a3"):
        put_spec(storage, {**spec_doc, "product_id": name})
    first = tick(instance, storage)
    assert [r.partition_key for r in first.run_requests] == ["a1", "a2"]
    assert first.cursor == "specs/a2.json"
    # The cursor key is deleted before the next tick: the sweep continues after it anyway.
    storage.objects().delete("specs/a2.json")
    second = tick(instance, storage, first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["a3"]
    assert second.cursor == ""
    third = tick(instance, storage, second.cursor)
    assert [r.partition_key for r in third.run_requests] == ["a1", "a3"]


@pytest.mark.parametrize("spec_count", [450])
def test_many_specs_each_requested_once_per_sweep(instance, storage, spec_doc, spec_count):
    for index in range(spec_count):
        put_spec(storage, {**spec_doc, "product_id": f"p{index:04d}"})
    cursor, requested = None, []
    for _ in range(10):
        result = tick(instance, storage, cursor)
        assert len(result.run_requests) <= sensors.MAX_SPECS_PER_TICK
        requested += [r.partition_key for r in result.run_requests]
        cursor = result.cursor
        if cursor == "":
            break
    assert sorted(requested) == [f"p{i:04d}" for i in range(spec_count)]
    assert len(instance.get_dynamic_partitions("products")) == spec_count


def test_a_tick_that_dies_mid_rejection_is_completed_by_the_next(
    instance, storage, spec_doc, monkeypatch
):
    put_spec(storage, spec_doc)
    put_spec(storage, {**spec_doc, "product_id": "broken", "template": "nope"})
    objects = storage.objects()
    real_delete = type(objects).delete

    def die_before_delete(self, key):
        raise SystemExit("daemon killed")

    # The rejected copy and report are written, then the daemon dies before the delete and
    # before the tick's cursor and run requests are committed.
    monkeypatch.setattr(type(objects), "delete", die_before_delete)
    with pytest.raises(SystemExit):
        tick(instance, storage)
    monkeypatch.setattr(type(objects), "delete", real_delete)
    assert objects.head("specs/broken.json") is not None
    assert objects.head("rejected/broken.json.error.json") is not None

    retry = tick(instance, storage)
    assert [r.partition_key for r in retry.run_requests] == ["test-shoe"]
    assert objects.head("specs/broken.json") is None
    assert [s.key for s in objects.list("rejected/")] == [
        "rejected/broken.json",
        "rejected/broken.json.error.json",
    ]
    # A later tick sees the same accepted spec with the same run key: nothing is run twice.
    assert tick(instance, storage).run_requests[0].run_key == retry.run_requests[0].run_key
