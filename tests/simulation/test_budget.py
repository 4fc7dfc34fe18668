"""The work budget of a run: the estimate of its simulated events against a count by hand
and against the events a run really processes, a run that overruns its budget stops with an
error naming what drives it, a cancelled run stops soon, and a run with a budget gives the
very figures of a run without; a request's size (its scenarios together) by hand, and the
span and replications that fit it, exactly where the request is refused."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import TYPE_CHECKING, cast

import pytest

from obeya.core.simulation import Distribution, Scenario, ScenarioError, SimStep, simulate
from obeya.core.simulation.engine import (
    Budget,
    SimulationBudgetError,
    SimulationCancelled,
    estimate_work,
)
from obeya.core.simulation.scenario import MAX_DAYS
from obeya.core.simulation.whatif import parse_change, what_if
from obeya.workspace_simulation import (
    MAX_REPLICATIONS,
    Simulations,
    check_size,
    request_size,
    what_if_runs,
)

if TYPE_CHECKING:
    from obeya.workspace import Workspace

EXP = Distribution("exponential", mean=0.2)


def line(**steps: SimStep) -> Scenario:
    return Scenario(
        arrival_rate_per_day=4.0,
        days=1000,
        warmup_days=100,
        replications=2,
        step=tuple(steps.values()),
        seed=5,
    )


def test_estimate_by_hand() -> None:
    # 4 a day × 1000 days = 4000 arrivals per replication. Per item: 3 events (arrival,
    # start, end); Build, one server: request, work, release = 3 per pass, 1 ÷ 0.5 = 2
    # passes; Test, unlimited, half the items: 1 event per pass, plus a WIP token taken and
    # given back (2). 3 + 2 × 3 + 0.5 × (1 + 2) = 10.5 events per item.
    sc = line(
        build=SimStep("Build", Distribution("exponential", mean=0.1), complete_accurate=0.5),
        test=SimStep("Test", EXP, servers=0, visit_share=0.5, wip_limit=5),
    )
    estimate = estimate_work(sc)
    assert estimate.visits_per_item == 2.5
    assert estimate.events_per_item == 10.5
    assert estimate.events == 4000 * 10.5 * 2
    assert "days 1,000 × arrival_rate_per_day 4 × 10.5 events per item" in estimate.explain(
        sc.days, sc.arrival_rate_per_day
    )


@pytest.mark.parametrize(
    "steps",
    [
        {"a": SimStep("A", EXP)},
        {"a": SimStep("A", EXP, servers=0, complete_accurate=0.5)},
        {"a": SimStep("A", EXP, wip_limit=3), "b": SimStep("B", EXP, wip_limit=3)},
        {"a": SimStep("A", Distribution("exponential", mean=0.04), batch_size=4)},
    ],
)
def test_estimate_is_within_ten_percent_of_the_events_counted(steps: dict[str, SimStep]) -> None:
    sc = line(**steps)
    budget = Budget()
    simulate(sc, budget)
    assert budget.used == pytest.approx(estimate_work(sc).events, rel=0.10)


def test_a_budget_changes_no_figure() -> None:
    sc = line(a=SimStep("A", EXP, complete_accurate=0.8), b=SimStep("B", EXP, servers=2))
    assert simulate(sc, Budget(max_events=10**9)).to_dict() == simulate(sc).to_dict()


def test_a_run_over_its_budget_stops_naming_what_drives_it() -> None:
    sc = line(a=SimStep("A", EXP))  # some 24,000 events per replication
    budget = Budget(max_events=30_000)
    with pytest.raises(SimulationBudgetError) as caught:
        simulate(sc, budget)
    message = str(caught.value)
    assert message.startswith("scenario 'scenario', replication 1: stopped after 30,000")
    for field in ("days", "arrival_rate_per_day", "replications", "complete_accurate"):
        assert field in message
    assert 30_000 < budget.used <= 30_000 + 10_000  # stopped at the first check past it


def test_one_budget_covers_every_scenario_of_a_what_if() -> None:
    sc = line(a=SimStep("A", EXP))
    alone = Budget()
    simulate(sc, alone)
    both = Budget()
    what_if(sc, [("Two", [parse_change("A.servers=2")])], both)
    assert both.used > 1.5 * alone.used  # the baseline's events and the future's


def test_a_cancelled_run_stops_soon() -> None:
    # Rework at %C&A 1e-4 asks 10,000 passes per item: hours of work uncancelled.
    sc = line(a=SimStep("A", Distribution("constant", mean=1e-6), complete_accurate=1e-4))
    assert estimate_work(sc).events > 1e8
    flag = threading.Event()
    threading.Timer(0.3, flag.set).start()
    started = time.perf_counter()
    with pytest.raises(SimulationCancelled):
        simulate(sc, Budget(cancelled=flag))
    assert time.perf_counter() - started < 5.0  # the flag was set at 0.3 s


def test_a_cancel_check_may_be_a_callable() -> None:
    sc = line(a=SimStep("A", EXP))
    calls: list[int] = []
    with pytest.raises(SimulationCancelled, match="cancelled after 10,000 simulated events"):
        simulate(sc, Budget(cancelled=lambda: True, progress=calls.append))
    assert calls == []  # cancelled at the first check, before any progress was reported


def test_the_size_of_a_request_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request's size is its scenarios' estimates together, the very total the request is
    refused by. One step on one server: 3 + 3 = 6 events an item; 1000 days × 2
    replications: 4 a day is 48,000 events, a future at 8 a day 96,000; 144,000 in all,
    144 a simulated day."""
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "100000")
    sc = line(a=SimStep("A", EXP))
    runs = what_if_runs(sc, [("Busier", [parse_change("arrivals=+100%")])])
    size = request_size([scenario for _, scenario in runs])
    assert [e.events for e in size.estimates] == [48_000, 96_000]
    assert (size.total, size.limit, size.fits) == (144_000, 100_000, False)
    assert size.events(500, 3) == 500 * 144 / 2 * 3
    assert size.max_days() == 694  # 100,000 / 144 = 694.4
    assert size.max_replications() == 1  # 100,000 / 72,000 = 1.4
    assert size.max_replications(days=100) == 13  # 100,000 / 7,200 = 13.9

    # The request is refused exactly where the size says it does not fit.
    def check(days: float) -> None:
        shorter = dataclasses.replace(sc, days=days)
        spent = 0.0
        for at, scenario in what_if_runs(shorter, [("Busier", [parse_change("arrivals=+100%")])]):
            spent += check_size(scenario, at, spent=spent)

    check(694)  # 694 × 144 = 99,936
    with pytest.raises(ScenarioError, match="that is 100,080 in all"):  # 695 × 144
        check(695)


def test_the_size_of_replayed_arrivals_stops_growing_with_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """100 arrivals replayed half a day into each of 100 days, 6 events each: 50 days hold
    50 of them (300 events), 51 days 51 (306); a span past the last holds all 600."""
    replayed = Scenario(
        arrival_times_days=tuple(k + 0.5 for k in range(100)),
        days=100,
        replications=1,
        step=(SimStep("A", EXP),),
    )
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "300")
    size = request_size([replayed])
    assert size.total == estimate_work(replayed).events == 600
    assert (size.events(50), size.events(51), size.max_days()) == (300, 306, 50)
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "600")
    assert request_size([replayed]).max_days() == int(MAX_DAYS)


def test_a_size_is_not_taken_of_more_replications_than_a_request_runs() -> None:
    many = dataclasses.replace(line(a=SimStep("A", EXP)), replications=MAX_REPLICATIONS + 1)
    simulations = Simulations(cast("Workspace", None))
    with pytest.raises(ScenarioError, match=f"replications is {MAX_REPLICATIONS + 1}"):
        simulations.what_if_size(many, [("Two", [parse_change("A.servers=2")])])
