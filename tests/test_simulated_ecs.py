"""The Fargate Spot simulation `make scale` bills its runs with."""

import pytest

from devkit.simulated_ecs import FargateSpot, simulate


def test_a_run_bills_its_cold_start_rendering_and_shutdown():
    fleet = FargateSpot(cold_start_s=(90.0, 90.0), interruptions_per_task_hour=0, concurrency=2)
    result = simulate([[1.0] * 900, [1.0] * 900], fleet)
    assert result.tasks == 2 and result.interruptions == 0
    assert result.rendering_s == 1800
    assert result.billed_task_s == 2 * (90 + 900 + 5)
    assert result.makespan_s == 995  # side by side on two tasks
    hourly = fleet.vcpu * fleet.vcpu_hour_usd + fleet.memory_gb * fleet.gb_hour_usd
    assert result.cost_usd == pytest.approx(result.billed_task_s / 3600 * hourly)


def test_tasks_bill_at_least_a_minute_and_wait_for_a_free_slot():
    fleet = FargateSpot(cold_start_s=(10.0, 10.0), interruptions_per_task_hour=0, concurrency=1)
    result = simulate([[1.0], [1.0]], fleet)
    assert result.billed_task_s == 120
    assert result.makespan_s == 2 * 16


def test_interrupted_runs_are_retried_until_every_product_is_rendered_once():
    fleet = FargateSpot(interruptions_per_task_hour=20.0, concurrency=4)
    result = simulate([[30.0] * 20] * 5, fleet, seed=3)
    assert result.interruptions > 0
    assert result.tasks == 5 + result.interruptions
    assert result.rendering_s == pytest.approx(5 * 20 * 30.0)
    assert result.rendering_share < 1
