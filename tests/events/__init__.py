"""Real AWS event payloads (from ../shared/aws-events), for the sensor and parser tests."""

import json
from pathlib import Path

EVENTS = Path(__file__).resolve().parent


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())
