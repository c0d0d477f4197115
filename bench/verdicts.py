"""The end of a benchmark: its figures written, each missed target said, the exit status."""

from __future__ import annotations

import json
from pathlib import Path


def judged(figures: dict, missed: list[str], path: Path) -> int:
    """Write `figures` (with the targets `missed`) to `path`; 1 when a target was missed."""
    figures["missed"] = missed
    path.write_text(json.dumps(figures, indent=1) + "\n")
    for target in missed:
        print(f"MISSED: {target}")
    return 1 if missed else 0
