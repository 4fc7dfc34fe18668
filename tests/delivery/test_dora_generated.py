"""A generated history (a few hundred deployments, changes and incidents) written to CSV, read
back and reported, against an independent pandas computation of every figure."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from obeya.core.delivery.dora import dora_report
from obeya.ingest.delivery import read_delivery

START = pd.Timestamp("2024-03-01T00:00:00Z")
SPAN_SECONDS = 120 * 86_400


def _stamp(moment: pd.Timestamp, style: int) -> str:
    """Mixed spellings, all UTC: ``Z``, naive (UTC), or an offset of +02:00."""
    if style == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == 1:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return (moment + pd.Timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")


def generate(tmp_path: Path, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_dep, n_chg, n_inc = 300, 700, 160
    finished = START + pd.to_timedelta(rng.integers(0, SPAN_SECONDS, n_dep), unit="s")
    deployments = pd.DataFrame(
        {
            "deployment_id": [f"d{i}" for i in range(n_dep)],
            "environment": rng.choice(
                ["production", "Production", " PRODUCTION ", "staging"],
                n_dep,
                p=[0.6, 0.1, 0.1, 0.2],
            ),
            "finished_at": finished,
            "result": rng.choice(["success", "SUCCESS", "failure"], n_dep, p=[0.7, 0.15, 0.15]),
        }
    )
    # Changes: most on a random deployment, some on an id no file holds; committed up to five
    # days before (a few after: data, kept).
    on = rng.integers(0, n_dep, n_chg)
    unknown = rng.random(n_chg) < 0.05
    lead_seconds = rng.integers(-3_600, 5 * 86_400, n_chg)
    changes = pd.DataFrame(
        {
            "change_id": [f"c{i}" for i in range(n_chg)],
            "deployment_id": np.where(
                unknown, [f"x{i}" for i in on], deployments.deployment_id.to_numpy()[on]
            ),
            "committed_at": deployments.finished_at.iloc[on].reset_index(drop=True)
            - pd.to_timedelta(lead_seconds, unit="s"),
        }
    )
    # Incidents: created across the span and a little before it; 40 % name a deployment (any,
    # counted or not); 20 % unresolved.
    created = START + pd.to_timedelta(rng.integers(-3 * 86_400, SPAN_SECONDS, n_inc), unit="s")
    resolved = created + pd.to_timedelta(rng.integers(60, 10 * 86_400, n_inc), unit="s")
    cause = np.where(
        rng.random(n_inc) < 0.4,
        deployments.deployment_id.to_numpy()[rng.integers(0, n_dep, n_inc)],
        "",
    )
    incidents = pd.DataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n_inc)],
            "created_at": created,
            "resolved_at": pd.Series(resolved).where(rng.random(n_inc) >= 0.2),
            "deployment_id": cause,
        }
    )

    styles = rng.integers(0, 3, 3 * max(n_dep, n_chg, n_inc))
    with (tmp_path / "d.csv").open("w") as out:
        out.write("deployment_id,environment,finished_at,result\n")
        for k, r in enumerate(deployments.itertuples()):
            out.write(
                f"{r.deployment_id},{r.environment},{_stamp(r.finished_at, styles[k])},{r.result}\n"
            )
    with (tmp_path / "c.csv").open("w") as out:
        out.write("change_id,committed_at,deployment_id\n")
        for k, r in enumerate(changes.itertuples()):
            out.write(f"{r.change_id},{_stamp(r.committed_at, styles[k])},{r.deployment_id}\n")
    with (tmp_path / "i.csv").open("w") as out:
        out.write("incident_id,created_at,resolved_at,deployment_id\n")
        for k, r in enumerate(incidents.itertuples()):
            end = "" if pd.isna(r.resolved_at) else _stamp(r.resolved_at, styles[-k])
            out.write(
                f"{r.incident_id},{_stamp(r.created_at, styles[k])},{end},{r.deployment_id}\n"
            )
    return deployments, changes, incidents


def expected(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    since: date | None,
    until: date | None,
) -> dict[str, Any]:
    """The report, computed with pandas from the definitions in docs/conventions.md."""
    counts = deployments.environment.str.strip().str.lower().eq(
        "production"
    ) & deployments.result.str.strip().str.lower().eq("success")
    counted = deployments[counts].copy()
    counted["day"] = counted.finished_at.dt.tz_convert("UTC").dt.date
    since = since or counted.day.min()
    until = until or counted.day.max()
    days = (until - since).days + 1
    weeks = days / 7
    window = counted[(counted.day >= since) & (counted.day <= until)]

    # Change failure rate: the named counted deployment, else the latest counted one finished
    # strictly before the incident was created.
    named = incidents[incidents.deployment_id != ""]
    failed_ids = set(named.deployment_id[named.deployment_id.isin(counted.deployment_id)])
    unnamed = incidents[incidents.deployment_id == ""].sort_values("created_at")
    attributed = pd.merge_asof(
        unnamed,
        counted.sort_values("finished_at")[["finished_at", "deployment_id"]].rename(
            columns={"deployment_id": "blamed"}
        ),
        left_on="created_at",
        right_on="finished_at",
        direction="backward",
        allow_exact_matches=False,
    )
    failed_ids |= set(attributed.blamed.dropna())
    window = window.assign(failed=window.deployment_id.isin(failed_ids))

    shipped = changes.merge(window[["deployment_id", "finished_at", "day"]], on="deployment_id")
    shipped["hours"] = (shipped.finished_at - shipped.committed_at) / pd.Timedelta(hours=1)

    recent = incidents[
        (incidents.created_at.dt.date >= since) & (incidents.created_at.dt.date <= until)
    ].copy()
    recent["day"] = recent.created_at.dt.date
    resolved = recent.dropna(subset=["resolved_at"]).copy()
    resolved["hours"] = (resolved.resolved_at - resolved.created_at) / pd.Timedelta(hours=1)

    def monday(day: pd.Series) -> pd.Series:
        stamps = pd.to_datetime(day)
        return (stamps - pd.to_timedelta(stamps.dt.weekday, unit="D")).dt.date

    def quantile(values: pd.Series, q: float) -> float | None:
        return None if values.empty else float(values.quantile(q))

    first_monday = since - pd.Timedelta(days=since.weekday())
    mondays = [d.date() for d in pd.date_range(first_monday, until, freq="7D")]
    by_week = window.groupby(monday(window.day))
    lead_week = shipped.groupby(monday(shipped.day)).hours.median()
    rec_week = resolved.groupby(monday(resolved.day)).hours.median()
    weekly = [
        {
            "week": m.isoformat(),
            "deployments": int(by_week.size().get(m, 0)),
            "failed_deployments": int(by_week.failed.sum().get(m, 0)),
            "lead_time_for_changes_hours_p50": lead_week.get(m),
            "recovery_time_hours_p50": rec_week.get(m),
        }
        for m in mondays
    ]
    n = len(window)
    return {
        "window": {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "days": days,
            "weeks": weeks,
        },
        "deployment_frequency": {
            "days_per_week": window.day.nunique() / weeks,
            "per_day": n / days,
            "deployments": n,
            "days_with_deployments": window.day.nunique(),
        },
        "lead_time_for_changes_hours": {
            "p50": quantile(shipped.hours, 0.5),
            "p85": quantile(shipped.hours, 0.85),
            "changes": len(shipped),
        },
        "change_failure_rate": int(window.failed.sum()) / n if n else None,
        "failed_deployments": int(window.failed.sum()),
        "recovery_time_hours": {
            "p50": quantile(resolved.hours, 0.5),
            "p85": quantile(resolved.hours, 0.85),
            "incidents": len(resolved),
            "unresolved": int(recent.resolved_at.isna().sum()),
        },
        "unmatched_changes": int((~changes.deployment_id.isin(deployments.deployment_id)).sum()),
        "weekly": weekly,
    }


def approx(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [approx(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-9, abs=1e-6)
    return value


@pytest.mark.parametrize(
    ("seed", "since", "until"),
    [
        (1, None, None),
        (2, None, None),
        (3, date(2024, 3, 20), date(2024, 5, 9)),
        (4, date(2024, 2, 25), None),
    ],
)
def test_against_pandas(tmp_path: Path, seed: int, since: date | None, until: date | None) -> None:
    deployments, changes, incidents = generate(tmp_path, seed)
    history = read_delivery(tmp_path / "d.csv", tmp_path / "c.csv", tmp_path / "i.csv")
    doc = dora_report(history, since=since, until=until).to_dict()
    want = expected(deployments, changes, incidents, since, until)
    bands = doc.pop("bands")
    assert doc == approx(want)
    assert set(bands) == {
        "deployment_frequency",
        "lead_time_for_changes",
        "change_failure_rate",
        "recovery_time",
    }
    # The data are not degenerate: every rule had something to act on.
    assert 0 < want["failed_deployments"] < want["deployment_frequency"]["deployments"]
    assert want["unmatched_changes"] > 0
    assert want["recovery_time_hours"]["unresolved"] > 0
    assert len(want["weekly"]) >= 7
