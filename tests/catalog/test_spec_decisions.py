"""The spec sensor's decisions on plain values: no Dagster, no storage."""

import json

from renderfarm_dagster.catalog.batches import Batch
from renderfarm_dagster.catalog.inbox import AcceptedSpec, RejectedSpec, WaitingSpec
from renderfarm_dagster.catalog.spec_decisions import (
    Candidate,
    RunSizing,
    change_runs,
    decide_waits,
    partition_order,
    sort_read,
    spec_runs,
    triage,
)
from renderfarm_dagster.catalog.spec_marks import IN_FLIGHT_S, SpecMark
from renderfarm_dagster.spec import SpecError, SpecProblem, parse_spec
from tests.conftest import SMALL_SPEC

NOW = 1_000_000.0
HOUR = 3600.0
SIZING = RunSizing(megapixels_per_s=1.0, target_s=1e6, max_products=1000)


def accepted(product_id: str, photo: str | None = None) -> AcceptedSpec:
    doc = {**SMALL_SPEC, "product_id": product_id}
    if photo:
        doc = {
            "spec_version": 2,
            "product_id": product_id,
            "template": "lookbook",
            "layers": {"title": {"text": product_id}, "photo": {"image": photo}},
            "variants": [{"variant_id": "one"}],
            "outputs": [{"name": "hero", "width": 100, "height": 125, "format": "png"}],
        }
    key = f"specs/{product_id}.json"
    return AcceptedSpec(key, parse_spec(json.dumps(doc).encode(), key))


def test_triage_reads_what_is_new_changed_unrequested_expired_or_forced():
    marks = {
        "specs/same.json": SpecMark("s", "v1", 1.0),
        "specs/touched.json": SpecMark("s", "v1", 1.0),
        "specs/in-flight.json": SpecMark("s", "v1", 1.0, "run-a", NOW - 10),
        "specs/launched.json": SpecMark("s", "v1", 1.0, "run-b", NOW - 10),
        "specs/died.json": SpecMark("s", "v1", 1.0, "run-c", NOW - IN_FLIGHT_S - 1),
        "specs/waits.json": SpecMark.waiting_on("s", "v1", 1.0, ["assets/x.jpg"], NOW - HOUR),
        "specs/waited.json": SpecMark.waiting_on("s", "v1", 1.0, ["assets/x.jpg"], NOW - 25 * HOUR),
        "specs/forced.json": SpecMark("s", "v1", 1.0),
    }
    versions = {key: "v1" for key in marks} | {"specs/touched.json": "v2", "specs/new.json": ""}
    inbox = triage(versions, marks, {"run-b"}, NOW, {"specs/forced.json"}, 24 * HOUR)
    assert inbox.to_read == [
        "specs/died.json",  # its tick died: requested again
        "specs/forced.json",
        "specs/new.json",
        "specs/touched.json",
        "specs/waited.json",  # longer than the longest wait: requested anyway
    ]
    assert set(inbox.settled) == {"specs/launched.json"}
    assert inbox.settled["specs/launched.json"].settled
    assert "specs/died.json" not in inbox.marks  # read as if never requested


def test_read_specs_are_sorted_into_candidates_rejections_and_deletions():
    same, changed = accepted("same"), accepted("changed")
    marks = {
        same.key: SpecMark(same.parsed.sha256, "v1", 1.0),
        changed.key: SpecMark("an older sha256", "v1", 1.0),
    }
    waiting = WaitingSpec("specs/w.json", accepted("w", "assets/w.jpg").parsed, "waits: gone")
    error = SpecError("specs/bad.json", [SpecProblem("$", "broken")])
    rejected = RejectedSpec("specs/bad.json", error, "rejected/specs/bad.json", "r.json")
    inbox = triage({}, {}, set(), NOW, set(), HOUR)
    inbox.marks.update(marks)
    read = sort_read(
        [
            (same.key, same),
            (changed.key, changed),
            ("specs/w.json", waiting),
            ("specs/bad.json", rejected),
            ("specs/gone.json", None),
            ("specs/vanished.json", None),
        ],
        inbox,
        {same.key: "v2", changed.key: "v2", "specs/w.json": ""},
        {"specs/gone.json": "gone"},
    )
    # The same bytes touched: not a candidate, its mark moved to the new version.
    assert inbox.settled[same.key].version == "v2"
    assert [c.spec.key for c in read.candidates] == [changed.key, "specs/w.json"]
    assert read.candidates[1].unusable == ("templates/lookbook.svg",)
    assert read.rejected == [rejected]
    assert read.deleted == ["gone"]  # only a forced spec that vanished is forgotten


def test_a_spec_waits_until_every_input_is_stored_and_at_most_the_longest_wait():
    complete, late = accepted("complete", "assets/c.jpg"), accepted("late", "assets/l.jpg")
    expired = accepted("expired", "assets/e.jpg")
    inputs = {
        "complete": {"templates/lookbook.svg": "t", "assets/c.jpg": "c"},
        "late": {"templates/lookbook.svg": "t", "assets/l.jpg": ""},
        "expired": {"templates/lookbook.svg": "t", "assets/e.jpg": ""},
    }
    marks = {
        expired.key: SpecMark.waiting_on("x", "v", 1.0, ["assets/e.jpg"], NOW - 30 * HOUR),
    }
    versions = {complete.key: "v", late.key: "v", expired.key: "v"}
    decided = decide_waits(
        [Candidate(complete), Candidate(late), Candidate(expired)],
        inputs,
        marks,
        versions,
        NOW,
        24 * HOUR,
    )
    assert [s.product_id for s in decided.wanted] == ["complete", "expired"]
    (wait,) = decided.waits
    assert (wait.spec.product_id, wait.missing, wait.new) == ("late", ["assets/l.jpg"], True)
    assert wait.mark.waiting_for == ("assets/l.jpg",) and wait.mark.waiting_since == NOW
    assert [(s.product_id, m, round(h)) for s, m, h in decided.expired] == [
        ("expired", ["assets/e.jpg"], 30)
    ]
    # The next tick finds it still waiting for the same photo: nothing new to record or say.
    again = decide_waits(
        [Candidate(late)], inputs, {late.key: wait.mark}, versions, NOW + 60, 24 * HOUR
    )
    assert not again.waits[0].new and again.waits[0].mark.waiting_since == NOW


def test_spec_runs_are_sized_ranges_whose_keys_name_the_inputs_state():
    a, b, c = accepted("a"), accepted("b"), accepted("c")
    positions, new = partition_order(["old"], ["b", "a", "c"])
    assert new == ["a", "b", "c"] and positions == {"old": 0, "a": 1, "b": 2, "c": 3}
    versions = {a.key: "1", b.key: "2", c.key: "3"}
    inputs = {"a": {}, "b": {}, "c": {}}
    plans, marks = spec_runs([a, b, c], positions, inputs, versions, {b.key}, NOW, SIZING)
    (plan,) = plans
    assert plan.batch.product_ids == ("a", "b", "c")
    assert plan.reason == "3 specs are new, changed or complete (specs/a.json to specs/c.json)"
    assert {key: mark.run_key for key, mark in marks.items()} == dict.fromkeys(
        versions, plan.run_key
    )
    assert all(not mark.settled and mark.marked_at == NOW for mark in marks.values())
    # The same specs with a photo now stored are another request.
    again, _ = spec_runs(
        [a], positions, {"a": {"assets/p.jpg": "sha"}}, versions, set(), NOW, SIZING
    )
    alone, _ = spec_runs([a], positions, inputs, versions, set(), NOW, SIZING)
    assert again[0].run_key != alone[0].run_key
    assert alone[0].reason == "specs/a.json is new or changed"


def test_change_runs_name_the_input_its_sha256_and_the_products():
    positions = {"a": 0, "b": 1, "c": 2}
    plans = change_runs({("assets/x.jpg", "f" * 64): ["a", "c"]}, positions, {"a": 2.0}, SIZING)
    assert sorted(plan.batch.product_ids for plan in plans.values()) == [("a",), ("c",)]
    for run_key, plan in plans.items():
        assert run_key.startswith("assets/x.jpg@ffffffffffffffff:")
        assert plan.changed_input == ("assets/x.jpg", "f" * 64)
        assert plan.reason == "assets/x.jpg changed (sha256 ffffffffffff)"
    assert isinstance(next(iter(plans.values())).batch, Batch)
