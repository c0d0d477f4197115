"""Products requested together: runs sized by their work, each a contiguous range of partitions.

A Dagster run of a partitioned asset targets one range of partition keys (the
`dagster/asset_partition_range_start/_end` tags, what backfills use), in the order the dynamic
partitions were added. So a batch is a stretch of wanted products with no unwanted product
between them in that order: a product that did not change is never rendered again because its
neighbours did. New products are added in key order at the end, so a bulk drop is one stretch.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from renderfarm_dagster.spec import ProductSpec


@dataclass(frozen=True)
class Batch:
    product_ids: tuple[str, ...]  # consecutive in partition order
    seconds: float  # estimated rendering time

    @property
    def first(self) -> str:
        return self.product_ids[0]

    @property
    def last(self) -> str:
        return self.product_ids[-1]

    def run_key(self, kind: str, versions: Mapping[str, str]) -> str:
        """A run key naming the batch's range and what each product is requested for (e.g. its
        spec's sha256): the same batch of the same versions always gets the same key."""
        lines = "\n".join(f"{product_id} {versions[product_id]}" for product_id in self.product_ids)
        digest = hashlib.sha256(lines.encode("utf-8")).hexdigest()[:24]
        return f"{kind}:{self.first}..{self.last}:{digest}"


def output_megapixels(spec: ProductSpec) -> float:
    """The pixels a product's render writes, in millions: what its render time grows with."""
    per_variant = sum(output.width * output.height for output in spec.outputs)
    return per_variant * len(spec.variants) / 1e6


def plan_batches(
    positions: Mapping[str, int],
    seconds: Mapping[str, float],
    target_s: float,
    max_products: int,
) -> list[Batch]:
    """The products of `seconds` (product -> estimated render seconds) in batches of about
    `target_s` and at most `max_products`, each a run of consecutive `positions` (every
    product partition -> its place in the order Dagster's ranges use).

    Each stretch of wanted products is cut into as few batches as the target allows, of even
    length: 2,820 s at a 900 s target are four runs of 705 s, not three of 900 and one of 120
    (a run's creation costs Dagster more the more products it holds, and a short last run still
    pays a whole cold start). A product longer than the target is a batch of its own. Products
    missing from `positions` are an error: their range would be wrong.
    """
    missing = seconds.keys() - positions.keys()
    if missing:
        raise ValueError(f"products not in the partition order: {sorted(missing)[:5]}")
    batches: list[Batch] = []
    stretch: list[str] = []
    for product_id in sorted(seconds, key=positions.__getitem__):
        if stretch and positions[product_id] != positions[stretch[-1]] + 1:
            # An unwanted product between: a range must not include it.
            batches += _split(stretch, seconds, target_s, max_products)
            stretch = []
        stretch.append(product_id)
    if stretch:
        batches += _split(stretch, seconds, target_s, max_products)
    return batches


def _split(
    stretch: list[str], seconds: Mapping[str, float], target_s: float, max_products: int
) -> list[Batch]:
    total = sum(seconds[p] for p in stretch)
    count = max(math.ceil(total / target_s), 1)
    share = total / count
    # Each product goes to the batch its midpoint falls in, on the cumulative time.
    groups: list[list[str]] = [[] for _ in range(count)]
    elapsed = 0.0
    for product_id in stretch:
        cost = seconds[product_id]
        index = min(int((elapsed + cost / 2) / share) if share else 0, count - 1)
        groups[index].append(product_id)
        elapsed += cost
    batches = []
    for group in filter(None, groups):
        # Many small products: split evenly by count as well.
        parts = math.ceil(len(group) / max_products)
        start = 0
        for part in range(parts):
            size = len(group) // parts + (part < len(group) % parts)
            products = tuple(group[start : start + size])
            batches.append(Batch(products, sum(seconds[p] for p in products)))
            start += size
    return batches
