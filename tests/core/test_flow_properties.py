"""Invariants of flow that hold for any history (hypothesis), and Little's law."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obeya.core.events import MICROS_PER_DAY, EventLog
from obeya.core.metrics import FlowFilter
from obeya.core.workflow import Workflow

pytestmark = pytest.mark.slow  # Hypothesis: hundreds of logs (`make test`, not `make check`)

WORKFLOW = Workflow.from_toml_text(
    'backlog = ["To Do"]\nactive = ["Doing"]\nwaiting = ["Blocked"]\ndone = ["Done"]\n'
)
STATES = ["To Do", "Doing", "Blocked", "Done"]
START = 1_700_000_000 * 1_000_000  # 2023-11-14


@st.composite
def histories(draw: st.DrawFn) -> EventLog:
    """Random items, each a random walk over the states at random (sometimes tied) times."""
    items = draw(st.integers(1, 12))
    item_ids, states, times = [], [], []
    for i in range(items):
        steps = draw(st.integers(1, 7))
        t = START + draw(st.integers(0, 20)) * MICROS_PER_DAY // 2
        for _ in range(steps):
            item_ids.append(f"I{i}")
            states.append(draw(st.sampled_from(STATES)))
            times.append(t)
            t += draw(st.sampled_from([0, MICROS_PER_DAY // 3, MICROS_PER_DAY, 3 * MICROS_PER_DAY]))
    table = pa.table(
        {"item_id": item_ids, "state": states, "t": times, "seq": list(range(len(times)))}
    )
    # Drop exact duplicates (same item, state and time), which a reader would refuse.
    keys = list(zip(item_ids, states, times, strict=True))
    keep = [i for i, k in enumerate(keys) if k not in keys[:i]]
    return EventLog.from_table(table.take(keep))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(log=histories())
def test_cumulative_flow_never_decreases(analyse, log: EventLog) -> None:
    cfd = analyse(log, WORKFLOW, detail=False).cumulative_flow
    for state in cfd.states:
        counts = cfd.counts[state]
        assert all(a <= b for a, b in itertools.pairwise(counts)), state
    # A later band never holds more items than an earlier one.
    for upper, lower in zip(cfd.states, cfd.states[1:], strict=False):
        assert all(u >= v for u, v in zip(cfd.counts[upper], cfd.counts[lower], strict=True))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(log=histories())
def test_wip_is_started_minus_finished(analyse, log: EventLog) -> None:
    r = analyse(log, WORKFLOW, detail=True)
    finishes = {s["item_id"]: date.fromisoformat(s["finished"]) for s in r.scatter}
    # Starts from the per-item view: recompute from the events by hand.
    starts: dict[str, date] = {}
    rows = sorted(log.table.to_pylist(), key=lambda e: (e["t"], e["seq"]))
    for e in rows:
        if e["state"] != "To Do" and e["item_id"] not in starts:
            starts[e["item_id"]] = date(1970, 1, 1) + timedelta(days=e["t"] // MICROS_PER_DAY)
    for day_text, wip in r.wip_daily.items():
        day = date.fromisoformat(day_text)
        started = sum(1 for d in starts.values() if d <= day)
        finished = sum(1 for d in finishes.values() if d <= day)
        assert wip == started - finished, day_text
    assert r.items.started == len(starts)


def stable_stream(days: int, rate: float, mean_cycle: float, seed: int) -> EventLog:
    """Poisson arrivals; each item starts on arrival and finishes after an exponential time."""
    rng = np.random.default_rng(seed)
    n = rng.poisson(rate * days)
    arrive = np.sort(rng.uniform(0, days, n))
    finish = arrive + rng.exponential(mean_cycle, n)
    ids = np.array([f"S{i}" for i in range(n)], dtype=object)
    item = np.repeat(ids, 2)
    state = np.tile(np.array(["Doing", "Done"], dtype=object), n)
    t = np.column_stack([arrive, finish]).ravel() * MICROS_PER_DAY + START
    table = pa.table(
        {
            "item_id": pa.array(item, pa.string()),
            "state": pa.array(state, pa.string()),
            "t": pa.array(t.astype(np.int64)),
            "seq": pa.array(np.arange(2 * n, dtype=np.int64)),
        }
    )
    return EventLog.from_table(table)


def test_littles_law_on_a_stable_stream(analyse) -> None:
    # lambda = 4 items/day, W = 5 days -> L = 20 items in progress on average.
    log = stable_stream(days=1500, rate=4.0, mean_cycle=5.0, seed=7)
    first = date(2023, 11, 14) + timedelta(days=200)
    last = first + timedelta(days=1000)
    r = analyse(log, WORKFLOW, FlowFilter(since=first, until=last), detail=False)
    wip = np.mean(list(r.wip_daily.values()))
    throughput = r.items.finished / 1001
    cycle = r.cycle_time_days.mean
    assert cycle is not None
    assert wip == pytest.approx(throughput * cycle, rel=0.05)
    assert wip == pytest.approx(20.0, rel=0.1)
