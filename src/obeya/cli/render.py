"""Readable terminal tables of a flow report (the non-JSON output of ``obeya metrics``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from obeya.cli.common import PlainTable, safe
from obeya.core.metrics import FlowReport, convention_line
from obeya.render.numbers import DASH, count, number, share


def _num(value: float | None, digits: int = 1) -> str:
    return number(value, digits)


def print_report(report: FlowReport, console: Console) -> None:
    doc = report.to_dict()
    console.print(f"[bold]Flow of {safe(report.source)}[/bold]  (as of {report.as_of})")
    console.print(convention_line(doc["conventions"]))
    if report.unmapped_states:
        console.print(
            "[yellow]States the workflow does not name (counted as not started):[/yellow] "
            + safe(", ".join(report.unmapped_states))
        )

    items = PlainTable(title="Items", show_header=True)
    for key in ("total", "started", "finished", "in_progress", "not_started"):
        items.add_column(key.replace("_", " "), justify="right")
    items.add_row(*(count(doc["items"][k]) for k in doc["items"]))
    console.print(items)

    times = PlainTable(title="Cycle and lead time (days)")
    times.add_column("")
    for key in ("p50", "p70", "p85", "p95", "mean", "count"):
        times.add_column(key, justify="right")
    for label, dist in (
        ("cycle time", doc["cycle_time_days"]),
        ("lead time", doc["lead_time_days"]),
    ):
        times.add_row(
            label,
            *(_num(dist[k]) for k in ("p50", "p70", "p85", "p95", "mean")),
            count(dist["count"]),
        )
    console.print(times)

    ff = doc["flow_framework"]
    summary = PlainTable(title="Flow", show_header=False)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    efficiency = doc["flow_efficiency"]
    # Shares as the stream page and the PDF report show them (obeya.render.numbers.share).
    summary.add_row("flow efficiency", share(efficiency))
    summary.add_row("flow velocity (items/week)", _num(ff["velocity_per_week"]))
    summary.add_row("flow load (WIP now)", count(ff["load"]))
    bands = doc["aging_wip"]["bands"]
    summary.add_row(
        "aging WIP beyond p85 cycle time", count(bands["p85_to_p95"] + bands["above_p95"])
    )
    for kind, part in ff["distribution"].items():
        summary.add_row(f"distribution: {kind}", share(part))
    quality = doc["quality"]
    if quality is not None and quality["reopen_rate"] is not None:
        summary.add_row(
            "reopened (of finished items)",
            f"{count(quality['reopened_items'])} of {count(quality['finished'])} "
            f"({share(quality['reopen_rate'])})",
        )
    if quality is not None and quality["defect_share"] is not None:
        summary.add_row(
            "defects (of finished items with a type)",
            f"{count(quality['defect_items'])} of {count(quality['typed_items'])} "
            f"({share(quality['defect_share'])})",
        )
    if report.blocked is not None:
        summary.add_row("blocked (share of cycle time)", _blocked_line(doc["blocked"]))
    console.print(summary)

    weeks = list(doc["throughput_weekly"].items())[-12:]
    if weeks:
        tp = PlainTable(title="Throughput, last 12 weeks (week of Monday)")
        tp.add_column("week")
        tp.add_column("finished", justify="right")
        tp.add_column("WIP at week end", justify="right")
        wip = doc["wip_daily"]
        for week, n in weeks:
            tp.add_row(week, count(n), _week_end_wip(wip, week))
        console.print(tp)

    tis = PlainTable(title="Time in state (hours, per item, completed visits)")
    tis.add_column("state")
    tis.add_column("median", justify="right")
    tis.add_column("p85", justify="right")
    tis.add_column("items", justify="right")
    for state, row in doc["time_in_state_hours"].items():
        tis.add_row(state, _num(row["median"]), _num(row["p85"]), count(row["items"]))
    console.print(tis)


def _blocked_line(blocked: dict[str, Any]) -> str:
    """``12.5 % · 3 of 10 items, p85 4.2 days · 2 blocked now``."""
    days = blocked["days"]
    return (
        f"{share(blocked['share_of_cycle_time'], None)} · {count(blocked['items_blocked'])} of "
        f"{count(blocked['finished_items'])} items, p85 {_num(days['p85'])} days · "
        f"{count(len(blocked['now']))} blocked now"
    )


def _week_end_wip(wip: dict[str, Any], monday: str) -> str:
    from datetime import date, timedelta

    end = (date.fromisoformat(monday) + timedelta(days=6)).isoformat()
    candidates = [d for d in wip if d <= end]
    return count(wip[max(candidates)]) if candidates else DASH
