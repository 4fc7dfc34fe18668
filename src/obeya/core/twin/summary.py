"""A twin and a twin's run as documents: what ``obeya calibrate --json`` and ``obeya simulate
TWIN.toml --json`` print, what the API returns and the page shows (one shape, made here)."""

from __future__ import annotations

from typing import Any

import numpy as np

from obeya.core.shares import percent_of
from obeya.core.twin.engine import TwinRun
from obeya.core.twin.load import step_loads
from obeya.core.twin.measure import (
    UNFINISHED_WARNING,
    longer_run_days,
    run_windows,
    unfinished_share,
)
from obeya.core.twin.model import Twin


def twin_summary(twin: Twin) -> dict[str, Any]:
    """What the twin holds, in a page's or a reader's terms (the JSON of ``calibrate``)."""
    loads = {load.name: load for load in step_loads(twin)}
    return {
        "name": twin.name,
        "as_of": twin.as_of_time.isoformat().replace("+00:00", "Z"),
        "fitted": twin.fitted,
        "items_in_progress": sum(1 for i in twin.items if twin.state(i.state).kind != "done"),
        "items_lately_done": sum(1 for i in twin.items if twin.state(i.state).kind == "done"),
        "arrivals_per_day": twin.arrivals.per_week / 7,
        "arrivals_evidence": twin.arrivals.evidence,
        "working_hours_per_week": twin.calendar.hours_per_week,
        "calendar_evidence": twin.calendar.evidence,
        "steps": [
            {
                "name": s.name,
                "people": s.people,
                "items_per_person": s.items_per_person,
                "rule": s.rule,
                "evidence": s.evidence,
                "visits_per_item": loads[s.name].visits_per_item,
                "work_hours_per_visit": loads[s.name].work_hours_per_visit,
                "utilisation": loads[s.name].utilisation,
            }
            for s in twin.steps
        ],
        "states": [
            {
                "name": s.name,
                "kind": s.kind,
                "step": s.step,
                "visits": s.visits,
                "median_hours": float(np.median(s.hours)) if s.hours else None,
                "next": dict(s.next),
                "release": {
                    "weekdays": list(s.release_weekdays),
                    "hour": s.release_hour,
                }
                if s.release_weekdays
                else None,
                "evidence": s.evidence,
            }
            for s in twin.states
        ],
    }


def run_summary(run: TwinRun) -> dict[str, Any]:
    """A run's figures, the mean over replications (lead times pooled)."""
    windows = run_windows(run)
    pooled = np.concatenate([w.finished_lead_times_days for w in windows])
    unfinished = unfinished_share(windows)
    hours = run.twin.calendar.working(run.end) - run.twin.calendar.working(run.twin.as_of)
    return {
        "twin": run.twin.name,
        "as_of": run.twin.as_of_time.isoformat().replace("+00:00", "Z"),
        "days": run.days,
        "seed": run.seed,
        "replications": len(run.replications),
        "items_in_progress": sum(
            1 for i in run.twin.items if run.twin.state(i.state).kind != "done"
        ),
        "lead_time_days": {
            "p50": float(np.percentile(pooled, 50)) if pooled.size else None,
            "p85": float(np.percentile(pooled, 85)) if pooled.size else None,
            "mean": float(pooled.mean()) if pooled.size else None,
            "items": int(pooled.size),
        },
        "unfinished_share": unfinished,
        "warnings": [
            f"{percent_of(unfinished)} of the items that started in the run had not finished by "
            f"its end: a longer run (at least {longer_run_days(windows, run.days):.0f} days) "
            "shows how long they take"
        ]
        if unfinished > UNFINISHED_WARNING
        else [],
        "throughput_per_day": float(np.mean([w.throughput_per_day for w in windows])),
        "wip": float(np.mean([w.wip_mean for w in windows])),
        "steps": [
            {
                "name": s.name,
                "people": s.people,
                "servers": s.servers,
                "utilisation": float(
                    np.mean([r.busy_hours[k] for r in run.replications]) / (s.servers * hours)
                )
                if hours
                else None,
            }
            for k, s in enumerate(run.twin.steps)
        ],
    }
