"""What the spec sensor recorded about each spec it requested, in the input index beside the
inputs' sha256s: which bytes were requested, the listing version they had, and the run.

A mark is written before the run request leaves the sensor (Dagster stores the request with the
tick afterwards), so a mark alone does not prove the request: until the run named in it exists
the mark is "in flight". An in-flight mark younger than IN_FLIGHT_S means a tick still being
applied (or overlapping); older, its tick died before Dagster stored the request, and the spec
is requested again. Once the run is seen, the mark is rewritten as settled (no run named).

A valid spec whose photos, template or brand fonts are not all stored yet is not requested: its
mark says which keys it waits for and since when. The arrival of those inputs has the spec read
again (catalog/inputs.py's index says who waits for what); a spec that waited longer than the
longest wait is requested anyway, and its run reports what is still missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# Longer than Dagster's sensor timeout (60 s) plus the time to store a tick's run requests.
IN_FLIGHT_S = 180.0


@dataclass(frozen=True)
class SpecMark:
    sha256: str  # the spec's bytes when requested
    version: str  # its listing version then ("" when it was not known)
    megapixels: float  # what its render writes: sizes the runs of later re-renders
    run_key: str = ""  # the requested run, until it is seen to exist
    marked_at: float = 0.0
    # A spec not requested because these inputs are not stored yet, and since when.
    waiting_for: tuple[str, ...] = ()
    waiting_since: float = 0.0

    @property
    def settled(self) -> bool:
        return not self.run_key

    @property
    def waiting(self) -> bool:
        return bool(self.waiting_for)

    def serialize(self) -> str:
        fields: list = [self.sha256, self.version, round(self.megapixels, 3)]
        if not self.settled or self.waiting:
            fields += [self.run_key, round(self.marked_at, 3)]
        if self.waiting:
            fields += [list(self.waiting_for), round(self.waiting_since, 3)]
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def parse(cls, raw: str | None) -> SpecMark | None:
        """The mark, or None for no mark or one this version cannot read (read it again)."""
        if not raw:
            return None
        try:
            fields = json.loads(raw)
            if not isinstance(fields, list) or len(fields) not in (3, 5, 7):
                return None
            if len(fields) == 7:
                fields[5] = tuple(fields[5])
            return cls(*fields)
        except (ValueError, TypeError):
            return None

    @classmethod
    def waiting_on(
        cls, sha256: str, version: str, megapixels: float, keys: list[str], since: float
    ) -> SpecMark:
        """The mark of a spec that waits for `keys` (since `since`)."""
        return cls(sha256, version, megapixels, waiting_for=tuple(keys), waiting_since=since)

    def in_flight(self, now: float) -> bool:
        return not self.settled and now - self.marked_at < IN_FLIGHT_S

    def settle(self, version: str | None = None) -> SpecMark:
        """The mark once its run is known to exist (with the listing version now seen); a
        waiting mark keeps what it waits for."""
        return SpecMark(
            self.sha256,
            self.version if version is None else version,
            self.megapixels,
            waiting_for=self.waiting_for,
            waiting_since=self.waiting_since,
        )
