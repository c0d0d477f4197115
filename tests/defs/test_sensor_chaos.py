"""Both sensors with the daemon dying at random points of their ticks.

Every call a sensor makes to its queue, object store or interruption ledger is a point where the
daemon may die: a tick that dies there leaves whatever it already did in the stores, and the
daemon applies nothing of its result (no runs, no partitions, no cursor). Over many such ticks,
seeded, no spec and no interruption may be lost, and none acted on twice.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Any

import dagster as dg
import pytest

from renderfarm_dagster.defs import spec_sensor, tags
from renderfarm_dagster.defs.spec_sensor import spec_inbox_sensor
from renderfarm_dagster.defs.spot_sensor import spot_interruption_sensor
from renderfarm_dagster.deployment.local import (
    LocalClusterResource,
    LocalMessagingResource,
    LocalStorageResource,
)
from tests.conftest import spec_bytes
from tests.daemon import SensorDriver
from tests.defs.test_spot_sensor import STOPPED, TASK_ARN, WARNING, event, interrupted_run

SEEDS = [1, 2, 3, 4, 5]
TICKS = 40


class DaemonDied(BaseException):
    """The daemon process ended mid-tick (a BaseException, as SIGKILL would not be caught)."""


class Countdown:
    """Dies at the n-th store call of a tick, when armed; counts the calls of each tick."""

    remaining: int | None = None
    steps = 0

    def step(self) -> None:
        self.steps += 1
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.remaining = None
                raise DaemonDied


CRASH = Countdown()


class Crashing:
    """A store whose every method call may be where the daemon dies."""

    def __init__(self, inner: Any):
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            CRASH.step()
            result = attribute(*args, **kwargs)
            CRASH.step()  # and just after it returned
            return result

        return call


class CrashingStorage(LocalStorageResource):
    def objects(self):
        return Crashing(super().objects())

    def interruptions(self):
        return Crashing(super().interruptions())

    def inputs(self):
        return Crashing(super().inputs())


class CrashingMessaging(LocalMessagingResource):
    def spec_queue(self):
        return Crashing(super().spec_queue())

    def spot_queue(self):
        return Crashing(super().spot_queue())


def ticks_with_random_deaths(driver: SensorDriver, rng: random.Random) -> int:
    """TICKS ticks, most of them dying at a random store call or after the sensor returned;
    how many died."""
    died, steps_of_last_tick = 0, 12
    for _ in range(TICKS):
        roll = rng.random()
        # Anywhere in the tick: the last whole tick tells how many points a tick has.
        CRASH.remaining = rng.randint(1, steps_of_last_tick) if roll < 0.5 else None
        CRASH.steps = 0
        try:
            result = driver.evaluate()
        except DaemonDied:
            died += 1  # nothing of this tick is applied
            continue
        finally:
            CRASH.remaining = None
        if roll > 0.8:
            died += 1  # the sensor returned; the daemon died before storing its result
            continue
        driver.apply(result)
        steps_of_last_tick = max(CRASH.steps, 2)
    return died


@pytest.fixture
def resources(data_dir):
    # Visibility timeout 0: a message the dead tick received is visible again at once.
    return {
        "storage": CrashingStorage(data_dir=str(data_dir)),
        "messaging": CrashingMessaging(data_dir=str(data_dir), visibility_timeout_s=0),
        "cluster": LocalClusterResource(),
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_spec_sensor_loses_no_spec_and_requests_none_twice(
    seed, instance, resources, spec_doc, monkeypatch
):
    rng = random.Random(seed)
    objects = resources["storage"].objects()
    queue = LocalMessagingResource(
        data_dir=resources["messaging"].data_dir, visibility_timeout_s=0
    ).spec_queue()
    valid = [f"chaos-{index:02d}" for index in range(12)]
    for product_id in valid:
        doc = {**spec_doc, "product_id": product_id}
        objects.put(f"specs/{product_id}.json", spec_bytes(doc), "application/json")
    invalid = [f"broken-{index}" for index in range(4)]
    for name in invalid:
        objects.put(f"specs/{name}.json", b'{"spec_version": 1}', "application/json")
    for key in rng.sample([f"specs/{n}.json" for n in valid + invalid], 8):
        record = {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": key}}}
        queue.send(json.dumps({"Records": [record]}))
    driver = SensorDriver(spec_inbox_sensor, instance, resources)
    assert ticks_with_random_deaths(driver, rng) >= 5
    # Then, once the marks of dead ticks are out of flight, a clean sweep from the start.
    now = spec_sensor.clock()
    monkeypatch.setattr(spec_sensor, "clock", lambda: now + 600)
    driver.cursor = None
    for _ in range(3):
        driver.tick()
    assert driver.launched_partitions() == valid
    listed = [summary.key for summary in objects.list("")]
    assert [key for key in listed if key.startswith("specs/")] == [
        f"specs/{product_id}.json" for product_id in valid
    ]
    assert sorted(key for key in listed if key.startswith("rejected/")) == sorted(
        f"rejected/{name}.json{suffix}" for name in invalid for suffix in ("", ".error.json")
    )
    assert queue.receive(10) == [] and queue.dead_letters() == []


@pytest.mark.parametrize("seed", SEEDS)
def test_changed_photos_request_each_user_once_whatever_ticks_die(
    seed, instance, resources, monkeypatch
):
    from tests.defs.test_input_changes import LOOKBOOK, SHOE_PHOTO, lookbook_spec

    # Small per-tick budgets, so that changes span ticks and deaths land mid-fan-out.
    monkeypatch.setattr(
        spec_sensor, "BUDGET", replace(spec_sensor.BUDGET, input_users=3, sweep=4, input_sweep=4)
    )
    rng = random.Random(seed)
    objects = resources["storage"].objects()
    objects.put("templates/lookbook.svg", LOOKBOOK, "image/svg+xml")
    photos = [f"assets/p{index}.png" for index in range(3)]
    for photo in photos:
        objects.put(photo, SHOE_PHOTO, "image/png")
    users = {photo: [] for photo in photos}
    for index in range(9):
        photo = photos[index % 3]
        users[photo].append(f"user-{index}")
        objects.put(f"specs/user-{index}.json", lookbook_spec(f"user-{index}", photo), "x")
    driver = SensorDriver(spec_inbox_sensor, instance, resources)
    for _ in range(4):
        driver.tick()
    assert driver.launched_partitions() == sorted(f"user-{index}" for index in range(9))
    changed = rng.sample(photos, 2)
    for photo in changed:
        objects.put(photo, SHOE_PHOTO + photo.encode(), "image/png")
    assert ticks_with_random_deaths(driver, rng) >= 5
    for _ in range(4):
        driver.tick()
    rerendered = sorted(
        product
        for photo in changed
        for product in driver.launched_partitions(**{tags.CHANGED_INPUT: photo})
    )
    assert rerendered == sorted(product for photo in changed for product in users[photo])


@pytest.mark.parametrize("seed", SEEDS)
def test_spot_sensor_loses_no_interruption_and_retries_none_twice(seed, instance, resources):
    rng = random.Random(seed)
    queue = LocalMessagingResource(
        data_dir=resources["messaging"].data_dir, visibility_timeout_s=0
    ).spot_queue()
    interrupted = []
    for index in range(10):
        task_arn = TASK_ARN.replace("0b69d5c0", f"{index:08x}")
        interrupted.append(interrupted_run(instance, task_arn=task_arn).run_id)
        for document in rng.sample([WARNING, STOPPED, WARNING], 3):  # duplicates, any order
            queue.send(event(document, taskArn=task_arn))
    driver = SensorDriver(spot_interruption_sensor, instance, resources)
    assert ticks_with_random_deaths(driver, rng) >= 5
    for _ in range(3):
        driver.tick()
    retried = [run.tags[tags.RETRY_OF] for run in driver.launched]
    assert sorted(retried) == sorted(interrupted)
    assert queue.receive(10) == [] and queue.dead_letters() == []
    assert all(run.status == dg.DagsterRunStatus.NOT_STARTED for run in driver.launched)
