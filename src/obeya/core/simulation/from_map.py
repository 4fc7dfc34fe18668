"""Turn a value stream map into a simulation scenario, to test a future state before changing
the real stream.

A map's process time is hands-on hours; the simulation's clock runs in calendar days. A step
works ``people × availability × available hours per day`` hours a day, so one server (one
person) takes ``PT ÷ (availability × available hours per day)`` days per item: the simulated
utilisation then equals the map's ``demand × PT ÷ capacity``. People become servers (rounded,
at least one); %C&A becomes rework; demand becomes the Poisson arrival rate.
"""

from __future__ import annotations

from obeya.core.maps.model import ValueStreamMap
from obeya.core.simulation.scenario import Distribution, Scenario, ScenarioError, SimStep

#: The smallest process time a step gets (a map may say 0 h: the simulation needs a duration).
_MIN_DAYS = 1e-6


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
    steps = tuple(
        SimStep(
            name=step.name,
            process_time=Distribution(
                distribution,
                mean=max(
                    step.process_time_hours / (step.availability * vsm.available_hours_per_day),
                    _MIN_DAYS,
                ),
            ),
            servers=max(1, round(step.people)),
            complete_accurate=step.complete_accurate,
        )
        for step in vsm.steps
    )
    return Scenario(
        arrival_rate_per_day=vsm.demand_per_day,
        days=days,
        steps=steps,
        warmup_days=warmup_days,
        replications=replications,
        seed=seed,
        name=f"{vsm.name} ({vsm.variant})",
    )


def scenario_toml(scenario: Scenario) -> str:
    """The scenario in the TOML form ``obeya simulate`` reads."""
    lines = [
        f'name = "{_escape(scenario.name)}"',
        f"arrival_rate_per_day = {scenario.arrival_rate_per_day!r}",
        f"days = {scenario.days!r}",
        f"warmup_days = {scenario.warmup_days!r}",
        f"replications = {scenario.replications}",
        f"seed = {scenario.seed}",
    ]
    for step in scenario.steps:
        pt = step.process_time
        lines += [
            "",
            "[[step]]",
            f'name = "{_escape(step.name)}"',
            f"servers = {step.servers}",
            f'process_time_days = {{ distribution = "{pt.kind}", mean = {pt.mean!r} }}',
            f"complete_accurate = {step.complete_accurate!r}",
            f"wip_limit = {step.wip_limit}",
        ]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
