"""``obeya forecast when | how-many | backtest``: Monte Carlo forecasts from a file's or a
stored stream's daily throughput, and backtests of them (docs/forecasting.md). A sub-app,
registered by :mod:`obeya.cli.main`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from obeya.cli.common import (
    FormatOpt,
    PlainTable,
    WorkflowOpt,
    err,
    handle_errors,
    load_workflow,
    out,
    parse_date,
    print_json,
    progress_bar,
    safe,
    with_columns,
)
from obeya.core.forecast import (
    DEFAULT_BACKTEST_HISTORY_DAYS,
    DEFAULT_BACKTEST_SEED,
    DEFAULT_BACKTEST_TRIALS,
    DEFAULT_EVERY_DAYS,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    Backtest,
    HowManyForecast,
    WhenForecast,
    backtest,
    backtest_when,
    forecast_how_many,
    forecast_when,
)
from obeya.ingest import ColumnMap
from obeya.render.numbers import count, date, number, percent, signed
from obeya.workspace import Workspace, analyse_file

forecast_app = typer.Typer(
    help="Monte Carlo forecasts from the daily throughput: when N items, how many by a date, "
    "and backtests of them.",
    no_args_is_help=True,
)

FileOpt = Annotated[Path | None, typer.Argument(help="File to forecast from (one-shot).")]
StreamOpt = Annotated[str | None, typer.Option(help="Forecast a stored value stream.")]
HistoryOpt = Annotated[
    int, typer.Option("--history-days", help="Days of history before the start to sample.")
]
WindowOpt = Annotated[
    int | None,
    typer.Option(
        "--history-days",
        help="Days of history before the start to sample (default: the 84 before it, but "
        "none before the first finish).",
    ),
]
StartOpt = Annotated[
    str | None,
    typer.Option(help="Forecast start, YYYY-MM-DD (default: the day after the data's last)."),
]
TrialsOpt = Annotated[int, typer.Option(help="Monte Carlo trials.")]
SeedOpt = Annotated[int, typer.Option(help="Random seed: the same seed gives the same figures.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON document.")]


def _throughput(
    file: Path | None,
    stream: str | None,
    workflow: Path | None,
    file_format: str | None,
    columns: ColumnMap,
    quiet: bool,
) -> dict[str, int]:
    if (file is None) == (stream is None):
        err.print("[red]error:[/red] give a FILE or --stream NAME (one of them)")
        raise typer.Exit(2)
    if file is not None:
        with progress_bar(f"reading {file.name}", quiet) as progress:
            report = analyse_file(
                file,
                load_workflow(workflow),
                columns=columns,
                file_format=file_format,
                progress=progress,
            )
    else:
        assert stream is not None
        with Workspace() as ws:
            ws.initialise()
            return ws.forecasts.throughput(stream, workflow=load_workflow(workflow))
    return report.throughput_daily


@forecast_app.command("when")
@with_columns
def when_command(
    file: FileOpt = None,
    items: Annotated[int, typer.Option(help="Items still to do.")] = 0,
    stream: StreamOpt = None,
    workflow: WorkflowOpt = None,
    history_days: WindowOpt = None,
    start: StartOpt = None,
    trials: TrialsOpt = DEFAULT_TRIALS,
    seed: SeedOpt = DEFAULT_SEED,
    as_json: JsonOpt = False,
    file_format: FormatOpt = None,
    columns: ColumnMap = ColumnMap(),
) -> None:
    """When will --items more items be done? Dates at 50/70/85/95 % confidence."""
    first = parse_date(start, "--start")
    with handle_errors():
        daily = _throughput(file, stream, workflow, file_format, columns, as_json)
        result = forecast_when(
            daily, items, history_days=history_days, start=first, trials=trials, seed=seed
        )
    doc = result.to_dict()
    _notes(doc)
    if as_json:
        print_json(doc)
    else:
        _print_when(result)


@forecast_app.command("how-many")
@with_columns
def how_many_command(
    file: FileOpt = None,
    days: Annotated[int, typer.Option(help="Horizon in days, the start day included.")] = 0,
    stream: StreamOpt = None,
    workflow: WorkflowOpt = None,
    history_days: WindowOpt = None,
    start: StartOpt = None,
    trials: TrialsOpt = DEFAULT_TRIALS,
    seed: SeedOpt = DEFAULT_SEED,
    as_json: JsonOpt = False,
    file_format: FormatOpt = None,
    columns: ColumnMap = ColumnMap(),
) -> None:
    """How many items will be done in --days days? Counts at 50/70/85/95 % confidence."""
    first = parse_date(start, "--start")
    with handle_errors():
        daily = _throughput(file, stream, workflow, file_format, columns, as_json)
        result = forecast_how_many(
            daily, days, history_days=history_days, start=first, trials=trials, seed=seed
        )
    doc = result.to_dict()
    _notes(doc)
    if as_json:
        print_json(doc)
    else:
        _print_how_many(result)


@forecast_app.command("backtest")
@with_columns
def backtest_command(
    file: FileOpt = None,
    stream: StreamOpt = None,
    workflow: WorkflowOpt = None,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", help="Days forecast from each origin.")
    ] = DEFAULT_HORIZON_DAYS,
    history_days: HistoryOpt = DEFAULT_BACKTEST_HISTORY_DAYS,
    every_days: Annotated[
        int, typer.Option("--every-days", help="Days between consecutive origins.")
    ] = DEFAULT_EVERY_DAYS,
    items: Annotated[
        int | None,
        typer.Option(
            "--items", help="Backtest `when` N items instead of how-many (no --horizon-days)."
        ),
    ] = None,
    trials: TrialsOpt = DEFAULT_BACKTEST_TRIALS,
    seed: SeedOpt = DEFAULT_BACKTEST_SEED,
    as_json: JsonOpt = False,
    file_format: FormatOpt = None,
    columns: ColumnMap = ColumnMap(),
) -> None:
    """Can the forecasts be trusted? Forecast at past dates from the history before each
    (how many in a horizon, or with --items when N items are done) and compare with what
    happened: calibration per percentile and the error."""
    with handle_errors():
        daily = _throughput(file, stream, workflow, file_format, columns, as_json)
        common = {"history_days": history_days, "every_days": every_days}
        if items is None:
            result = backtest(daily, horizon_days=horizon_days, trials=trials, seed=seed, **common)
        else:
            result = backtest_when(daily, items=items, trials=trials, seed=seed, **common)
    from obeya.core.forecast.caveats import backtest_caveats

    _notes(result.to_dict(), backtest_caveats)
    if as_json:
        print_json(result.to_dict())
    else:
        _print_backtest(result)


def _notes(
    doc: dict[str, Any], caveats: Callable[[dict[str, Any]], list[str]] | None = None
) -> None:
    """The caveats of a forecast (or, with ``caveats``, of another document), on stderr: the
    JSON on stdout stays whole."""
    from obeya.core.forecast.caveats import forecast_caveats

    for caveat in (caveats or forecast_caveats)(doc):
        err.print(f"[yellow]note:[/yellow] {safe(caveat)}", highlight=False)


def _basis(result: WhenForecast | HowManyForecast) -> str:
    window = result.history.describe() if result.history else f"{result.history_days} days"
    return f"{count(result.trials, 'trial')} (seed {result.seed}), each day drawn from {window}"


def _print_when(result: WhenForecast) -> None:
    assert result.start is not None
    dates = result.dates or {}
    table = PlainTable(
        title=f"When will {count(result.items, 'item')} be done? (from {result.start})"
    )
    table.add_column("Confidence", justify="right")
    table.add_column("Days", justify="right")
    table.add_column("Done by", justify="left")
    for p, value in result.percentiles.items():
        table.add_row(percent(p), count(value), date(dates[p]))
    out.print(table)
    out.print(_basis(result))


def _print_how_many(result: HowManyForecast) -> None:
    assert result.start is not None
    end = result.start + timedelta(days=result.days - 1)
    table = PlainTable(
        title=f"How many items in {count(result.days, 'day')}? ({result.start} to {end})"
    )
    table.add_column("Confidence", justify="right")
    table.add_column("At least", justify="right")
    for p, value in result.percentiles.items():
        table.add_row(percent(p), count(value))
    out.print(table)
    out.print(_basis(result))


#: How many of the latest origins the backtest table lists.
_LAST_ORIGINS = 5


def _print_backtest(result: Backtest) -> None:
    points = result.points
    when = result.items is not None
    unit = "days" if when else "items"
    what = (
        f"when {count(result.items, 'item')} are done"
        if when
        else f"how-many over {count(result.horizon_days, 'day')}"
    )
    table = PlainTable(
        title=(
            f"Backtest of {what}: {count(result.origins, 'origin')}, "
            f"{points[0].origin} to {points[-1].origin}"
        )
    )
    table.add_column("Confidence", justify="right")
    table.add_column("Target", justify="right")
    table.add_column("Achieved", justify="right")
    for p, achieved in result.calibration.items():
        table.add_row(percent(p), percent(p), percent(achieved))
    out.print(table)
    mape = result.mean_absolute_percentage_error
    out.print(
        f"p50 error: mean absolute {number(result.mean_absolute_error, 1)} {unit}"
        + ("" if mape is None else f" ({percent(mape)})")
        + f", mean {signed(result.mean_error, 1)} {unit} (negative: forecasts too "
        + ("early)" if when else "low)")
    )
    if when:
        out.print(
            "Achieved: share of origins whose items were done within the forecast days; well "
            "above the target, forecasts too late; well below, too early."
        )
    else:
        out.print(
            "Achieved: share of origins whose actual count reached the forecast; well above "
            "the target, forecasts too low; well below, too high."
        )
    recent = PlainTable(title=f"Last {min(_LAST_ORIGINS, len(points))} origins")
    recent.add_column("Origin")
    for p in points[-1].percentiles:
        recent.add_column(f"p{p}", justify="right")
    recent.add_column("Actual", justify="right")
    for point in points[-_LAST_ORIGINS:]:
        recent.add_row(
            date(point.origin),
            *(count(v) for v in point.percentiles.values()),
            count(point.actual),
        )
    out.print(recent)
    skipped = f"; {count(result.skipped, 'origin')} skipped (no finish in their window)"
    censored = (
        f"; {count(result.censored, 'origin')} left out (their items not all done in the data)"
    )
    out.print(
        f"{count(result.trials, 'trial')} (seed {result.seed}) per origin, every "
        f"{count(result.every_days, 'day')}, each from the {result.history_days} days before it"
        + (skipped if result.skipped else "")
        + (censored if result.censored else "")
    )
