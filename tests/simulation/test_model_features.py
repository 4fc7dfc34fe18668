"""Unlimited servers, availability, batch sizes, visit shares, replayed arrivals and WIP, each
against a value worked by hand or a queueing formula."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from obeya.core.simulation import (
    Distribution,
    Scenario,
    ScenarioError,
    SimStep,
    load_scenario,
    scenario_toml,
    simulate,
)

pytestmark = pytest.mark.slow  # many replications (`make test`, not `make check`)


def within(value: float, expected: float, ci: tuple[float, float] | None, rel: float) -> bool:
    """Inside the simulation's 95 % CI, or within ``rel`` of the expected value."""
    return (ci is not None and ci[0] <= expected <= ci[1]) or abs(value - expected) <= rel * abs(
        expected
    )


def line(*steps: SimStep, rate: float = 4.0, days: float = 1500.0) -> Scenario:
    return Scenario(
        arrival_rate_per_day=rate, days=days, warmup_days=100, replications=4, seed=3, step=steps
    )


def test_unlimited_servers_are_a_pure_delay() -> None:
    # M/M/∞: nobody queues; time in system = service time (mean 0.5); WIP = λ × 0.5 = 2.
    result = simulate(line(SimStep("Wait", Distribution("exponential", 0.5), servers=0)))
    step = result.steps[0]
    assert step.utilisation is None and step.mean_queue_days == 0.0
    assert within(result.lead_time_mean, 0.5, result.lead_time_mean_ci95, 0.05)
    assert within(step.mean_wip, 2.0, step.mean_wip_ci95, 0.05)
    assert step.mean_busy == pytest.approx(step.mean_wip, rel=1e-9)
    assert result.constraint == "Wait" and "no step has limited servers" in (
        result.constraint_reason
    )


def test_a_step_far_from_its_capacity_is_the_highest_load_not_a_constraint() -> None:
    # M/M/1 at λ = 1, work 0.1 day: ρ = 0.1, an item waits ρ/(μ − λ) = 0.011 day; the other
    # step is unlimited. The busiest step limits nothing; at λ = 9 (ρ = 0.9) it does.
    steps = (
        SimStep("Review", Distribution("exponential", 0.1)),
        SimStep("Release", Distribution("exponential", 0.5), servers=0),
    )
    light = simulate(line(*steps, rate=1.0, days=600))
    assert light.constraint == "Review" and not light.constraint_binding
    assert "none limits the flow" in light.constraint_reason
    assert light.to_dict()["constraint_binding"] is False
    busy = simulate(line(*steps, rate=9.0, days=600))
    assert busy.constraint == "Review" and busy.constraint_binding
    util = busy.steps[0].utilisation
    assert util is not None and within(util, 0.9, busy.steps[0].utilisation_ci95, 0.03)
    assert busy.constraint_reason == f"highest utilisation ({util * 100:.0f} %)"


def test_availability_stretches_the_work() -> None:
    # Work 0.1 day at 50 % availability is 0.2 day: M/M/1 at λ = 4, μ = 5 → W = 1, ρ = 0.8.
    step = SimStep("Build", Distribution("exponential", 0.1), availability=0.5)
    result = simulate(line(step, days=3000))
    assert within(result.lead_time_mean, 1.0, result.lead_time_mean_ci95, 0.1)
    util = result.steps[0].utilisation
    assert util is not None and within(util, 0.8, result.steps[0].utilisation_ci95, 0.03)


def test_batches_wait_to_fill_then_move_together() -> None:
    # Poisson arrivals λ = 4, batches of b = 4, 0.1 day a item, unlimited servers (no queue for
    # a server): the j-th item of a batch waits (b − j) gaps of mean 1/λ, on average
    # (b − 1) / (2λ) = 0.375 day, then the batch takes b × 0.1 = 0.4 day. Lead time 0.775.
    step = SimStep("Deploy", Distribution("constant", 0.1), servers=0, batch_size=4)
    result = simulate(line(step))
    assert within(result.lead_time_mean, 0.775, result.lead_time_mean_ci95, 0.03)
    # Batching does not change the work: with one server utilisation is λ × 0.1 = 0.4.
    one = simulate(line(replace(step, servers=1)))
    assert one.steps[0].utilisation == pytest.approx(0.4, rel=0.03)
    assert one.lead_time_mean > result.lead_time_mean  # and now batches queue for the server


def test_visit_share_skips_the_step() -> None:
    # Half the items spend exactly 1 day in Review, the others skip it: mean lead time 0.5 day.
    review = SimStep("Review", Distribution("constant", 1.0), servers=0, visit_share=0.5)
    result = simulate(line(review))
    assert within(result.lead_time_mean, 0.5, result.lead_time_mean_ci95, 0.03)
    assert result.lead_time_p85 == pytest.approx(1.0)
    assert within(result.steps[0].mean_wip, 2.0, result.steps[0].mean_wip_ci95, 0.05)


def test_replayed_arrivals_are_deterministic() -> None:
    # D/D/1: an arrival every 0.25 day, 0.2 day of work: nobody waits, utilisation exactly 0.8.
    times = tuple(i * 0.25 for i in range(4000))
    sc = Scenario(
        arrival_rate_per_day=None,
        arrival_times_days=times,
        days=1000,
        warmup_days=100,
        replications=2,
        step=(SimStep("Build", Distribution("constant", 0.2)),),
    )
    result = simulate(sc)
    assert result.lead_time_mean == pytest.approx(0.2)
    assert result.throughput_per_day == pytest.approx(4.0, abs=1 / 900)
    assert result.steps[0].utilisation == pytest.approx(0.8, abs=1e-3)
    assert result.wip == pytest.approx(0.8, abs=1e-3)  # Little: 4/day × 0.2 day
    assert sc.mean_arrival_rate == pytest.approx(4.0)
    assert result.to_dict()["arrivals"] == "replayed"


def test_wip_obeys_littles_law() -> None:
    # WIP is measured as item-time ÷ window, independently of lead times and throughput.
    two = line(
        SimStep("Build", Distribution("exponential", 0.15)),
        SimStep("Test", Distribution("exponential", 0.1), servers=2, complete_accurate=0.8),
    )
    result = simulate(two)
    assert result.wip == pytest.approx(result.throughput_per_day * result.lead_time_mean, rel=0.05)
    assert sum(s.mean_wip for s in result.steps) == pytest.approx(result.wip, rel=1e-6)


def test_the_file_form_holds_every_field(tmp_path: Path) -> None:
    sc = Scenario(
        name='Line "B"',
        arrival_rate_per_day=None,
        arrival_times_days=(0.0, 0.5, 1.25),
        days=10,
        warmup_days=0,
        replications=1,
        seed=9,
        step=(
            SimStep("A", Distribution("lognormal", 0.3, sigma=0.8), 2, 0.9, 4, 2, 0.75, 0.5),
            SimStep("B", Distribution("empirical", values=(0.1, 0.2, 0.0)), servers=0),
        ),
    )
    path = tmp_path / "s.toml"
    path.write_text(scenario_toml(sc), encoding="utf-8")
    assert load_scenario(path) == sc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batch_size": 0}, "batch_size is 0; give a whole number ≥ 1"),
        ({"availability": 1.5}, "availability is 1.5; give a share in (0, 1]"),
        ({"availability": 0.0}, "availability is 0.0; give a share in (0, 1]"),
        ({"visit_share": 0.0}, "visit_share is 0.0; give a share in (0, 1]"),
        ({"wip_limit": 2, "batch_size": 3}, "wip_limit is 2; it must hold a whole batch"),
    ],
)
def test_bad_step_fields_are_named(change: dict[str, float], message: str) -> None:
    step = SimStep("A", Distribution("exponential", 0.2))
    with pytest.raises(ScenarioError) as caught:
        line(replace(step, **change))
    assert str(caught.value).startswith(f"scenario: step[0] ('A'): {message}")
    assert caught.value.field == message.partition(" ")[0]


def test_bad_arrivals_are_named() -> None:
    step = (SimStep("A", Distribution("exponential", 0.2)),)
    with pytest.raises(ScenarioError, match="not both") as caught:
        Scenario(arrival_rate_per_day=1.0, arrival_times_days=(1.0,), days=5, step=step)
    assert caught.value.field == "arrival_rate_per_day"
    with pytest.raises(ScenarioError, match=r"increasing order: \[1\] is 1.0, before \[0\]"):
        Scenario(arrival_rate_per_day=None, arrival_times_days=(2.0, 1.0), days=5, step=step)
    with pytest.raises(ScenarioError, match="scenario: arrival_rate_per_day is missing; give"):
        Scenario(arrival_rate_per_day=None, days=5, step=step)


def test_a_step_offered_more_than_its_capacity_is_flagged() -> None:
    # 4 a day × 0.2 day ÷ 0.9 %C&A on one server: 89 % — fine. At 6 a day: 133 % — flagged;
    # two servers bring it back to 67 %.
    step = SimStep("Build", Distribution("exponential", 0.2), complete_accurate=0.9)
    assert simulate(line(step, days=300)).warnings == ()
    busy = simulate(line(step, rate=6.0, days=300))
    assert len(busy.warnings) == 1 and busy.warnings[0].startswith("Build: offered 133 % ")
    assert busy.to_dict()["warnings"] == list(busy.warnings)
    assert simulate(line(replace(step, servers=2), rate=6.0, days=300)).warnings == ()
