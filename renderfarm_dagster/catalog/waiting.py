"""Products whose spec is valid but whose photos, template or brand fonts are not all stored
yet: what `renderfarm status` lists (the spec sensor's marks say what each waits for)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.spec_marks import SpecMark
from renderfarm_dagster.catalog.threads import in_order
from renderfarm_dagster.storage import InputIndex, ObjectStore

# Spec keys whose marks are read in one call of the index (DynamoDB reads 100 per request).
MARKS_PER_READ = 1000


@dataclass(frozen=True)
class WaitingProduct:
    product_id: str
    waiting_for: tuple[str, ...]
    since: float  # epoch seconds


def waiting_products(objects: ObjectStore, index: InputIndex) -> Iterator[WaitingProduct]:
    """Every product of specs/ whose spec waits for inputs, in product id order."""
    spec_keys = (summary.key for summary in objects.list(keys.SPECS_PREFIX))
    chunks = iter(lambda: list(islice(spec_keys, MARKS_PER_READ)), [])
    for seen in in_order(index.seen, chunks, "marks"):
        for key, raw in sorted(seen.items()):
            mark = SpecMark.parse(raw)
            product_id = keys.product_id_from_spec_key(key)
            if mark is not None and mark.waiting and product_id:
                yield WaitingProduct(product_id, mark.waiting_for, mark.waiting_since)
