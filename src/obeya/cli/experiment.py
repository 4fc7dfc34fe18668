"""``obeya experiment evaluate``: did a change improve a flow metric? The items finished in a
baseline window against those finished in a trial window: medians, the effect with a bootstrap
95 % interval, a Mann–Whitney U test and a verdict, plus a guard metric (docs/steering.md).
A sub-app, registered by :mod:`obeya.cli.main`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from obeya.cli.common import (
    FormatOpt,
    PlainTable,
    WorkflowOpt,
    handle_errors,
    load_workflow,
    one_source,
    out,
    print_json,
    progress_bar,
    with_columns,
)
from obeya.core.metrics import FlowFilter, FlowReport
from obeya.core.steering.experiments import (
    DEFAULT_ALPHA,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    METRICS,
    Experiment,
    MetricResult,
    parse_window,
    run_experiment,
)
from obeya.ingest import ColumnMap
from obeya.render.numbers import count, metric_value, share, signed_share, significant
from obeya.workspace import Workspace, analyse_file

experiment_app = typer.Typer(
    help="Improvement experiments: a metric compared between a baseline and a trial window, "
    "with a bootstrap interval, a Mann–Whitney U test and a guard metric.",
    no_args_is_help=True,
)

_METRIC_NAMES = ", ".join(METRICS)


@experiment_app.command("evaluate")
@with_columns
def evaluate_command(
    baseline: Annotated[
        str,
        typer.Option(help="Baseline window YYYY-MM-DD..YYYY-MM-DD (by finish date, inclusive)."),
    ],
    trial: Annotated[
        str,
        typer.Option(help="Trial window YYYY-MM-DD..YYYY-MM-DD (by finish date, inclusive)."),
    ],
    file: Annotated[Path | None, typer.Argument(help="File to evaluate (one-shot).")] = None,
    stream: Annotated[str | None, typer.Option(help="Evaluate a stored value stream.")] = None,
    workflow: WorkflowOpt = None,
    metric: Annotated[str, typer.Option(help=f"Target metric: {_METRIC_NAMES}.")] = "cycle_time",
    guard: Annotated[
        str | None,
        typer.Option(help=f"Guard metric that must not get worse: {_METRIC_NAMES}."),
    ] = None,
    alpha: Annotated[float, typer.Option(help="Significance level of the test.")] = DEFAULT_ALPHA,
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples for the interval.")
    ] = DEFAULT_RESAMPLES,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same interval.")
    ] = DEFAULT_SEED,
    item_type: Annotated[
        list[str] | None, typer.Option("--type", help="Only items of this type (repeatable).")
    ] = None,
    calendar_days: Annotated[
        bool, typer.Option(help="Cycle and lead time in whole calendar days (end − start + 1).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
    file_format: FormatOpt = None,
    columns: ColumnMap = ColumnMap(),
) -> None:
    """Compare the items finished in --baseline with those finished in --trial: did --metric
    improve, and did --guard stay as good?"""
    one_source(file, stream)
    with handle_errors():
        base = parse_window(baseline, "--baseline")
        test = parse_window(trial, "--trial")
        # Only items finishing in the span of both windows are needed (their per-item rows).
        flt = FlowFilter(
            types=tuple(item_type or ()),
            since=min(base.start, test.start),
            until=max(base.end, test.end),
            calendar_days=calendar_days,
        )
        report = _report(file, stream, workflow, flt, file_format, columns, as_json)
        result = run_experiment(
            report.scatter,
            base,
            test,
            target=metric,
            guard=guard,
            alpha=alpha,
            resamples=resamples,
            seed=seed,
        )
    if as_json:
        print_json(result.to_dict())
    else:
        _print(result)


def _report(
    file: Path | None,
    stream: str | None,
    workflow: Path | None,
    flt: FlowFilter,
    file_format: str | None,
    columns: ColumnMap,
    quiet: bool,
) -> FlowReport:
    chosen = load_workflow(workflow)
    if file is not None:
        with progress_bar(f"reading {file.name}", quiet) as progress:
            return analyse_file(
                file,
                chosen,
                flt,
                columns=columns,
                file_format=file_format,
                detail=True,
                progress=progress,
            )
    assert stream is not None
    with Workspace() as ws:
        ws.initialise()
        return ws.flow(stream, flt, detail=True, workflow=chosen)


_WORDS = {
    "improved": "[green]improved[/green]",
    "worse": "[red]worse[/red]",
    "no change": "no change (not significant)",
}


def _print(result: Experiment) -> None:
    target = result.target
    e = target.evaluation
    unit = target.metric.unit
    better = "lower" if e.lower_is_better else "higher"
    table = PlainTable(title=f"{target.metric.name} ({unit}; {better} is better)")
    table.add_column("Window")
    table.add_column("Dates")
    table.add_column("Items", justify="right")
    table.add_column("Median", justify="right")
    table.add_column("p85", justify="right")
    # Medians and p85s as the experiments page shows them: a share in percent, days as read.
    table.add_row(
        "baseline",
        str(result.baseline),
        count(e.baseline_items),
        metric_value(e.baseline_median, target.metric.name),
        metric_value(e.baseline_p85, target.metric.name),
    )
    table.add_row(
        "trial",
        str(result.trial),
        count(e.trial_items),
        metric_value(e.trial_median, target.metric.name),
        metric_value(e.trial_p85, target.metric.name),
    )
    out.print(table)
    low, high = e.ci95
    out.print(
        f"Effect (trial median ÷ baseline median − 1): {signed_share(e.effect)}, "
        f"95 % CI {signed_share(low)} to {signed_share(high)} "
        f"(percentile bootstrap, {count(e.resamples)} resamples, seed {e.seed})"
    )
    out.print(f"Mann–Whitney U, two-sided: p = {significant(e.p_value)} (α = {e.alpha:g})")
    out.print(f"Verdict: {_WORDS[e.verdict]}")
    if result.guard is not None:
        _print_guard(result.guard)
    for q in result.quality:
        before, after = q.rate(q.baseline), q.rate(q.trial)
        rates = (
            "" if before is None or after is None else f" ({share(before, 1)} → {share(after, 1)})"
        )
        p_value = "" if q.p_value is None else f", Fisher p = {significant(q.p_value)}"
        out.print(
            f"{q.name.replace('_', ' ').capitalize()}: {count(q.baseline[0])} of "
            f"{count(q.baseline[1])} → {count(q.trial[0])} of {count(q.trial[1])}{rates}{p_value}"
        )
    for flag in result.quality_flags:
        out.print(f"[yellow]warning:[/yellow] {flag}")


def _print_guard(guard: MetricResult) -> None:
    g = guard.evaluation
    metric = guard.metric.name
    state = "[red]worsened[/red]" if g.verdict == "worse" else "[green]held[/green]"
    out.print(
        f"Guard {metric}: median {metric_value(g.baseline_median, metric)} → "
        f"{metric_value(g.trial_median, metric)} ({signed_share(g.effect)}, "
        f"p = {significant(g.p_value)}): {state}"
    )
