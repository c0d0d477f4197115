"""What the spec sensor recorded about each spec it requested, in the input index beside the
inputs' sha256s: which bytes were requested, the listing version they had, and the run.

A mark is written before the run request leaves the sensor (Dagster stores the request with the
tick afterwards), so a mark alone does not prove the request: until the run named in it exists
the mark is "in flight". An in-flight mark younger than IN_FLIGHT_S means a tick still being
applied (or overlapping); older, its tick died before Dagster stored the request, and the spec
is requested again. Once the run is seen, the mark is rewritten as settled (no run named).
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

    @property
    def settled(self) -> bool:
        return not self.run_key

    def serialize(self) -> str:
        fields = [self.sha256, self.version, round(self.megapixels, 3)]
        if not self.settled:
            fields += [self.run_key, round(self.marked_at, 3)]
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def parse(cls, raw: str | None) -> SpecMark | None:
        """The mark, or None for no mark or one this version cannot read (read it again)."""
        if not raw:
            return None
        try:
            fields = json.loads(raw)
            return cls(*fields) if isinstance(fields, list) and len(fields) in (3, 5) else None
        except (ValueError, TypeError):
            return None

    def in_flight(self, now: float) -> bool:
        return not self.settled and now - self.marked_at < IN_FLIGHT_S

    def settle(self, version: str | None = None) -> SpecMark:
        """The mark once its run is known to exist (with the listing version now seen)."""
        return SpecMark(self.sha256, self.version if version is None else version, self.megapixels)
