"""``obeya dora``: the four DORA delivery metrics of deployments, changes and incidents files
(one-shot) or of a stored value stream, with their DORA 2023 bands (docs/conventions.md,
"Delivery metrics (DORA)"). Registered by :mod:`obeya.cli.main`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from obeya.cli.common import PlainTable, err, handle_errors, out, parse_date, print_json
from obeya.core.delivery.dora import DoraReport, Percentiles, dora_report
from obeya.ingest.delivery import read_delivery
from obeya.render.numbers import DASH, count, date, duration_hours, number, share
from obeya.workspace import Workspace


def dora_command(
    deployments: Annotated[
        Path | None,
        typer.Option(
            "--deployments",
            help="Deployments CSV: deployment_id, environment, finished_at, result "
            "(may be gzipped).",
        ),
    ] = None,
    changes: Annotated[
        Path | None,
        typer.Option(
            "--changes", help="Changes CSV: change_id, committed_at, deployment_id (lead time)."
        ),
    ] = None,
    incidents: Annotated[
        Path | None,
        typer.Option(
            "--incidents",
            help="Incidents CSV: incident_id, created_at, resolved_at[, deployment_id] "
            "(change failure rate, recovery time).",
        ),
    ] = None,
    stream: Annotated[
        str | None, typer.Option("--stream", help="Report on a stored value stream instead.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Window start, YYYY-MM-DD (UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Window end, YYYY-MM-DD, inclusive.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """DORA delivery metrics: deployment frequency, lead time for changes, change failure
    rate and failed deployment recovery time, each with its DORA 2023 band."""
    if (deployments is None) == (stream is None):
        err.print("[red]error:[/red] give --deployments FILE or --stream NAME (one of them)")
        raise typer.Exit(2)
    if stream is not None and (changes is not None or incidents is not None):
        err.print(
            "[red]error:[/red] --changes and --incidents go with --deployments; a stored "
            "stream has its own"
        )
        raise typer.Exit(2)
    first = parse_date(since, "--since")
    last = parse_date(until, "--until")
    with handle_errors():
        if deployments is not None:
            history = read_delivery(deployments, changes, incidents)
            report = dora_report(history, since=first, until=last)
        else:
            assert stream is not None
            with Workspace() as ws:
                ws.initialise()
                report = ws.delivery.dora(stream, since=first, until=last)
    if as_json:
        print_json(report.to_dict())
    else:
        print_dora(report)


def print_dora(report: DoraReport) -> None:
    """The report as a table: metric, value, band."""
    bands = report.bands()
    table = PlainTable(
        "metric",
        "value",
        "band",
        title=f"DORA metrics, {date(report.since)} to {date(report.until)} "
        f"({count(report.days, 'day')}, UTC)",
    )
    table.add_row(
        "deployment frequency",
        f"{number(report.deployment_days_per_week, 2)} deployment days a week, "
        f"{number(report.deployments_per_day, 2)} deployments a day "
        f"({count(report.deployments, 'deployment')} on "
        f"{count(report.days_with_deployments, 'day')})",
        _band(bands["deployment_frequency"]),
    )
    table.add_row(
        "lead time for changes",
        _percentiles(report.lead_time_for_changes_hours, "changes"),
        _band(bands["lead_time_for_changes"]),
    )
    rate = report.change_failure_rate
    table.add_row(
        "change failure rate",
        "no incidents given"
        if not report.has_incidents
        else "no deployments"
        if rate is None
        # The share as the delivery page's tile shows it: "33.3 %".
        else f"{share(rate, 1)} ({count(report.failed_deployments)} of "
        f"{count(report.deployments, 'deployment')})",
        _band(bands["change_failure_rate"]),
    )
    recovery = _percentiles(report.recovery_time_hours, "resolved")
    table.add_row(
        "failed deployment recovery time",
        f"{recovery}, {count(report.unresolved_incidents)} unresolved",
        _band(bands["recovery_time"]),
    )
    out.print(table)
    if report.unmatched_changes:
        out.print(
            f"{count(report.unmatched_changes, 'change')} "
            f"{'names' if report.unmatched_changes == 1 else 'name'} a deployment the "
            "deployments do not hold; they are left out of the lead time",
            highlight=False,
        )


def _percentiles(values: Percentiles, counted: str) -> str:
    if values.p50 is None or values.p85 is None:
        return f"none ({count(values.count)} {counted})"
    return (
        f"p50 {duration_hours(values.p50)}, p85 {duration_hours(values.p85)} "
        f"({count(values.count)} {counted})"
    )


def _band(band: str | None) -> str:
    return band if band is not None else DASH
