"""``obeya calibrate`` (fit a twin to history, check it on what followed) and ``obeya simulate
TWIN.toml`` (run it forward, write its events); docs/simulation.md, "The twin"."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from obeya.cli.common import (
    FormatOpt,
    PlainTable,
    WorkflowOpt,
    err,
    fail,
    handle_errors,
    load_history,
    one_source,
    out,
    parse_date,
    print_json,
    progress_bar,
    safe,
    with_columns,
    workflow_or_inferred,
)
from obeya.core.events import EventLog
from obeya.core.simulation.engine import Budget
from obeya.core.twin.engine import TwinRun, run_twin
from obeya.core.twin.files import load_twin, twin_toml
from obeya.core.twin.fit import fit_twin
from obeya.core.twin.holdout import TARGETS, HoldoutCheck, Run, holdout_check
from obeya.core.twin.model import Twin, TwinError
from obeya.core.twin.summary import run_summary, twin_summary
from obeya.errors import InputError
from obeya.ingest import ColumnMap
from obeya.render.numbers import count, number, parse_share, share, signed_share


def print_twin(twin: Twin) -> None:
    doc = twin_summary(twin)
    out.print(
        f"{safe(twin.name)}: {count(doc['items_in_progress'], 'item')} in progress at "
        f"{twin.as_of_time:%Y-%m-%d %H:%M} UTC; {doc['arrivals_per_day']:.2f} arrivals a day; "
        f"{doc['working_hours_per_week']:g} working hours a week",
        highlight=False,
    )
    steps = PlainTable("step", "people", "items/person", "visits/item", "work h/visit", "load")
    for s in doc["steps"]:
        steps.add_row(
            s["name"],
            str(s["people"]),
            str(s["items_per_person"]),
            number(s["visits_per_item"], 2),
            number(s["work_hours_per_visit"], 2),
            share(s["utilisation"]),
        )
    out.print(steps)
    states = PlainTable("state", "kind", "visits", "median h", "goes on to")
    for s in doc["states"]:
        top = sorted(s["next"].items(), key=lambda kv: -kv[1])[:3]
        states.add_row(
            s["name"],
            s["kind"] + (f" ({s['step']})" if s["step"] else ""),
            count(s["visits"]),
            "" if s["median_hours"] is None else number(s["median_hours"], 2),
            ", ".join(f"{k} {share(p)}" for k, p in top),
        )
    out.print(states)
    for s in doc["steps"]:
        out.print(f"people of {safe(s['name'])}: {safe(s['evidence'])}", highlight=False)
    out.print(f"arrivals: {safe(doc['arrivals_evidence'])}", highlight=False)
    out.print(f"calendar: {safe(doc['calendar_evidence'])}", highlight=False)


def _print_run(title: str, run: Run) -> None:
    table = PlainTable("figure", "what followed", "twin", "error", "target", "baseline")
    for f in run.figures:
        table.add_row(
            f.label,
            _figure(f.actual),
            _figure(f.simulated),
            signed_share(f.error),
            f"±{share(TARGETS[f.name])}",
            _figure(f.baseline),
        )
    out.print(title)
    out.print(table)
    out.print(
        f"lead-time distance (Wasserstein): twin {run.distance_days:.2f} days, baseline "
        f"(earlier lead times) {run.baseline_distance_days:.2f} days",
        highlight=False,
    )


def _figure(value: float | None) -> str:
    """Three significant digits, never in exponent form: 0.0527, 3.92, 301, 1,920."""
    return number(value)


def print_holdout(check: HoldoutCheck) -> None:
    """The hold-out check as tables: what followed the cut, the twin's, the baseline's."""
    out.print(
        f"\nhold-out: fitted on the {count(check.fitted_items, 'item')} before "
        f"{check.split:%Y-%m-%d %H:%M} UTC ({check.fitted_days:.1f} days), checked on the "
        f"{check.test_days:.1f} days after ({count(check.test_items, 'new item')})",
        highlight=False,
    )
    _print_run("forecast (the twin's own arrivals):", check.forecast)
    out.print(f"verdict: {safe(check.verdict)}: {safe(check.explanation)}", highlight=False)
    _print_run("\ngiven the arrivals that came (their instants replayed):", check.given_arrivals)
    out.print(
        f"verdict given the arrivals: {safe(check.given_arrivals.verdict)}: "
        f"{safe(check.given_arrivals.explanation)}",
        highlight=False,
    )


def parse_moment(text: str | None, option: str) -> datetime | None:
    """``2024-05-01`` (midnight UTC) or ``2024-05-01T09:30`` (UTC unless it says)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not a time; use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@with_columns
def calibrate_command(
    file: Annotated[Path | None, typer.Argument(help="Event log to fit (one-shot).")] = None,
    stream: Annotated[str | None, typer.Option(help="Fit a stored value stream.")] = None,
    workflow: WorkflowOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Fit the history up to this time (default: the last event), UTC."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the twin TOML here.")
    ] = None,
    holdout: Annotated[
        str | None,
        typer.Option(
            help="Also fit on all but the last share of items (e.g. 20%) and check the twin "
            "against what followed."
        ),
    ] = None,
    validate_from: Annotated[
        str | None,
        typer.Option(help="Like --holdout, cutting at this date (YYYY-MM-DD, UTC)."),
    ] = None,
    days: Annotated[float, typer.Option(help="Default run length written in the twin.")] = 30.0,
    replications: Annotated[int, typer.Option(help="Replications of the check's runs.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the first replication.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
    file_format: FormatOpt = None,
    columns: ColumnMap = ColumnMap(),
) -> None:
    """Fit a digital twin of the stream to its history (people per step, working calendar,
    routing with rework, arrivals, delays, today's WIP); with --holdout or --validate-from,
    check whether a twin fitted to the past foretold what followed (docs/simulation.md)."""
    one_source(file, stream)
    if holdout is not None and validate_from is not None:
        fail(InputError("give --holdout or --validate-from, not both"))
    with handle_errors():
        moment = parse_moment(as_of, "--as-of")
        log, chosen = load_history(
            file, stream, workflow, file_format=file_format, columns=columns, quiet=as_json
        )
        flow = workflow_or_inferred(log, chosen)
        twin = fit_twin(log, flow, as_of=moment, days=days, replications=replications, seed=seed)
        check = None
        cut_day = parse_date(validate_from, "--validate-from")
        if holdout is not None or cut_day is not None:
            if moment is not None:
                log = _up_to(log, moment)
            check = holdout_check(
                log,
                flow,
                None if cut_day is None else datetime.combine(cut_day, time(), UTC),
                share=None if holdout is None else parse_share(holdout, field="--holdout"),
                replications=replications,
                seed=seed,
            )
    if output is not None:
        output.write_text(twin_toml(twin), encoding="utf-8")
    if as_json:
        doc: dict[str, Any] = {"twin": twin_summary(twin)}
        if output is not None:
            doc["output"] = str(output)
        if check is not None:
            doc["holdout"] = check.to_dict()
        print_json(doc)
        return
    print_twin(twin)
    if check is not None:
        print_holdout(check)
    if output is not None:
        out.print(f"twin written to {safe(str(output))}", highlight=False)


def _up_to(log: EventLog, moment: datetime) -> EventLog:
    import pyarrow.compute as pc

    from obeya.core.events import to_micros

    table = log.table.filter(pc.less_equal(log.table.column("t"), to_micros(moment)))
    return EventLog(table, log.source)


def is_twin_file(path: Path) -> bool:
    """A twin file has ``[[state]]`` tables; a scenario has ``[[step]]`` only."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError:
        return False
    return b"[[state]]" in head


def simulate_twin(
    path: Path,
    days: float | None,
    replications: int | None,
    seed: int | None,
    events_out: Path | None,
    as_json: bool,
) -> None:
    """``obeya simulate TWIN.toml``: run the twin forward from its ``as_of``."""
    with handle_errors():
        twin = load_twin(path)
        run_days = twin.days if days is None else days
        if not 0 < run_days <= 36_500:
            raise TwinError(f"--days {run_days}: give a run length in (0, 36500] days")
        with progress_bar("simulating", quiet=as_json, unit="replications") as bar:
            reps = twin.replications if replications is None else replications
            run = run_twin(twin, days=run_days, replications=reps, seed=seed, budget=Budget())
            if bar is not None:
                bar(reps, reps)
        if events_out is not None:
            rows = write_events(run, events_out)
    doc = run_summary(run)
    if as_json:
        if events_out is not None:
            doc["events_out"] = {"path": str(events_out), "rows": rows}
        print_json(doc)
        return
    out.print(
        f"{safe(twin.name)}: {len(run.replications)} replications of {run.days:g} days from "
        f"{twin.as_of_time:%Y-%m-%d %H:%M} UTC ({doc['items_in_progress']:,} items in "
        f"progress), seed {run.seed}",
        highlight=False,
    )
    lead = doc["lead_time_days"]
    times = (
        "no item finished in the run"
        if lead["p50"] is None
        else f"lead time of the items that finished (days): p50 {lead['p50']:.2f}, p85 "
        f"{lead['p85']:.2f}"
    )
    out.print(
        f"{times}; throughput {doc['throughput_per_day']:.2f}/day; mean WIP {doc['wip']:.1f}",
        highlight=False,
    )
    for warning in doc["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {safe(warning)}", highlight=False)
    table = PlainTable("step", "people", "utilisation")
    for s in doc["steps"]:
        use = s["utilisation"]
        table.add_row(s["name"], str(s["people"]), share(use))
    out.print(table)
    if events_out is not None:
        out.print(f"{rows:,} simulated events written to {safe(str(events_out))}", highlight=False)


def write_events(run: TwinRun, path: Path) -> int:
    """The run's events as CSV: ``replication,item_id,state,timestamp,assignee`` (ISO 8601
    UTC), the log's state names; items in progress at ``as_of`` keep their ids, new items
    are ``new-<replication>-<n>``."""
    twin = run.twin
    names = [s.name for s in twin.states]
    steps = [s.name for s in twin.steps]
    known = [it.id for it in twin.items]
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["replication", "item_id", "state", "timestamp", "assignee"])
        for r, rep in enumerate(run.replications):
            seconds = np.round(rep.t * 3600.0).astype("int64")
            stamps = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
            for i, s, stamp, person in zip(
                rep.item.tolist(),
                rep.state.tolist(),
                stamps.tolist(),
                rep.person.tolist(),
                strict=True,
            ):
                ident = known[i] if i < len(known) else f"new-{r}-{i - len(known) + 1}"
                who = "" if person < 0 else f"{steps[person // 1_000_000]} {person % 1_000_000 + 1}"
                writer.writerow([r, ident, names[s], f"{stamp}Z", who])
                rows += 1
    return rows
