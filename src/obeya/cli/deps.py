"""``obeya deps critical-path | at-risk | draw``: dependencies between the tasks of several
teams, the critical path (CPM), dependencies at risk by Monte Carlo, and the drawn graph
(docs/steering.md). A sub-app, registered by :mod:`obeya.cli.main`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from obeya.cli.common import (
    FormatOpt,
    WorkflowOpt,
    handle_errors,
    load_workflow,
    out,
    print_json,
    progress_bar,
    with_columns,
)
from obeya.core.forecast import DEFAULT_HISTORY_DAYS, DEFAULT_SEED, DEFAULT_TRIALS
from obeya.core.steering.dependencies import (
    AT_RISK_BELOW,
    DependencyRisk,
    Schedule,
    dependency_risks,
    finish_date,
    load_plan,
    schedule,
    start_date,
)
from obeya.ingest import ColumnMap
from obeya.render.numbers import count, duration_days, share

deps_app = typer.Typer(
    help="Dependencies between teams' tasks: the critical path, dependencies at risk, the graph.",
    no_args_is_help=True,
)

PlanArg = Annotated[Path, typer.Argument(help="Plan TOML: [[task]] with id, team, duration_days…")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON document.")]


@deps_app.command("critical-path")
def critical_path_command(plan: PlanArg, as_json: JsonOpt = False) -> None:
    """The critical path (CPM): each task's early/late start and finish and its slack, the
    duration, the cross-team dependency matrix and the need-by dates missed."""
    with handle_errors():
        result = schedule(load_plan(plan))
    if as_json:
        print_json(result.to_dict())
    else:
        _print_schedule(result)


@deps_app.command("at-risk")
@with_columns
def at_risk_command(
    plan: PlanArg,
    history: Annotated[
        Path,
        typer.Option(
            "--history",
            help="Event log (CSV, XES, Jira) with a team column: each team's throughput.",
        ),
    ],
    workflow: WorkflowOpt = None,
    history_days: Annotated[
        int, typer.Option("--history-days", help="Days of history sampled before the start.")
    ] = DEFAULT_HISTORY_DAYS,
    trials: Annotated[int, typer.Option(help="Monte Carlo trials.")] = DEFAULT_TRIALS,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEFAULT_SEED,
    as_json: JsonOpt = False,
    file_format: FormatOpt = None,
    columns: ColumnMap = ColumnMap(),
) -> None:
    """Dependencies at risk: for each task with need_by and items, the chance that its team
    finishes the items by the need-by date (Monte Carlo on the team's throughput)."""
    from obeya.core.steering.team_throughput import throughput_by_team
    from obeya.ingest import read_events

    with handle_errors():
        sched = schedule(load_plan(plan))
        with progress_bar(f"reading {history.name}", as_json) as progress:
            log = read_events(history, format=file_format, columns=columns, progress=progress)
        daily = throughput_by_team(log, load_workflow(workflow))
        risks = dependency_risks(sched, daily, history_days=history_days, trials=trials, seed=seed)
    if as_json:
        print_json(
            {
                "plan": sched.plan.name,
                "threshold": AT_RISK_BELOW,
                "history_days": history_days,
                "trials": trials,
                "seed": seed,
                "dependencies": [r.to_dict() for r in risks],
                "at_risk": [r.task_id for r in risks if r.at_risk],
            }
        )
    else:
        _print_risks(risks, history_days, trials, seed)


@deps_app.command("draw")
def draw_command(
    plan: PlanArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The drawing: .svg or .png.")
    ] = Path("plan.svg"),
) -> None:
    """Draw the dependency graph (critical path in red) as SVG or PNG."""
    from obeya.render.dependency_svg import dependency_svg

    suffix = output.suffix.lower()
    if suffix not in {".svg", ".png"}:
        from obeya.cli.common import err

        err.print(f"[red]error:[/red] --output {output}: give a .svg or .png file name")
        raise typer.Exit(2)
    with handle_errors():
        svg = dependency_svg(schedule(load_plan(plan)))
        if suffix == ".png":
            from obeya.render.raster import svg_to_png

            output.write_bytes(svg_to_png(svg))
        else:
            output.write_text(svg, encoding="utf-8")
    out.print(f"dependency graph written to {output}")


def _days(value: float) -> str:
    return f"{value:g}"


def _print_schedule(result: Schedule) -> None:
    start = result.plan.start
    table = Table(title=f"{result.plan.name}: critical path method (days from the start)")
    for name in ("Task", "Team", "Days", "ES", "EF", "LS", "LF", "Slack", "Free"):
        table.add_column(name, justify="left" if name in {"Task", "Team"} else "right")
    if start is not None:
        table.add_column("Start", justify="left")
        table.add_column("Done by", justify="left")
    for t in result.times:
        row = [
            ("[bold red]" if t.critical else "") + t.task.id + ("[/]" if t.critical else ""),
            t.task.team,
            _days(t.task.duration_days),
            *(
                _days(float(v))
                for v in (
                    t.early_start,
                    t.early_finish,
                    t.late_start,
                    t.late_finish,
                    t.total_slack,
                    t.free_slack,
                )
            ),
        ]
        if start is not None:
            row.append(start_date(start, t.early_start, t.early_finish).isoformat())
            row.append(finish_date(start, t.early_start, t.early_finish).isoformat())
        table.add_row(*row)
    out.print(table)
    span = f" ({start} to {result.end})" if start is not None else ""
    out.print(f"Critical path: {' → '.join(result.critical_path)}")
    out.print(f"Duration: {duration_days(result.duration_days, 2)}{span}")
    others = [t for t in result.critical_tasks if t not in result.critical_path]
    if others:
        out.print(f"Also critical (slack 0): {', '.join(others)}")
    teams = result.plan.teams
    matrix = result.to_dict()["dependency_matrix"]
    grid = Table(title="Tasks of the row's team that depend on the column's team")
    grid.add_column("")
    for team in teams:
        grid.add_column(team, justify="right")
    for a in teams:
        grid.add_row(a, *(str(matrix[a][b]) if matrix[a][b] else "·" for b in teams))
    out.print(grid)
    checks = result.need_by_checks()
    if any(t.task.need_by for t in result.times) and start is None:
        out.print("Need-by dates are not checked: the plan has no start date.")
    for check in checks:
        if check.days_late:
            out.print(
                f"[red]{check.task_id} misses its need-by date {check.need_by}: done by "
                f"{check.early_finish}, {count(check.days_late, 'day')} late[/red]"
            )
    if checks and not any(c.days_late for c in checks):
        out.print("Every need-by date is met at the early finish.")


def _print_risks(risks: list[DependencyRisk], history_days: int, trials: int, seed: int) -> None:
    if not risks:
        out.print("No task has both need_by and items: nothing to forecast.")
        return
    table = Table(title="Dependencies at risk: the provider finishing by the need-by date")
    for name in ("Task", "Team", "Items", "From", "Need by", "P(on time)", "50 %", "85 %", ""):
        table.add_column(name, justify="right" if name in {"Items", "P(on time)"} else "left")
    for r in risks:
        dates = r.forecast.dates or {}
        table.add_row(
            r.task_id,
            r.team,
            f"{r.forecast.items:,}",
            r.start.isoformat(),
            r.need_by.isoformat(),
            share(r.on_time),
            dates[50].isoformat(),
            dates[85].isoformat(),
            "[bold red]at risk[/]" if r.at_risk else "on track",
        )
    out.print(table)
    out.print(
        f"At risk: done by the need-by date in fewer than {share(AT_RISK_BELOW)} of {trials:,} "
        f"trials (seed {seed}), each day drawn from the team's {history_days} days of history."
    )
