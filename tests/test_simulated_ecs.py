"""The Fargate Spot simulation `make scale` bills its runs with."""

import dataclasses

import pytest

from devkit.simulated_ecs import ON_DEMAND_PRICES, SPOT_PRICES, FargateSpot, simulate


def test_a_run_bills_its_cold_start_rendering_and_shutdown():
    fleet = FargateSpot(cold_start_s=(90.0, 90.0), interruptions_per_task_hour=0, concurrency=2)
    result = simulate([[1.0] * 900, [1.0] * 900], fleet)
    assert result.tasks == 2 and result.interruptions == 0
    assert result.rendering_s == 1800
    assert result.billed_task_s == 2 * (90 + 900 + 5)
    assert result.makespan_s == 995  # side by side on two tasks
    hourly = fleet.vcpu * fleet.price.vcpu_hour_usd + fleet.memory_gb * fleet.price.gb_hour_usd
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


def test_bad_photos_cost_a_run_each_once_fixed_where_whole_batches_would_publish_nothing():
    from bench.scale import BAD_PHOTO_EVERY, bad_photo_costs

    fleet = FargateSpot(cold_start_s=(90.0, 90.0), interruptions_per_task_hour=0)
    runs = [[f"b{batch}-{index:03}" for index in range(400)] for batch in range(3)]
    batched = simulate([[1.0] * len(run) for run in runs], fleet)
    costs = bad_photo_costs(runs, 1.0, fleet, batched)
    assert costs["bad"] == 1200 // BAD_PHOTO_EVERY == 6
    assert costs["published_at_once"] == pytest.approx(1194 / 1200)
    assert costs["extra_runs"] == 6  # one run per fixed photo
    # Every batch holds a bad photo: failing whole, none would publish before the fixes.
    assert costs["whole_batches"]["published_at_once"] == 0
    assert costs["whole_batches"]["extra_runs"] == 3
    assert 0 < costs["rendering_share"] < batched.rendering_share


def test_the_recording_launcher_takes_each_run_the_daemon_launches(tmp_path):
    """make scale's stand-in for EcsRunLauncher, configured as bench/scale.py configures it:
    each launched run is recorded with its tags and finishes at once."""
    import json

    import dagster as dg
    from dagster._core.launcher import LaunchRunContext

    launched = tmp_path / "launched.jsonl"

    @dg.op
    def nothing():
        pass

    @dg.job
    def some_job():
        nothing()

    launcher = {
        "module": "devkit.simulated_ecs",
        "class": "RecordingRunLauncher",
        "config": {"path": str(launched)},
    }
    with dg.instance_for_test(overrides={"run_launcher": launcher}) as instance:
        run = instance.create_run_for_job(some_job, tags={"renderfarm/reason": "a test"})
        instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.SUCCESS
    (record,) = [json.loads(line) for line in launched.read_text().splitlines()]
    assert record == {"run_id": run.run_id, "tags": {"renderfarm/reason": "a test"}}


def test_graviton_spot_bills_the_same_runs_about_a_fifth_less():
    x86 = FargateSpot(cold_start_s=(90.0, 90.0), interruptions_per_task_hour=0)
    arm = dataclasses.replace(x86, price=SPOT_PRICES["ARM64"])
    runs = [[1.0] * 900] * 3
    ratio = simulate(runs, arm).cost_usd / simulate(runs, x86).cost_usd
    # ARM64's on-demand discount, carried to Spot: 20% on vCPU, 20% on memory.
    on_demand = {
        name: price.vcpu_hour_usd + 2 * price.gb_hour_usd
        for name, price in ON_DEMAND_PRICES.items()
    }
    assert ratio == pytest.approx(on_demand["ARM64"] / on_demand["X86_64"], rel=1e-3)
    assert 0.78 < ratio < 0.82
