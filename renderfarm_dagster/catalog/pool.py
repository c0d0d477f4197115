"""A warm pool of render processes, sized to the CPUs this process may use. Jobs reach them
naming their inputs by sha256 (catalog/pool_inputs.py): each input crosses once per process."""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from renderfarm_dagster.catalog.pool_inputs import InputCache, InputFolder, PackedJob
from renderfarm_dagster.render.errors import RenderInputError
from renderfarm_dagster.render.process_memory import keep_freed_memory
from renderfarm_dagster.render.variant import (
    RenderedOutput,
    VariantFailure,
    VariantJob,
    render_variant,
)

# A job is a variant to render, or one already known to fail (its photo vanished), which
# passes through the pool in order with the others.
Job = VariantJob | VariantFailure
Result = list[RenderedOutput] | VariantFailure
# Variants submitted ahead per worker: enough that the workers keep drawing while this process
# stores a variant or finishes a product (contact sheet, the next product's plan), few enough
# that a 500-variant spec never has its rendered bytes waiting in memory.
QUEUED_PER_WORKER = 3


def available_cpus() -> int:
    """CPUs this process may run on (affinity and, in containers, the cgroup CPU quota)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = _cgroup_cpu_quota()
    return max(1, min(cpus or 1, quota) if quota else (cpus or 1))


def _cgroup_cpu_quota() -> int | None:
    # ECS/Fargate and Docker limit CPU through cgroup v2's cpu.max ("quota period" or "max").
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, round(int(quota) / int(period)))


# In each worker process: the inputs its jobs named, read from the pool's folder.
_inputs: InputCache | None = None


def _warm_up(folder: Path) -> None:
    # Importing cairosvg and drawing a first SVG costs about half a second; pay it once per
    # worker, before the first real variant, not once per variant.
    from renderfarm_dagster.render.raster import rasterize

    global _inputs
    _inputs = InputCache(folder)
    keep_freed_memory()
    rasterize(b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', 1, 1)


def _render(job: Job | PackedJob) -> Result:
    if isinstance(job, VariantFailure):
        return job
    if isinstance(job, PackedJob):
        assert _inputs is not None  # set by _warm_up, the pool's initializer
        job = _inputs.unpack(job)
    try:
        return render_variant(job)
    except RenderInputError as error:
        # A bad photo fails its product, not the run: the other products go on.
        return VariantFailure(job.product_id, job.variant_id, error.key, error.reason)


class RenderPool:
    """Renders variants in `workers` processes (or in this one when that is cheaper)."""

    def __init__(self, workers: int = 0):
        self.workers = workers or available_cpus()
        self._executor: ProcessPoolExecutor | None = None
        # Submitted and not yet handed to the caller: what `finish_started` can still save.
        self._in_flight: dict[Future, Job] = {}
        self._inputs: InputFolder | None = None

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._inputs is not None:
            self._inputs.close()
            self._inputs = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._inputs = InputFolder(QUEUED_PER_WORKER * self.workers)
            # forkserver, not fork: the Dagster run process has threads (event log, compute
            # log capture) and forking a threaded process can deadlock the child.
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_warm_up,
                initargs=(self._inputs.path,),
            )
        return self._executor

    def _submit(self, pool: ProcessPoolExecutor, job: Job) -> None:
        assert self._inputs is not None
        sent = self._inputs.pack(job) if isinstance(job, VariantJob) else job
        self._in_flight[pool.submit(_render, sent)] = job

    def render(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        """Yield each job with its variant's outputs as soon as it is done, in completion order.

        `jobs` is consumed lazily, one job whenever a worker has room: it may plan the next
        product while the workers draw.
        """
        jobs = iter(jobs)
        first = list(itertools.islice(jobs, 2))
        if self.workers == 1 or len(first) <= 1:
            # Starting a worker costs more than rendering one variant here.
            keep_freed_memory()
            for job in itertools.chain(first, jobs):
                yield job, _render(job)
            return
        pool = self._pool()
        queue = itertools.chain(first, jobs)
        for job in queue:
            self._submit(pool, job)
            if len(self._in_flight) >= QUEUED_PER_WORKER * self.workers:
                break
        while self._in_flight:
            done, _ = wait(self._in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                for job in queue:
                    self._submit(pool, job)
                    break
                # Leaves the in-flight set only as it is handed over: an interruption while
                # the caller stores one variant leaves the others for `finish_started`.
                job = self._in_flight.pop(future)
                yield job, future.result()

    def finish_started(self) -> Iterator[tuple[Job, Result]]:
        """After `render` was interrupted: cancel the variants not started, and yield those
        already being drawn as they finish (each takes well under a second), so the caller can
        keep them instead of a retry drawing them again. Variants that failed are dropped;
        the retry renders them."""
        in_flight, self._in_flight = self._in_flight, {}
        started = [(future, job) for future, job in in_flight.items() if not future.cancel()]
        for future, job in started:
            if future.exception() is None:
                yield job, future.result()
