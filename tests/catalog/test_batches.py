"""Runs sized by their work, each a contiguous range of product partitions."""

import pytest

from renderfarm_dagster.catalog.batches import Batch, output_megapixels, plan_batches
from renderfarm_dagster.spec import parse_spec
from tests.conftest import spec_bytes


def products(batches):
    return [list(batch.product_ids) for batch in batches]


def at(order):
    """Each product's place in a partition order."""
    return {product_id: index for index, product_id in enumerate(order)}


def test_a_lone_product_is_a_batch_of_its_own():
    assert products(plan_batches(at(["a", "b", "c"]), {"b": 1.0}, 900, 1000)) == [["b"]]


def test_batches_are_as_few_as_the_target_allows_and_of_even_length():
    order = [f"p{index}" for index in range(10)]
    seconds = dict.fromkeys(order, 100.0)
    # 1,000 s at a 300 s target: four runs of about 250 s, not three full ones and a short one.
    batches = plan_batches(at(order), seconds, 300, 1000)
    assert [len(b.product_ids) for b in batches] == [2, 3, 2, 3]
    assert [p for b in batches for p in b.product_ids] == order
    assert max(b.seconds for b in batches) <= 300
    # The product cap splits evenly too.
    assert [len(b.product_ids) for b in plan_batches(at(order), seconds, 10_000, 4)] == [4, 3, 3]
    # A product longer than the target is a run of its own, never split or dropped.
    assert products(plan_batches(at(["big", "x"]), {"big": 5000.0, "x": 1.0}, 300, 1000)) == [
        ["big"],
        ["x"],
    ]


def test_an_unwanted_product_between_two_wanted_ones_is_never_inside_a_range():
    order = ["a", "b", "c", "d", "e"]
    batches = plan_batches(at(order), {"a": 1.0, "b": 1.0, "d": 1.0, "e": 1.0}, 900, 1000)
    assert products(batches) == [["a", "b"], ["d", "e"]]
    assert [(b.first, b.last) for b in batches] == [("a", "b"), ("d", "e")]


def test_products_outside_the_partition_order_are_refused():
    with pytest.raises(ValueError, match="not in the partition order"):
        plan_batches(at(["a"]), {"zz": 1.0}, 900, 1000)


def test_run_keys_name_the_range_and_change_with_any_product_version():
    batch = Batch(("a", "b"), 2.0)
    key = batch.run_key("specs", {"a": "1", "b": "2"})
    assert key.startswith("specs:a..b:")
    assert batch.run_key("specs", {"a": "1", "b": "2"}) == key
    assert batch.run_key("specs", {"a": "1", "b": "3"}) != key


def test_work_is_the_output_pixels_of_every_variant(spec_doc):
    spec = parse_spec(spec_bytes(spec_doc), "x").spec
    per_variant = 160 * 160 + 96 * 96 + 48 * 48
    assert output_megapixels(spec) == pytest.approx(3 * per_variant / 1e6)
