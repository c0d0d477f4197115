"""The inputs of variant jobs, sent to the render processes once rather than with every job.

A variant job holds the bytes of its template layouts, photos and brand fonts; pickled into a
pool worker with each job, a 20 MB brand font would cross the pipe 25 times for a 25-variant
product. Instead the pool's process writes each distinct input once, by its sha256, into a
folder of its own, and sends jobs that name their inputs by sha256. Each render process reads
an input the first time a job names it and keeps the recent ones (InputCache). The render
engine still gets a whole VariantJob: this is the pool's transport, nothing else knows of it.

The folder is in the temporary directory (TMPDIR), not /dev/shm: a container's /dev/shm is
64 MB by default, less than a few brand fonts. The files are read once per process, from the
page cache. The folder holds the inputs of the last `remembered` distinct inputs sent, each
deleted when it leaves that window (and written again if a later job names it): a run of
800 products with their photos never fills the task's disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from renderfarm_dagster.render.variant import VariantJob

# What a render process keeps of the templates and fonts it read: four 32 MiB brand fonts.
WORKER_CACHE_BYTES = 128 * 1024 * 1024
# ...and of the photos: as many as render/variant.py keeps decoded.
PHOTOS_KEPT = 4
# Distinct inputs the sending process remembers (and keeps in the folder) per job it may have
# queued: far more than a job names (a few layouts, photos and fonts), so that no queued job's
# input leaves the folder before a worker reads it.
REMEMBERED_PER_QUEUED_JOB = 32


@dataclass(frozen=True)
class InputRef:
    """An input by its sha256, in the pool's folder."""

    sha256: str


@dataclass(frozen=True)
class PackedJob:
    """A variant job with its input bytes replaced by references."""

    job: VariantJob


class InputFolder:
    """The sending side: writes each input once and packs jobs to name them."""

    def __init__(self, queued_jobs: int):
        self.path = Path(tempfile.mkdtemp(prefix="renderfarm-inputs-"))
        self.remembered = max(256, REMEMBERED_PER_QUEUED_JOB * queued_jobs)
        # id(bytes) -> (the bytes, kept alive so that the id is not reused, and their sha256).
        self._sent: OrderedDict[int, tuple[bytes, str]] = OrderedDict()

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def pack(self, job: VariantJob) -> PackedJob:
        return PackedJob(
            dataclasses.replace(
                job,
                template_layouts={n: self._ref(d) for n, d in job.template_layouts.items()},
                photos={key: self._ref(data) for key, data in job.photos.items()},
                fonts=tuple((face, self._ref(data)) for face, data in job.fonts),
            )
        )

    def _ref(self, data: bytes) -> InputRef:
        known = self._sent.get(id(data))
        if known is not None and known[0] is data:
            self._sent.move_to_end(id(data))
            return InputRef(known[1])
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path / sha256
        if not target.exists():
            # Written whole under another name, then renamed: a worker never reads half a file.
            partial = target.with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(target)
        self._sent[id(data)] = (data, sha256)
        while len(self._sent) > self.remembered:
            _, (_, dropped) = self._sent.popitem(last=False)
            if all(kept != dropped for _, kept in self._sent.values()):
                (self.path / dropped).unlink(missing_ok=True)
        return InputRef(sha256)


class InputCache:
    """The receiving side, in a render process: inputs by sha256, the recent ones kept.

    Templates and fonts are kept up to WORKER_CACHE_BYTES (a catalog has few, and every
    product's variants name them again); photos, the last PHOTOS_KEPT (a photo is shown by
    a few variants of one product at most), so that a photo catalog does not grow the
    process by its photos.
    """

    def __init__(self, folder: Path, budget: int = WORKER_CACHE_BYTES):
        self.folder = folder
        self._designs = _Recent(budget, count=None)
        self._photos = _Recent(budget, count=PHOTOS_KEPT)
        self.reads = 0  # inputs read from the folder, for the tests and the bench

    def unpack(self, packed: PackedJob) -> VariantJob:
        job = packed.job
        return dataclasses.replace(
            job,
            template_layouts={
                name: self._get(ref, self._designs) for name, ref in job.template_layouts.items()
            },
            photos={key: self._get(ref, self._photos) for key, ref in job.photos.items()},
            fonts=tuple((face, self._get(ref, self._designs)) for face, ref in job.fonts),
        )

    def _get(self, ref: InputRef, kept: _Recent) -> bytes:
        data = kept.get(ref.sha256)
        if data is None:
            data = (self.folder / ref.sha256).read_bytes()
            self.reads += 1
            kept.put(ref.sha256, data)
        return data


class _Recent:
    """The most recently used values, within a byte budget and, optionally, a count."""

    def __init__(self, budget: int, count: int | None):
        self.budget, self.count = budget, count
        self._values: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> bytes | None:
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
        return value

    def put(self, key: str, value: bytes) -> None:
        self._values[key] = value
        self._size += len(value)
        while len(self._values) > 1 and (
            self._size > self.budget or (self.count is not None and len(self._values) > self.count)
        ):
            _, dropped = self._values.popitem(last=False)
            self._size -= len(dropped)
