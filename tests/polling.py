"""Waiting on eventually consistent services by polling with a deadline, never a tuned sleep.

SQS promises no sub-second redelivery after a visibility timeout, and a DynamoDB global
secondary index is read eventually consistent: a test that sleeps exactly long enough for one
emulator passes there and fails against another implementation (or AWS).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Generous: a test waits this long only when what it waits for never happens.
DEADLINE_S = 15.0
INTERVAL_S = 0.1


def eventually(read: Callable[[], T], until: Callable[[T], bool], deadline_s=DEADLINE_S) -> T:
    """Call `read` until `until` holds for its value or the deadline passes; the last value.

    The caller asserts on the value, so a miss shows what was seen last.
    """
    stop = time.monotonic() + deadline_s
    while True:
        value = read()
        if until(value) or time.monotonic() >= stop:
            return value
        time.sleep(INTERVAL_S)


def throughout(read: Callable[[], T], holds: Callable[[T], bool], window_s: float) -> T | None:
    """Call `read` for `window_s` seconds; the first value for which `holds` fails, else None.

    For what must not happen (a deleted message coming back): the window covers the latest
    moment it could happen, not the moment one emulator would do it.
    """
    stop = time.monotonic() + window_s
    while time.monotonic() < stop:
        value = read()
        if not holds(value):
            return value
        time.sleep(INTERVAL_S)
    return None
