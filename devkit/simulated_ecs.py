"""ECS Fargate Spot, simulated: for `make scale`, which measures the real sensor, daemon and run
queue and cannot rent a thousand containers.

`RecordingRunLauncher` stands where dagster-aws's EcsRunLauncher stands: the daemon's run queue
hands it each run, and it records the run's products and marks the run finished. `simulate`
then plays the recorded runs on a fleet of Fargate Spot tasks in simulated time: each task pays
a cold start, renders its products one after another, and may be interrupted; an interrupted
run is retried as the spot sensor retries it (a new task that skips the finished products).
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.launcher import LaunchRunContext, RunLauncher
from dagster._serdes import ConfigurableClass, ConfigurableClassData


class RecordingRunLauncher(RunLauncher, ConfigurableClass):
    """Appends each launched run's tags as a JSON line to `path`; the run succeeds at once."""

    def __init__(self, path: str, inst_data: ConfigurableClassData | None = None):
        self.path = Path(path)
        self._inst_data = inst_data
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"path": dg.Field(str)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> RecordingRunLauncher:
        return cls(inst_data=inst_data, **config_value)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps({"run_id": run.run_id, "tags": dict(run.tags)}) + "\n")
        for event_type in (dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS):
            event = dg.DagsterEvent(event_type_value=event_type.value, job_name=run.job_name)
            self._instance.report_dagster_event(event, run_id=run.run_id)

    def terminate(self, run_id: str) -> bool:
        return False


@dataclass(frozen=True)
class FargatePrice:
    """What Fargate bills a Linux task of one architecture, per vCPU-hour and GB-hour (USD)."""

    vcpu_hour_usd: float
    gb_hour_usd: float


# us-east-1, Linux, read 2026-12-06 (docs/deploy.md, "Cost model", cites each figure). On
# demand, from the Fargate pricing page (https://aws.amazon.com/fargate/pricing/). The Spot
# price for x86_64 is the pricing page's current Spot table as this project first read it;
# Spot prices follow supply and demand and the page publishes no fixed ARM64 figure here, so
# ARM64 Spot is x86_64 Spot's discount off on demand applied to ARM64's on-demand price.
ON_DEMAND_PRICES = {
    "X86_64": FargatePrice(vcpu_hour_usd=0.04048, gb_hour_usd=0.004445),
    "ARM64": FargatePrice(vcpu_hour_usd=0.03238, gb_hour_usd=0.00356),
}
_X86_SPOT = FargatePrice(vcpu_hour_usd=0.01334053, gb_hour_usd=0.00146489)
SPOT_PRICES = {
    "X86_64": _X86_SPOT,
    "ARM64": FargatePrice(
        vcpu_hour_usd=ON_DEMAND_PRICES["ARM64"].vcpu_hour_usd
        * _X86_SPOT.vcpu_hour_usd
        / ON_DEMAND_PRICES["X86_64"].vcpu_hour_usd,
        gb_hour_usd=ON_DEMAND_PRICES["ARM64"].gb_hour_usd
        * _X86_SPOT.gb_hour_usd
        / ON_DEMAND_PRICES["X86_64"].gb_hour_usd,
    ),
}
# Graviton's render rate per vCPU against the x86_64 rate `make bench` measures: no arm64
# machine is here to time it. Assumed equal (the renderer's libraries, cairo, Pango, libvips
# and Pillow, ship aarch64 builds with their SIMD paths); docs/deploy.md gives the break-even.
GRAVITON_RENDER_RATE = 1.0


@dataclass(frozen=True)
class FargateSpot:
    """The fleet and prices the simulation assumes (docs/deploy.md, "Cost model")."""

    cold_start_s: tuple[float, float] = (60.0, 120.0)  # uniform: image pull, Python, imports
    # Interruptions per task-hour, as a Poisson process over a task's life.
    interruptions_per_task_hour: float = 0.05
    # MaxConcurrentRenderRuns raised for a bulk drop (the stack's default is 10); it changes
    # how long a drop takes, not what it bills.
    concurrency: int = 100
    # After the last product: the manifest step's tail, writing events, exiting.
    shutdown_s: float = 5.0
    vcpu: float = 1.0  # the stack's default task (RunCpu 1024, RunMemory 2048)
    memory_gb: float = 2.0
    # Fargate Spot, Linux, us-east-1 (per second, one-minute minimum per task).
    price: FargatePrice = SPOT_PRICES["X86_64"]


@dataclass(frozen=True)
class Simulation:
    tasks: int
    interruptions: int
    billed_task_s: float
    rendering_s: float
    makespan_s: float
    cost_usd: float

    @property
    def rendering_share(self) -> float:
        return self.rendering_s / self.billed_task_s if self.billed_task_s else 0.0


def simulate(runs: Sequence[Sequence[float]], fleet: FargateSpot, seed: int = 1) -> Simulation:
    """Plays `runs` (each the render seconds of its products, in order) on `fleet`."""
    rng = random.Random(seed)
    pending = [list(run) for run in runs if run]
    free_at = [0.0] * fleet.concurrency  # when each task slot is free (a heap)
    heapq.heapify(free_at)
    tasks = interruptions = 0
    billed = rendering = makespan = 0.0
    per_hour = fleet.interruptions_per_task_hour / 3600.0
    while pending:
        products = pending.pop(0)
        start = heapq.heappop(free_at)
        tasks += 1
        life = rng.expovariate(per_hour) if per_hour else float("inf")
        elapsed = rng.uniform(*fleet.cold_start_s)
        done = 0
        interrupted = False
        for seconds in products:
            if elapsed + seconds > life:
                interrupted = True
                break
            elapsed += seconds
            rendering += seconds
            done += 1
        if interrupted:
            interruptions += 1
            # Billed until the interruption; the product in progress starts over in the retry
            # (its finished outputs are checkpointed: this overstates the loss).
            elapsed = max(life, 0.0)
            pending.append(products[done:])
        else:
            elapsed += fleet.shutdown_s
        task_s = max(elapsed, 60.0)  # Fargate bills at least a minute
        billed += task_s
        end = start + elapsed
        makespan = max(makespan, end)
        heapq.heappush(free_at, end)
    hourly = fleet.vcpu * fleet.price.vcpu_hour_usd + fleet.memory_gb * fleet.price.gb_hour_usd
    return Simulation(tasks, interruptions, billed, rendering, makespan, billed / 3600 * hourly)
