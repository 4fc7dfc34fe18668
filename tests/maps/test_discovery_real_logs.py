"""On the BPIC 2013 incident log, discovery equals an independent computation written here:
each item's events are walked one by one in plain Python, in the words of the conventions in
obeya.core.maps.discovery ("a visit ends at the item's next event outside the step", ...).
Nothing below the fixtures imports Obeya's discovery."""

from __future__ import annotations

import math
import tomllib
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pytest

from obeya.core.maps.discovery import discover
from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap, read_events

from support import DATASETS, SAMPLES, on_postgres

BPIC_CSV = DATASETS / "bpic2013_incidents_transitions.csv.gz"
SAMPLE_WORKFLOW = SAMPLES / "bpic2013_workflow.toml"
COLUMNS = ColumnMap(item_id="case_id", state="status", assignee="resource", team="group")
MICROS_PER_HOUR = 3_600 * 1_000_000

pytestmark = [
    pytest.mark.skipif(not BPIC_CSV.exists(), reason="BPIC 2013 log not available"),
    pytest.mark.slow,  # whole real logs (`make test`, not `make check`)
]


def reference(frame: pd.DataFrame, data: dict[str, Any], stages: bool) -> list[dict[str, Any]]:
    """The step figures of the conventions, one item at a time."""
    category = {s: key for key in ("backlog", "active", "waiting", "done") for s in data[key]}
    counted = {s for s, c in category.items() if c in ("active", "waiting")}
    if stages:
        steps = [
            (name, [s for s in states if s in counted]) for name, states in data["stages"].items()
        ]
        steps = [(name, states) for name, states in steps if states]
    else:
        seen = set(frame["state"])
        steps = [(s, [s]) for s in data["order"] if s in counted and s in seen]
    step_of = {s: k for k, (_, states) in enumerate(steps) for s in states}
    log_first, log_last = int(frame["t"].min()), int(frame["t"].max())

    pt: dict[int, dict[str, int]] = defaultdict(dict)
    lt: dict[int, dict[str, int]] = defaultdict(dict)
    first_ok: dict[int, list[bool]] = defaultdict(list)
    entered: dict[int, set[str]] = defaultdict(set)
    handoffs: dict[int, int] = defaultdict(int)
    waiting: dict[int, int] = defaultdict(int)

    ordered = frame.sort_values(["item_id", "t", "seq"], kind="stable")
    for item, events in ordered.groupby("item_id", sort=False):
        states = list(events["state"])
        times = [int(t) for t in events["t"]]
        people = [p if isinstance(p, str) and p else None for p in events["assignee"]]
        n = len(states)
        # Visits: maximal runs of consecutive events in one step.
        visits: list[tuple[int, int, int]] = []  # (step, first event, last event)
        i = 0
        while i < n:
            k = step_of.get(states[i])
            if k is None:
                i += 1
                continue
            j = i
            while j + 1 < n and step_of.get(states[j + 1]) == k:
                j += 1
            visits.append((k, i, j))
            i = j + 1
        seen_steps: set[int] = set()
        for k, i, j in visits:
            completed = j + 1 < n
            if completed:
                active = sum(
                    times[e + 1] - times[e]
                    for e in range(i, j + 1)
                    if category[states[e]] == "active"
                )
                pt[k][item] = pt[k].get(item, 0) + active
                lt[k][item] = lt[k].get(item, 0) + times[j + 1] - times[i]
            if k not in seen_steps:
                seen_steps.add(k)
                if completed:
                    later = [step_of.get(s) for s in states[j + 1 :]]
                    first_ok[k].append(not any(s is not None and s <= k for s in later))
            if i > 0:
                entered[k].add(item)
                before, now = people[i - 1], people[i]
                if before is not None and now is not None and before != now:
                    handoffs[k] += 1
            for e in range(i, j + 1):
                if category[states[e]] == "waiting":
                    end = times[e + 1] if e + 1 < n else log_last
                    waiting[k] += end - times[e]

    out = []
    for k, (name, states) in enumerate(steps):
        pts, lts = list(pt[k].values()), list(lt[k].values())
        out.append(
            {
                "name": name,
                "states": states,
                "items": len(lts),
                "process_time_hours": float(np.mean(pts)) / MICROS_PER_HOUR if pts else None,
                "lead_time_hours": float(np.mean(lts)) / MICROS_PER_HOUR if lts else None,
                "complete_accurate": sum(first_ok[k]) / len(first_ok[k]) if first_ok[k] else None,
                "complete_accurate_items": len(first_ok[k]),
                "handoffs": handoffs[k] / len(entered[k]) if entered[k] else None,
                "handoff_items": len(entered[k]),
                "inventory_before": waiting[k] / (log_last - log_first),
            }
        )
    return out


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    raw = pd.read_csv(BPIC_CSV)
    out = raw.rename(columns={"case_id": "item_id", "status": "state", "resource": "assignee"})
    stamps = pd.to_datetime(out["timestamp"], utc=True)
    out["t"] = (stamps - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(microseconds=1)
    out["seq"] = range(len(out))
    out["item_id"] = out["item_id"].astype(str)
    return out[["item_id", "state", "t", "seq", "assignee"]]


@pytest.fixture(scope="module")
def log() -> Any:
    return read_events(BPIC_CSV, columns=COLUMNS)


def same(a: Any, b: Any, path: str) -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None, f"{path}: {a} vs {b}"
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {a} vs {b}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


@pytest.mark.parametrize("stages", [True, False], ids=["stages", "states"])
def test_discovery_equals_independent_walk(frame: pd.DataFrame, log: Any, stages: bool) -> None:
    data = tomllib.loads(SAMPLE_WORKFLOW.read_text())
    if not stages:
        data.pop("stages")
    ours = discover(log, Workflow.from_mapping(data)).to_dict()
    ref = reference(frame, data, stages)
    assert [s["name"] for s in ours["steps"]] == [s["name"] for s in ref]
    assert ours["handoff_column"] == "assignee"
    for mine, theirs in zip(ours["steps"], ref, strict=True):
        for key, value in theirs.items():
            same(mine[key], value, f"{theirs['name']}.{key}")
    if stages:  # the sample's Close stage holds only done states: two steps
        assert [s["name"] for s in ref] == ["Triage", "Resolve"]
        assert all(s["items"] > 1000 for s in ref)


@pytest.mark.skipif(not on_postgres(), reason="only when the suite runs against PostgreSQL")
def test_postgres_agrees_with_duckdb(log: Any) -> None:
    from core.conftest import assert_same, postgres_backend

    workflow = Workflow.from_toml(SAMPLE_WORKFLOW)
    con = postgres_backend()
    try:
        on_server = discover(log, workflow, backend=con).to_dict()
    finally:
        con.disconnect()
    assert_same(on_server, discover(log, workflow).to_dict())
