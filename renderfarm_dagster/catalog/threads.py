"""Per-product storage work, several products at a time.

Reading a run's specs and publishing its manifests are a few object reads and writes and a
notification per product. On S3 and SNS each waits on the network: one product at a time, a
sensor batch of 800 products would spend minutes of its task waiting before the first render
and after the last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

# Requests in flight per run: enough to hide S3's latency, far below its per-prefix limits.
STORAGE_THREADS = 16

Item = TypeVar("Item")
Result = TypeVar("Result")


def in_order(work: Callable[[Item], Result], items: Iterable[Item], name: str) -> Iterator[Result]:
    """`work` of each item, done STORAGE_THREADS at a time, yielded in the order of `items`.

    An exception is raised where its item comes in that order. Work not yet started is then
    cancelled, as it is when the caller stops early (closes the generator); work already
    started finishes.
    """
    pool = ThreadPoolExecutor(STORAGE_THREADS, thread_name_prefix=name)
    try:
        yield from pool.map(work, items)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
