"""The contract every CheckpointStore implementation keeps."""

import dataclasses
import random
from concurrent.futures import ThreadPoolExecutor

from renderfarm_dagster.storage import OutputCheckpoint, ProductOutcome


def checkpoint(variant_id="v1", output_name="hero", product_id="p1", sha256="a" * 64, run_id="r1"):
    return OutputCheckpoint(
        product_id=product_id,
        variant_id=variant_id,
        output_name=output_name,
        key=f"renders/{product_id}/{variant_id}/{output_name}.png",
        fingerprint="f" * 64,
        sha256=sha256,
        size=10,
        format="png",
        width=100,
        height=100,
        run_id=run_id,
    )


def test_empty_product_has_no_checkpoints(checkpoint_store):
    assert checkpoint_store.read("p1") == {}


def test_recorded_checkpoints_are_read_back_per_product(checkpoint_store):
    first, second = checkpoint("v1", "hero"), checkpoint("v1", "thumb")
    other_product = checkpoint("v1", "hero", product_id="p2")
    checkpoint_store.record([first, second])
    checkpoint_store.record([other_product])
    assert checkpoint_store.read("p1") == {("v1", "hero"): first, ("v1", "thumb"): second}
    assert checkpoint_store.read("p2") == {("v1", "hero"): other_product}


def test_replayed_record_is_harmless(checkpoint_store):
    record = checkpoint()
    checkpoint_store.record([record])
    checkpoint_store.record([record])
    assert checkpoint_store.read("p1") == {("v1", "hero"): record}


def test_a_new_render_of_an_output_replaces_its_checkpoint(checkpoint_store):
    checkpoint_store.record([checkpoint()])
    newer = dataclasses.replace(checkpoint(), sha256="b" * 64, run_id="r2")
    checkpoint_store.record([newer])
    assert checkpoint_store.read("p1")[("v1", "hero")] == newer


def test_checkpoints_persist_across_store_instances(storage_resource, checkpoint_store):
    checkpoint_store.record([checkpoint()])
    reopened = storage_resource.checkpoints()
    assert reopened is not checkpoint_store
    assert reopened.read("p1") == {("v1", "hero"): checkpoint()}


def test_an_older_attempt_never_replaces_a_newer_one(checkpoint_store):
    retry = dataclasses.replace(checkpoint(), sha256="b" * 64, run_id="retry", attempt=1)
    checkpoint_store.record([retry])
    # The interrupted first attempt flushes late: its record is ignored, not an error.
    checkpoint_store.record([dataclasses.replace(checkpoint(), run_id="first", attempt=0)])
    assert checkpoint_store.read("p1")[("v1", "hero")] == retry
    second_retry = dataclasses.replace(retry, sha256="c" * 64, run_id="retry-2", attempt=2)
    checkpoint_store.record([second_retry])
    assert checkpoint_store.read("p1")[("v1", "hero")] == second_retry


def test_many_checkpoints_read_back_in_one_call(checkpoint_store):
    # More than one page of a DynamoDB query is 1 MB; this checks pagination is followed
    # wherever the store has it, and that ids with '#' or '-' split back correctly.
    records = [
        checkpoint(f"variant-{index:03d}", name)
        for index in range(150)
        for name in ("hero", "thumb_2x")
    ]
    checkpoint_store.record(records)
    read = checkpoint_store.read("p1")
    assert len(read) == 300
    assert read[("variant-149", "thumb_2x")] == records[-1]


def test_concurrent_attempts_leave_the_newest_attempts_checkpoint(storage_resource):
    """Ten writers at once (a retry and the interrupted attempts still flushing), in random
    order: for every output the newest attempt's checkpoint is the one that stays."""
    outputs = [(f"v{index}", name) for index in range(10) for name in ("hero", "thumb")]

    def attempt_writes(attempt: int) -> None:
        store = storage_resource.checkpoints()  # each writer its own store, as each run has
        batch = [
            dataclasses.replace(
                checkpoint(variant_id, name, sha256=f"{attempt:x}" * 64),
                run_id=f"run-{attempt}",
                attempt=attempt,
            )
            for variant_id, name in outputs
        ]
        random.Random(attempt).shuffle(batch)
        for start in range(0, len(batch), 4):
            store.record(batch[start : start + 4])

    attempts = list(range(10))
    random.Random(0).shuffle(attempts)
    with ThreadPoolExecutor(max_workers=10) as writers:
        list(writers.map(attempt_writes, attempts))
    recorded = storage_resource.checkpoints().read("p1")
    assert set(recorded) == set(outputs)
    assert {c.attempt for c in recorded.values()} == {9}
    assert {c.sha256 for c in recorded.values()} == {"9" * 64}


def outcome(product_id="p1", request_id="run-1", published=True, detail="m" * 64, run_id="run-1"):
    return ProductOutcome(product_id, request_id, published, detail, run_id)


def test_outcomes_are_read_back_per_request(checkpoint_store):
    assert checkpoint_store.outcomes("run-1", ["p1"]) == {}
    published, failed = outcome("p1"), outcome("p2", published=False, detail="d" * 16)
    other_request = outcome("p1", request_id="run-9", run_id="run-9")
    for record in (published, failed, other_request):
        checkpoint_store.record_outcome(record)
    assert checkpoint_store.outcomes("run-1", ["p1", "p2", "p3"]) == {
        "p1": published,
        "p2": failed,
    }
    assert checkpoint_store.outcomes("run-9", ["p1", "p2"]) == {"p1": other_request}
    # Outcomes are not checkpoints: a product's outputs are read as before.
    assert checkpoint_store.read("p1") == {}


def test_a_retry_replaces_its_requests_outcome(checkpoint_store):
    checkpoint_store.record_outcome(outcome(published=False, detail="d" * 16))
    # The retry of the same request (another run) published the product after all.
    retried = outcome(run_id="run-2")
    checkpoint_store.record_outcome(retried)
    checkpoint_store.record_outcome(retried)  # a replay
    assert checkpoint_store.outcomes("run-1", ["p1"]) == {"p1": retried}


def test_many_outcomes_in_one_read(checkpoint_store):
    # More than one DynamoDB BatchGetItem (100 keys) and one SQLite statement's parameters.
    ids = [f"product-{index:04}" for index in range(620)]
    for product_id in ids[::3]:
        checkpoint_store.record_outcome(outcome(product_id))
    found = checkpoint_store.outcomes("run-1", ids)
    assert sorted(found) == ids[::3]


def test_forgetting_a_product_removes_its_checkpoints_and_outcomes(checkpoint_store, input_index):
    checkpoint_store.record([checkpoint(), checkpoint("v2"), checkpoint(product_id="p2")])
    checkpoint_store.record_outcome(outcome())
    # The input index may share the deployment's table: forgetting checkpoints leaves it.
    input_index.record("p1", {"assets/p1.png": "a" * 64})
    checkpoint_store.forget("p1")
    checkpoint_store.forget("never-rendered")
    assert checkpoint_store.read("p1") == {}
    assert checkpoint_store.outcomes("run-1", ["p1"]) == {}
    assert set(checkpoint_store.read("p2")) == {("v1", "hero")}
    assert input_index.inputs_of("p1") == {"assets/p1.png": "a" * 64}
