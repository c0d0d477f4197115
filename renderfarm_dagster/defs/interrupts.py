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
from typing import TypeVar

import dagster as dg

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Event = TypeVar("Event")


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
    def installed(self) -> Iterator[InterruptLatch]:
        """Wrap the current SIGINT/SIGTERM handlers (Dagster's, inside a step) with this latch."""
        if threading.current_thread() is not threading.main_thread():
            # Signal handlers can only be set on the main thread (an in-process test executor).
            yield self
            return
        # Only Python handlers are wrapped: a default or ignored signal keeps its meaning.
        originals = {
            signum: handler
            for signum in STOP_SIGNALS
            if callable(handler := signal.getsignal(signum))
        }

        def latch_then_delegate(signum, frame):
            self.signalled = signum
            originals[signum](signum, frame)

        for signum in originals:
            signal.signal(signum, latch_then_delegate)
        try:
            yield self
        finally:
            for signum, original in originals.items():
                signal.signal(signum, original)

    def around(self, events: Iterator[Event]) -> Iterator[Event]:
        """`events` with this latch installed whenever they are being computed.

        Dagster installs its raising handler each time it resumes a step's generator and puts
        its own back at each event the step yields, which would drop a latch installed once.
        """
        try:
            while True:
                with self.installed():
                    try:
                        event = next(events)
                    except StopIteration:
                        return
                yield event
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()


@contextmanager
def latched_interrupts() -> Iterator[InterruptLatch]:
    """A latch on the current SIGINT/SIGTERM handlers, for the duration of the block."""
    with InterruptLatch().installed() as latch:
        yield latch
