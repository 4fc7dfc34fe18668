"""The directly-follows graph with performance: by hand, and against pm4py's performance DFG
on the real logs (pm4py is AGPL: a peer in tests only, never imported by Obeya itself)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

from obeya.core.events import EventLog
from obeya.core.maps.transitions import directly_follows
from obeya.ingest import ColumnMap, read_events

from support import DATASETS, REPO


def test_by_hand() -> None:
    # a: x -1h-> y -2h-> z ; b: x -24h-> z ; ties keep file order: c: x, y at one instant.
    log = EventLog.from_rows(
        [
            ("a", "x", "2024-01-01T00:00:00"),
            ("a", "y", "2024-01-01T01:00:00"),
            ("a", "z", "2024-01-01T03:00:00"),
            ("b", "x", "2024-01-01T00:00:00"),
            ("b", "z", "2024-01-02T00:00:00"),
            ("c", "y", "2024-01-03T00:00:00"),
            ("c", "x", "2024-01-03T00:00:00"),
        ]
    )
    got = {
        (t.source, t.target): (t.count, t.mean_hours, t.median_hours) for t in directly_follows(log)
    }
    assert got == {
        ("x", "y"): (1, 1.0, 1.0),
        ("y", "z"): (1, 2.0, 2.0),
        ("x", "z"): (1, 24.0, 24.0),
        ("y", "x"): (1, 0.0, 0.0),
    }


def pm4py_dfg(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py

        dfg, _, _ = pm4py.discover_performance_dfg(
            frame,
            case_id_key="case:concept:name",
            activity_key="concept:name",
            timestamp_key="time:timestamp",
        )
    return {pair: {k: float(v) for k, v in stats.items()} for pair, stats in dfg.items()}


@pytest.mark.parametrize(
    ("path", "columns"),
    [
        ("bpic2013_incidents_transitions.csv.gz", ColumnMap(item_id="case_id", state="status")),
        ("helpdesk.xes.gz", None),
    ],
)
def test_agrees_with_pm4py(path: str, columns: ColumnMap | None) -> None:
    log = read_events(DATASETS / path, columns=columns)
    table = log.table.to_pandas()
    frame = pd.DataFrame(
        {
            "case:concept:name": table["item_id"],
            "concept:name": table["state"],
            "time:timestamp": pd.to_datetime(table["t"], unit="us", utc=True),
        }
    )
    theirs = pm4py_dfg(frame)
    ours = {(t.source, t.target): t for t in directly_follows(log)}
    assert set(ours) == set(theirs)
    for pair, stats in theirs.items():
        mine = ours[pair]
        assert math.isclose(mine.mean_hours * 3600, stats["mean"], rel_tol=1e-9, abs_tol=1e-6)
        assert math.isclose(mine.median_hours * 3600, stats["median"], rel_tol=1e-9, abs_tol=1e-6)
        assert math.isclose(mine.max_hours * 3600, stats["max"], rel_tol=1e-9, abs_tol=1e-6)


def test_obeya_never_imports_pm4py() -> None:
    sources = (REPO / "src" / "obeya").rglob("*.py")
    offenders = [p for p in sources if "pm4py" in Path(p).read_text(encoding="utf-8")]
    assert offenders == []
