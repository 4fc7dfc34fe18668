"""Turn a value stream map into a simulation scenario, to test a future state before changing
the real stream.

A map's process time is hands-on hours; the simulation's clock runs in calendar days. A step
works ``people × availability × available hours per day`` hours a day, so one server (one
person) takes ``PT ÷ available hours per day`` days of work per item, stretched by the step's
availability in the simulation: the simulated utilisation then equals the map's
``demand × visit share × PT ÷ capacity``. People become servers (rounded, at least one); %C&A
becomes rework; batch size, availability and the share of items that visit the step carry
over; demand becomes the Poisson arrival rate.
"""

from __future__ import annotations

from obeya.core.maps.model import ValueStreamMap
from obeya.core.simulation.scenario import (
    Distribution,
    Scenario,
    ScenarioError,
    SimStep,
    scenario_toml,
)

#: The smallest process time a step gets (a map may say 0 h: the simulation needs a duration).
_MIN_DAYS = 1e-6


__all__ = ["scenario_from_map", "scenario_toml"]


def scenario_from_map(
    vsm: ValueStreamMap,
    *,
    distribution: str = "exponential",
    days: float = 2000.0,
    warmup_days: float = 200.0,
    replications: int = 5,
    seed: int = 1,
) -> Scenario:
    """The scenario of ``vsm``; process times follow ``distribution`` (exponential or constant)
    with the map's mean."""
    if vsm.demand_per_day is None:
        raise ScenarioError(
            f"map '{vsm.name}': demand_per_day is not given; the simulation needs the arrival "
            "rate (items per day)"
        )
    if distribution not in {"exponential", "constant"}:
        raise ScenarioError(f"distribution {distribution!r}: give exponential or constant")
    # A step's PT per pass: the simulation repeats a pass with probability 1 − %C&A, so a PT
    # that already holds every pass (a map drawn with the twin) is 1 ÷ %C&A passes of it.
    per_pass = {
        step.name: step.process_time_hours
        * (step.complete_accurate if vsm.process_time_includes_rework else 1.0)
        for step in vsm.steps
    }
    steps = tuple(
        SimStep(
            name=step.name,
            process_time_days=Distribution(
                distribution,
                mean=max(per_pass[step.name] / vsm.available_hours_per_day, _MIN_DAYS),
            ),
            servers=max(1, round(step.people)),
            complete_accurate=step.complete_accurate,
            batch_size=step.batch_size,
            availability=step.availability,
            visit_share=step.visit_share,
        )
        for step in vsm.steps
    )
    return Scenario(
        arrival_rate_per_day=vsm.demand_per_day,
        days=days,
        step=steps,
        warmup_days=warmup_days,
        replications=replications,
        seed=seed,
        name=f"{vsm.name} ({vsm.variant})",
    )
