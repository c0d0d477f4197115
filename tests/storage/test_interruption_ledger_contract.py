"""The contract every InterruptionLedger implementation keeps."""

from renderfarm_dagster.storage import Interruption


def interruption(run_id="run-1", recorded_at=1000.0, event_id="event-1"):
    return Interruption(
        run_id=run_id,
        task_arn=f"arn:aws:ecs:us-east-1:111122223333:task/render/{run_id}",
        event_id=event_id,
        recorded_at=recorded_at,
    )


def test_an_interruption_is_recorded_once(interruption_ledger):
    assert interruption_ledger.record(interruption()) is True
    # The same run reported again (a duplicate, or the STOPPED event after the warning).
    assert interruption_ledger.record(interruption(event_id="event-2")) is False
    assert interruption_ledger.pending(10) == [interruption()]


def test_pending_is_oldest_first_and_bounded(interruption_ledger):
    for index, at in enumerate([30.0, 10.0, 20.0]):
        interruption_ledger.record(interruption(f"run-{index}", recorded_at=at))
    assert [i.run_id for i in interruption_ledger.pending(10)] == ["run-1", "run-2", "run-0"]
    assert [i.run_id for i in interruption_ledger.pending(2)] == ["run-1", "run-2"]


def test_settled_interruptions_leave_pending_but_still_count_as_recorded(interruption_ledger):
    interruption_ledger.record(interruption("run-1"))
    interruption_ledger.record(interruption("run-2", recorded_at=2000.0))
    interruption_ledger.settle("run-1")
    assert [i.run_id for i in interruption_ledger.pending(10)] == ["run-2"]
    # A late duplicate of a settled interruption must not bring it back.
    assert interruption_ledger.record(interruption("run-1")) is False
    assert [i.run_id for i in interruption_ledger.pending(10)] == ["run-2"]
    interruption_ledger.settle("run-1")  # settling twice is harmless
