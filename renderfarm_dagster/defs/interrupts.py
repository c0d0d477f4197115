"""Remembering a SIGTERM that Dagster's own handler could not deliver.

Inside a step, Dagster's SIGINT/SIGTERM handler raises DagsterExecutionInterruptedError
wherever the main thread happens to be. When that is a finaliser (cairocffi frees every cairo
surface and context through a Python callback run by the garbage collector), Python prints
"Exception ignored in ..." and drops the exception: the run carries on as if no signal had
come, and on Fargate Spot the task is killed two minutes later with nothing saved since. The
worker image test caught exactly that. This latch records the signal before Dagster's handler
runs, so the render loop can raise it again at the next variant boundary.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class InterruptLatch:
    def __init__(self) -> None:
        self.signalled: int | None = None

    def raise_if_signalled(self) -> None:
        """Raise Dagster's interruption if a stop signal came, even one whose raise was lost."""
        if self.signalled is not None:
            raise dg.DagsterExecutionInterruptedError(
                f"stopped by signal {signal.Signals(self.signalled).name}"
            )


@contextmanager
def latched_interrupts() -> Iterator[InterruptLatch]:
    """Wrap the current SIGINT/SIGTERM handlers (Dagster's, inside a step) with a latch."""
    latch = InterruptLatch()
    if threading.current_thread() is not threading.main_thread():
        # Signal handlers can only be set on the main thread (an in-process test executor).
        yield latch
        return
    # Only Python handlers are wrapped: a default or ignored signal keeps its meaning.
    originals = {
        signum: handler for signum in STOP_SIGNALS if callable(handler := signal.getsignal(signum))
    }

    def latch_then_delegate(signum, frame):
        latch.signalled = signum
        originals[signum](signum, frame)

    for signum in originals:
        signal.signal(signum, latch_then_delegate)
    try:
        yield latch
    finally:
        for signum, original in originals.items():
            signal.signal(signum, original)
