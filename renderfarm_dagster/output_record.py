"""One output of one variant, one record from render to manifest.

The render engine makes it (render/variant.py's RenderedOutput is the record with its bytes),
storing it adds where it is and the stored bytes' identity (storage's OutputCheckpoint is the
record with its key, sha256, size, run and attempt), and the manifest lists the checkpoint
(catalog/manifest.py's ManifestOutput.of). A field added here reaches all three.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class OutputRecord:
    variant_id: str
    output_name: str
    format: str
    width: int
    height: int
    # What the output's pixels were drawn from (render/fingerprint.py).
    fingerprint: str

    def record_fields(self) -> dict[str, Any]:
        """This record's own fields, for the record a later stage extends it into."""
        return {field.name: getattr(self, field.name) for field in fields(OutputRecord)}
