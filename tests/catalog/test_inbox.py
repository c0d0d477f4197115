import json

from renderfarm_dagster.catalog.inbox import (
    AcceptedSpec,
    RejectedSpec,
    move_to_rejected,
    read_inbox_spec,
    submit_spec,
)
from tests.conftest import spec_bytes


def test_valid_spec_is_accepted_with_its_content(spec_doc, storage):
    objects = storage.objects()
    submission = submit_spec(objects, spec_bytes(spec_doc), "local.json")
    assert submission.changed
    assert not submit_spec(objects, spec_bytes(spec_doc), "again.json").changed
    parsed = submission.parsed
    decision = read_inbox_spec(objects, "specs/test-shoe.json")
    assert isinstance(decision, AcceptedSpec)
    assert decision.parsed.sha256 == parsed.sha256


def test_invalid_spec_is_moved_to_rejected_with_every_error(spec_doc, storage):
    objects = storage.objects()
    spec_doc["variants"][0]["colors"]["primary"] = "red"
    spec_doc["outputs"][0]["width"] = 1
    objects.put("specs/test-shoe.json", spec_bytes(spec_doc), "application/json")
    decision = read_inbox_spec(objects, "specs/test-shoe.json")
    assert isinstance(decision, RejectedSpec)
    move_to_rejected(objects, decision)
    assert objects.head("specs/test-shoe.json") is None
    assert objects.get("rejected/test-shoe.json") == spec_bytes(spec_doc)
    report = json.loads(objects.get("rejected/test-shoe.json.error.json"))
    assert [e["path"] for e in report["errors"]] == [
        "variants[0].colors.primary",
        "outputs[0].width",
    ]
    # Moving again (a replayed tick) is harmless.
    move_to_rejected(objects, decision)


def test_spec_stored_under_another_products_name_is_rejected(spec_doc, storage):
    objects = storage.objects()
    objects.put("specs/other.json", spec_bytes(spec_doc), "application/json")
    decision = read_inbox_spec(objects, "specs/other.json")
    assert isinstance(decision, RejectedSpec)
    assert "specs/test-shoe.json" in str(decision.error)


def test_vanished_spec_is_skipped(storage):
    assert read_inbox_spec(storage.objects(), "specs/gone.json") is None
