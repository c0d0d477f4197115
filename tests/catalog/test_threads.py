import threading
import time

import pytest

from renderfarm_dagster.catalog.threads import STORAGE_THREADS, in_order


def test_results_come_in_the_order_of_the_items_whatever_finishes_first():
    def slow_for_small(number):
        time.sleep(0.001 * (20 - number))
        return number * 10

    assert list(in_order(slow_for_small, range(20), "test")) == [n * 10 for n in range(20)]


def test_work_runs_several_items_at_once():
    running, most = 0, 0
    lock = threading.Lock()

    def track(_):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    list(in_order(track, range(3 * STORAGE_THREADS), "test"))
    assert most > 1


def test_a_failure_is_raised_at_its_item_and_work_not_started_is_cancelled():
    started = []

    def fail_on_three(number):
        started.append(number)
        if number == 3:
            raise ValueError("three")
        if number > 3:
            # Held long enough for the failure to be seen first, on a loaded machine too
            # (a 10 ms sleep let 35 items finish there): the threads cannot take more.
            time.sleep(0.5)
        return number

    results = in_order(fail_on_three, range(10 * STORAGE_THREADS), "test")
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="three"):
        next(results)
    # The first batch of threads, and the few freed by items 0 to 3; the rest never ran.
    assert len(started) <= STORAGE_THREADS + 4
