"""Discrete-event simulation (SimPy) of a value stream scenario (docs/simulation.md)."""

from obeya.core.simulation.engine import (
    ReplicationResult,
    SimulationResult,
    StepStats,
    mean_ci95,
    simulate,
    t_quantile_975,
)
from obeya.core.simulation.scenario import (
    DISTRIBUTIONS,
    Distribution,
    Scenario,
    ScenarioError,
    SimStep,
    load_scenario,
    scenario_from_dict,
    scenario_to_dict,
    scenario_toml,
)

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "ReplicationResult",
    "Scenario",
    "ScenarioError",
    "SimStep",
    "SimulationResult",
    "StepStats",
    "load_scenario",
    "mean_ci95",
    "scenario_from_dict",
    "scenario_to_dict",
    "scenario_toml",
    "simulate",
    "t_quantile_975",
]
