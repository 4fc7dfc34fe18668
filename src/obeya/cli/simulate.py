"""``obeya simulate SCENARIO.toml`` (a discrete-event simulation of a scenario) and
``obeya what-if BASELINE.toml ...`` (future states side by side); docs/simulation.md.
Registered by :mod:`obeya.cli.main`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from obeya.cli.common import (
    err,
    fail,
    handle_errors,
    out,
    print_json,
    progress_bar,
    safe,
)
from obeya.cli.twin import is_twin_file, simulate_twin
from obeya.core.simulation import SimulationResult, load_scenario, simulate
from obeya.core.simulation.engine import Budget, estimate_work
from obeya.core.simulation.scenario import Scenario, ScenarioError
from obeya.core.simulation.whatif import Change, parse_change, what_if, what_if_scenarios
from obeya.core.twin.files import load_twin
from obeya.core.twin.whatif import parse_twin_change, twin_what_if
from obeya.errors import InputError
from obeya.render.numbers import DASH, count, number, share, signed


def _ci(ci: Sequence[float] | None, digits: int = 2) -> str:
    return "" if ci is None else f"[{number(ci[0], digits)}, {number(ci[1], digits)}]"


def _utilisation(value: float | None) -> str:
    """A step's utilisation as the simulation page shows it: ``85 %``, ``72.5 %``."""
    return share(value, 1)


def _utilisation_ci(ci: Sequence[float] | None) -> str:
    return "" if ci is None else f"[{_utilisation(ci[0])}, {_utilisation(ci[1])}]"


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
        f"lead time (days): p50 {number(result.lead_time_p50, 2)}, "
        f"p85 {number(result.lead_time_p85, 2)}, "
        f"mean {number(result.lead_time_mean, 2)} {_ci(result.lead_time_mean_ci95)}"
    )
    out.print(
        f"throughput: {number(result.throughput_per_day, 2)}/day {_ci(result.throughput_ci95)}"
    )
    out.print(f"WIP: {number(result.wip, 1)} items {_ci(result.wip_ci95, 1)}")
    table = Table("step", "servers", "utilisation", "95 % CI", "mean queue (days)", "mean WIP")
    named = "constraint" if result.constraint_binding else "highest load"
    for s in result.steps:
        mark = f" ({named})" if s.name == result.constraint else ""
        table.add_row(
            s.name + mark,
            str(s.servers) if s.servers else "unlimited",
            "" if s.utilisation is None else _utilisation(s.utilisation),
            _utilisation_ci(s.utilisation_ci95),
            number(s.mean_queue_days, 2),
            number(s.mean_wip, 1),
        )
    out.print(table)
    out.print(f"{named}: {result.constraint}, {result.constraint_reason}")
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


#: Runs estimated above this many simulated events get a warning and a progress bar (the
#: server's default budget per request: some ten seconds of one core).
LARGE_RUN_EVENTS = 2_000_000


@contextmanager
def run_budget(scenarios: Sequence[Scenario]) -> Iterator[Budget]:
    """A budget without limit whose progress drives a bar (in events, against the estimate),
    with a warning first when the run is large; the CLI runs any size on the user's own
    machine, it only says how long it will be."""
    estimate = sum(estimate_work(s).events for s in scenarios)
    if estimate > LARGE_RUN_EVENTS:
        first = scenarios[0]
        err.print(
            f"[yellow]note:[/yellow] a large run: about {number(estimate, 0)} simulated events "
            f"({estimate_work(first).explain(first.days, first.arrival_rate_per_day)}"
            f"{' per scenario' if len(scenarios) > 1 else ''}); some "
            f"{number(estimate / 200_000, 0)} s at ~200,000 events a second",
            highlight=False,
        )
    total = max(int(estimate), 1)
    with progress_bar("simulating", quiet=estimate <= LARGE_RUN_EVENTS, unit="events") as bar:
        if bar is None:
            yield Budget()
        else:
            yield Budget(progress=lambda used: bar(min(used, total), total))


def simulate_command(
    scenario: Annotated[
        Path, typer.Argument(help="A twin (obeya calibrate -o) or a scenario TOML.")
    ],
    days: Annotated[
        float | None, typer.Option(help="Twin: days to run from its as_of (default: the file's).")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(help="Twin: replications (default: the file's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Twin: seed of the first replication.")] = None,
    events_out: Annotated[
        Path | None,
        typer.Option(
            help="Twin: write the simulated events as CSV (replication,item_id,state,"
            "timestamp,assignee)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """Run a twin forward from its as_of (its events, lead time, throughput, WIP, each
    step's utilisation), or simulate a scenario (SimPy): lead time, throughput,
    utilisation and the constraint."""
    if is_twin_file(scenario):
        simulate_twin(scenario, days, replications, seed, events_out, as_json)
        return
    if days is not None or replications is not None or seed is not None or events_out:
        fail(InputError("--days, --replications, --seed and --events-out are for twin files"))
    with handle_errors():
        loaded = load_scenario(scenario)
        with run_budget([loaded]) as budget:
            result = simulate(loaded, budget)
    if as_json:
        print_json(result.to_dict())
    else:
        print_simulation(result)


def _future(text: str, parse: Callable[[str], Change] = parse_change) -> tuple[str, list[Change]]:
    """``"NAME: CHANGE, CHANGE"`` (or just the changes, which then name the future)."""
    name, sep, rest = text.partition(":")
    if not sep or "=" in name:
        name, rest = text, text
    changes = [parse(part) for part in rest.split(",") if part.strip()]
    if not changes:
        raise ScenarioError(f"--future {text!r}: give at least one change, e.g. Build.servers=2")
    return name.strip(), changes


def _signed(value: float, ci: list[float] | None, significant: bool, digits: int = 2) -> str:
    text = signed(value, digits)
    if ci is not None:
        text += f" [{signed(ci[0], digits)}, {signed(ci[1], digits)}]"
    return text + (" *" if significant else "")


def _maybe(value: float | None) -> str:
    """A figure, or the dash where none could be measured (no item finished)."""
    return number(value, 2)


def print_what_if(doc: dict[str, Any]) -> None:
    """A what-if document (of scenarios or of a twin) as tables."""
    table = Table(
        "scenario", "lead time p50", "p85", "mean [95 % CI]", "throughput/day", "WIP", "constraint"
    )
    for s in doc["scenarios"]:
        lead = s["lead_time_days"]
        table.add_row(
            s["scenario"],
            _maybe(lead["p50"]),
            _maybe(lead["p85"]),
            f"{_maybe(lead['mean'])} {_ci(lead['mean_ci95'])}",
            f"{number(s['throughput_per_day'], 2)} {_ci(s['throughput_per_day_ci95'])}",
            f"{number(s['wip'], 1)} {_ci(s['wip_ci95'], 1)}",
            s["constraint"],
        )
    out.print(table)
    if len(doc["scenarios"]) > 1:
        diff = Table("against " + doc["baseline"], "mean lead time", "throughput/day", "WIP")
        for s in doc["scenarios"][1:]:
            d = s["difference"]
            cells = [
                DASH
                if d[k]["value"] is None
                else _signed(d[k]["value"], d[k]["ci95"], d[k]["significant"])
                for k in ("lead_time_mean", "throughput_per_day", "wip")
            ]
            diff.add_row(s["scenario"], *cells)
        out.print(diff)
        out.print("paired differences over replications with 95 % CI; * = the CI leaves out 0")
    for warning in doc.get("warnings", []):
        err.print(f"[yellow]warning:[/yellow] {safe(warning)}", highlight=False)
    steps = Table("utilisation", *[s["scenario"] for s in doc["scenarios"]])
    for k, step in enumerate(doc["scenarios"][0]["steps"]):
        cells = []
        for s in doc["scenarios"]:
            u = s["steps"][k]["utilisation"]
            servers = s["steps"][k]["servers"]
            cells.append(
                "unlimited" if u is None else f"{_utilisation(u)} ({count(servers, 'server')})"
            )
        steps.add_row(step["name"], *cells)
    out.print(steps)


def what_if_command(
    baseline: Annotated[Path, typer.Argument(help="The current state's scenario TOML.")],
    others: Annotated[
        list[Path] | None, typer.Argument(help="Future states' scenario files.", show_default=False)
    ] = None,
    future: Annotated[
        list[str] | None,
        typer.Option(
            "--future",
            help='A future state made by changes to the baseline: "NAME: STEP.FIELD=VALUE, ..." '
            "(repeatable). Fields: servers, wip_limit, batch_size, availability, "
            "complete_accurate, visit_share, or arrival_rate_per_day (arrivals) for the "
            "stream; relative values too: Build.servers=+1, arrivals=+10%.",
        ),
    ] = None,
    chart: Annotated[
        Path | None, typer.Option(help="Also write the comparison chart (.svg, .png or .json).")
    ] = None,
    days: Annotated[
        float | None, typer.Option(help="Simulated days of every state (default: the file's).")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(help="Replications of every state (default: the file's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """Compare the current state with future states: lead time, throughput, WIP and
    utilisation side by side, with confidence intervals (same seeds: paired replications).
    A change may be relative: ``Build.servers=+1``, ``arrivals=+10%``."""
    if is_twin_file(baseline):
        if others:
            fail(InputError("a twin compares with --future changes; give no other files"))
        with handle_errors():
            futures_of_twin = [_future(text, parse_twin_change) for text in future or []]
            twin_doc = twin_what_if(
                load_twin(baseline), futures_of_twin, days=days, replications=replications
            ).to_dict()
            if chart is not None:
                from obeya.render.simulation import save_chart, what_if_chart

                save_chart(what_if_chart(twin_doc), chart)
        if as_json:
            print_json(twin_doc)
        else:
            print_what_if(twin_doc)
            if chart is not None:
                out.print(f"chart written to {chart}")
        return
    with handle_errors():
        base = load_scenario(baseline)
        # Futures take the baseline's days and replications (paired runs).
        if days is not None:
            base = dataclasses.replace(base, days=days)
        if replications is not None:
            base = dataclasses.replace(base, replications=replications)
        futures: list[Scenario | tuple[str, list[Change]]] = [
            load_scenario(p) for p in others or []
        ]
        futures += [_future(text) for text in future or []]
        with run_budget(what_if_scenarios(base, futures)) as budget:
            comparison = what_if(base, futures, budget)
        if chart is not None:
            from obeya.render.simulation import save_chart, what_if_chart  # Altair: on demand

            save_chart(what_if_chart(comparison.to_dict()), chart)
    if as_json:
        print_json(comparison.to_dict())
    else:
        print_what_if(comparison.to_dict())
        if chart is not None:
            out.print(f"chart written to {chart}")
