"""``obeya simulate SCENARIO.toml``: a discrete-event simulation of a scenario
(docs/simulation.md). Registered by :mod:`obeya.cli.main`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from obeya.cli.common import handle_errors, out, print_json
from obeya.core.simulation import SimulationResult, load_scenario, simulate


def _ci(ci: tuple[float, float] | None, digits: int = 2) -> str:
    return "" if ci is None else f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def print_simulation(result: SimulationResult) -> None:
    sc = result.scenario
    arrivals = (
        f"{len(sc.arrival_times_days)} replayed arrivals"
        if sc.arrival_times_days
        else f"arrivals {sc.mean_arrival_rate:g}/day"
    )
    out.print(
        f"{sc.name}: {len(result.replications)} replications of {sc.days:g} days "
        f"(warm-up {sc.warmup_days:g}), {arrivals}, seed {sc.seed}"
    )
    out.print(
        f"lead time (days): p50 {result.lead_time_p50:.2f}, p85 {result.lead_time_p85:.2f}, "
        f"mean {result.lead_time_mean:.2f} {_ci(result.lead_time_mean_ci95)}"
    )
    out.print(f"throughput: {result.throughput_per_day:.2f}/day {_ci(result.throughput_ci95)}")
    out.print(f"WIP: {result.wip:.1f} items {_ci(result.wip_ci95, 1)}")
    table = Table("step", "servers", "utilisation", "95 % CI", "mean queue (days)", "mean WIP")
    for s in result.steps:
        mark = " (constraint)" if s.name == result.constraint else ""
        table.add_row(
            s.name + mark,
            str(s.servers) if s.servers else "unlimited",
            "" if s.utilisation is None else f"{s.utilisation:.1%}",
            _ci(s.utilisation_ci95, 3),
            f"{s.mean_queue_days:.2f}",
            f"{s.mean_wip:.1f}",
        )
    out.print(table)
    out.print(f"constraint: {result.constraint}, {result.constraint_reason}")


def simulate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML (docs/simulation.md).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """Simulate a scenario (SimPy): lead time, throughput, utilisation and the constraint."""
    with handle_errors():
        result = simulate(load_scenario(scenario))
    if as_json:
        print_json(result.to_dict())
    else:
        print_simulation(result)
