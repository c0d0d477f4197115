"""The contract every InterruptionLedger implementation keeps.

`pending()` may lag a write: on DynamoDB it reads a global secondary index, which is only
eventually consistent. The spot sensor relies on a later tick catching up, so these tests poll
`pending()` with a deadline rather than reading it once right after a write.
"""

from renderfarm_dagster.storage import Interruption
from tests.polling import eventually


def interruption(run_id="run-1", recorded_at=1000.0, event_id="event-1"):
    return Interruption(
        run_id=run_id,
        task_arn=f"arn:aws:ecs:us-east-1:111122223333:task/render/{run_id}",
        event_id=event_id,
        recorded_at=recorded_at,
    )


def pending_run_ids(ledger, expected, limit=10):
    """The pending run ids once they equal `expected` (or the last seen at the deadline)."""

    def read():
        return [i.run_id for i in ledger.pending(limit)]

    return eventually(read, lambda ids: ids == expected)


def test_an_interruption_is_recorded_once(interruption_ledger):
    assert interruption_ledger.record(interruption()) is True
    # The same run reported again (a duplicate, or the STOPPED event after the warning).
    assert interruption_ledger.record(interruption(event_id="event-2")) is False
    assert eventually(lambda: interruption_ledger.pending(10), bool) == [interruption()]


def test_pending_is_oldest_first_and_bounded(interruption_ledger):
    for index, at in enumerate([30.0, 10.0, 20.0]):
        interruption_ledger.record(interruption(f"run-{index}", recorded_at=at))
    assert pending_run_ids(interruption_ledger, ["run-1", "run-2", "run-0"]) == [
        "run-1",
        "run-2",
        "run-0",
    ]
    assert [i.run_id for i in interruption_ledger.pending(2)] == ["run-1", "run-2"]


def test_settled_interruptions_leave_pending_but_still_count_as_recorded(interruption_ledger):
    interruption_ledger.record(interruption("run-1"))
    interruption_ledger.record(interruption("run-2", recorded_at=2000.0))
    interruption_ledger.settle("run-1")
    assert pending_run_ids(interruption_ledger, ["run-2"]) == ["run-2"]
    # A late duplicate of a settled interruption must not bring it back.
    assert interruption_ledger.record(interruption("run-1")) is False
    interruption_ledger.settle("run-1")  # settling twice is harmless
    assert [i.run_id for i in interruption_ledger.pending(10)] == ["run-2"]


def test_settling_a_run_never_recorded_changes_nothing(interruption_ledger):
    # Nothing to settle: no record is made, so a later interruption of that run is recorded
    # and retried like any other.
    interruption_ledger.settle("run-1")
    assert interruption_ledger.record(interruption("run-1")) is True
    assert pending_run_ids(interruption_ledger, ["run-1"]) == ["run-1"]
    assert eventually(lambda: interruption_ledger.pending(10), bool) == [interruption("run-1")]
