"""A stop signal whose exception Python dropped still stops the render at the next variant."""

import gc
import signal
import sys

import dagster as dg
import pytest

from renderfarm_dagster.defs.interrupts import InterruptLatch, latched_interrupts


class Finalised:
    """Runs the SIGTERM handler from a finaliser, as the garbage collector does when a signal
    lands while cairocffi frees a surface: Python reports and drops what the handler raises."""

    def __del__(self):
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)


def raising_handler(signum, frame):
    raise dg.DagsterExecutionInterruptedError()


@pytest.fixture
def dagster_handlers():
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in before:
        signal.signal(signum, raising_handler)
    yield
    for signum, handler in before.items():
        signal.signal(signum, handler)


def test_a_signal_dropped_inside_a_finaliser_is_raised_at_the_next_check(
    dagster_handlers, monkeypatch
):
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)
    with latched_interrupts() as latch:
        latch.raise_if_signalled()  # nothing yet
        Finalised()
        gc.collect()
        assert [type(each.exc_value) for each in dropped] == [dg.DagsterExecutionInterruptedError]
        with pytest.raises(dg.DagsterExecutionInterruptedError, match="SIGTERM"):
            latch.raise_if_signalled()


def test_the_signal_still_reaches_dagsters_handler_at_once(dagster_handlers):
    with latched_interrupts(), pytest.raises(dg.DagsterExecutionInterruptedError):
        signal.raise_signal(signal.SIGTERM)


def test_the_previous_handlers_are_back_afterwards(dagster_handlers):
    with latched_interrupts():
        assert signal.getsignal(signal.SIGTERM) is not raising_handler
    assert signal.getsignal(signal.SIGTERM) is raising_handler
    assert signal.getsignal(signal.SIGINT) is raising_handler


def test_the_latch_wraps_each_resumption_of_a_steps_events(dagster_handlers, monkeypatch):
    """Dagster puts its own handler back at every event a step yields; the latch must be
    there again whenever the step's code runs, and gone while Dagster's runs."""
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: None)
    latch = InterruptLatch()
    while_computing = []

    def events():
        for index in range(3):
            while_computing.append(signal.getsignal(signal.SIGTERM))
            if index == 1:
                Finalised()  # a signal whose raise Python drops, mid-computation
                gc.collect()
            yield index

    stream = latch.around(events())
    assert next(stream) == 0
    assert signal.getsignal(signal.SIGTERM) is raising_handler  # Dagster's, between events
    assert next(stream) == 1
    assert all(handler is not raising_handler for handler in while_computing)
    # The dropped raise was latched: the step sees it at its next check.
    with pytest.raises(dg.DagsterExecutionInterruptedError, match="SIGTERM"):
        latch.raise_if_signalled()
    stream.close()
    assert signal.getsignal(signal.SIGTERM) is raising_handler
