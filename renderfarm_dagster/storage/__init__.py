"""Storage interfaces. Each deployment provides one implementation of each."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from renderfarm_dagster.output_record import OutputRecord


class ObjectNotFoundError(KeyError):
    """No object at that key."""


@dataclass(frozen=True)
class ObjectSummary:
    """A listing entry: cheap to get for every object under a prefix."""

    key: str
    size: int
    # Changes whenever the object is replaced (S3: ETag and size; a folder: size, mtime and
    # inode): what lets a sweep tell a changed object from an unchanged one without reading it.
    version: str


@dataclass(frozen=True)
class ObjectInfo:
    """An object's identity: its size and the sha256 of its bytes."""

    key: str
    size: int
    sha256: str
    # The listing version (ObjectSummary.version) of exactly these bytes, when the store
    # reports it with them; "" when not known.
    version: str = ""


def s3_version(etag: str, size: int) -> str:
    """An S3 object's version as its listing and its event notifications both report it (the
    listing quotes the ETag, notifications do not)."""
    bare_etag = etag.strip('"')
    return f"{bare_etag}/{size}"


class ObjectStore(ABC):
    """A bucket of immutable-per-version objects addressed by key (see renderfarm_dagster.keys)."""

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        """Store `data` at `key` atomically: readers see the old object or the new, never a part."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; raises ObjectNotFoundError."""

    @abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """The object's size, sha256 and (when known) listing version, or None when there is
        no object at `key`."""

    @abstractmethod
    def list(self, prefix: str, start_after: str = "") -> Iterator[ObjectSummary]:
        """Objects whose key starts with `prefix` and sorts after `start_after`, in key order.

        Lazy: a caller that stops after n entries pays for about n, not for the whole prefix.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""

    @abstractmethod
    def link(self, key: str) -> str:
        """An address a person opens to see the object (its page in the S3 console, a local
        file's URI): what the Dagster UI shows instead of the object's bytes."""


@dataclass(frozen=True)
class OutputCheckpoint(OutputRecord):
    """The durable record that one output of one variant landed in the object store: its
    record, where it is, and the stored bytes' sha256 and size."""

    product_id: str
    key: str
    sha256: str
    size: int
    run_id: str
    # Which try of the render this is: 0 for the first run, n for the n-th retry after an
    # interruption. A record from an older attempt never replaces one from a newer attempt.
    attempt: int = 0


@dataclass(frozen=True)
class ProductOutcome:
    """What a render request announced for one product (its product_rendered or render_failed
    notification), recorded once the notification is published: a retry of the same request
    (an interrupted run's) announces the product again only if it ends differently."""

    product_id: str
    # The request's first run: its spot retries carry the same request id.
    request_id: str
    published: bool  # True: product_rendered was sent; False: render_failed
    # What was announced, in short: the manifest's sha256, or a digest of the problems.
    detail: str
    run_id: str  # the run that announced it


class CheckpointStore(ABC):
    """Which outputs are done, so an interrupted run resumes without redoing them, and which
    products a request already announced, so its retry does not announce them twice."""

    @abstractmethod
    def record(self, checkpoints: Sequence[OutputCheckpoint]) -> None:
        """Record outputs as done; each record stands alone (it names an object already stored).

        A record replaces the stored one for the same output unless the stored one comes from a
        newer attempt: a slow, interrupted run can never overwrite its retry's work. Replaying
        a record is harmless.
        """

    @abstractmethod
    def read(self, product_id: str) -> dict[tuple[str, str], OutputCheckpoint]:
        """Every checkpoint of a product, keyed by (variant_id, output_name)."""

    @abstractmethod
    def record_outcome(self, outcome: ProductOutcome) -> None:
        """Record what a request announced for a product, replacing an earlier record of the
        same request and product."""

    @abstractmethod
    def outcomes(self, request_id: str, product_ids: Collection[str]) -> dict[str, ProductOutcome]:
        """The recorded outcomes of `request_id` among `product_ids`, by product id."""

    @abstractmethod
    def forget(self, product_id: str) -> None:
        """Remove every checkpoint and outcome of a product (it left the catalog)."""


@dataclass(frozen=True)
class Interruption:
    """A run whose capacity AWS took back, as recorded before its event message is deleted."""

    run_id: str  # the interrupted Dagster run
    task_arn: str
    event_id: str  # the EventBridge event that reported it first
    recorded_at: float  # epoch seconds


class InterruptionLedger(ABC):
    """Durable record of interruptions, so a retry survives a sensor tick that dies midway."""

    @abstractmethod
    def record(self, interruption: Interruption) -> bool:
        """Record an interruption of a run once; False when that run was already recorded."""

    @abstractmethod
    def pending(self, limit: int) -> list[Interruption]:
        """Recorded interruptions whose retry is not yet known to exist, oldest first.

        It may lag record() and settle() (DynamoDB reads a global secondary index, eventually
        consistent): what it misses now, a later call returns.
        """

    @abstractmethod
    def settle(self, run_id: str) -> None:
        """The retry of this run exists: stop returning it from pending(); keep the record.

        Settling a run that was never recorded changes nothing: no record is made for it.
        pending() may go on returning a settled run for a moment (an eventually consistent
        index); callers make acting on it twice harmless (the spot sensor's run keys).
        """


class InputIndex(ABC):
    """Which products use which uploaded templates and photos (with the sha256 each product was
    last requested with), and the sha256 of each input whose change was last acted on: what
    lets a changed photo re-render exactly the products that show it.

    Entries do not expire: a product's inputs are replaced whenever its spec is requested.
    """

    @abstractmethod
    def record(self, product_id: str, inputs: Mapping[str, str]) -> None:
        """The inputs `product_id` uses now, each with the sha256 it is requested with ("" for
        an input not uploaded yet), replacing those recorded before."""

    @abstractmethod
    def inputs_of(self, product_id: str) -> dict[str, str]:
        """The inputs recorded for `product_id`, each with the sha256 it was recorded with."""

    @abstractmethod
    def users(self, input_key: str, after: str = "", limit: int = 1000) -> list[tuple[str, str]]:
        """Up to `limit` (product id, sha256 recorded) of the products using `input_key`, in
        id order, those after `after`."""

    @abstractmethod
    def seen(self, input_keys: Collection[str]) -> dict[str, str]:
        """What each key was last acted on as (absent: never): an input's sha256; for a spec,
        the spec sensor's mark (catalog/spec_marks.py); under `listed:<photo key>`, the
        photo's listing version and sha256 when last looked at (catalog/inputs.py)."""

    @abstractmethod
    def see(self, sha256s: Mapping[str, str]) -> None:
        """Record what each key has been acted on as (replacing what was recorded)."""

    @abstractmethod
    def unsee(self, input_keys: Collection[str]) -> None:
        """Forget what these keys were acted on as; keys never seen are skipped."""
