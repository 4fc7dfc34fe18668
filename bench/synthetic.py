"""Synthetic work-item logs, as large as the benchmark needs, shaped like a real tracker's.

Real logs (BPIC 2013: 65k events) are far too small to show how Obeya scales, and a uniform
random log would flatter it: the engine's cost depends on the things real logs have, such as
long-tailed durations, items that loop back (rework, bugs found in test, reopened items),
items that never start, items still open at export, and the odd timestamp tie. This generator
produces those, vectorised with numpy, so 1M items (~12M events) take seconds.

Model: every item arrives in *To Do* (weekday-heavy arrivals over two years, slowly growing),
then moves as a Markov chain over *To Do → In Progress → In Review → Ready for Test → Testing
→ Done*, with loops: blocked (and back to the state it left), review rework (In Review → In
Progress), bugs found in test (Testing → In Progress), deprioritised (In Progress → To Do), and
reopened (Done → In Progress). Some items close straight from To Do, some are never started.
Each stay lasts a lognormal time that depends on the state and the item type. The log is cut
at the export time, which leaves the recent items unfinished.

The loop probabilities share one scale factor, solved so that the *expected* number of events
per item (from the chain's fundamental matrix, before the cut at export) hits
``--events-per-item``; the cut lowers the actual figure slightly, and the CLI prints it.

CLI: ``python bench/synthetic.py --items 100000 --out /tmp/x.csv`` (``.csv.gz`` gzips) writes
``item_id,state,timestamp,type`` rows (ISO 8601 UTC, ``Z``), item by item in time order, and
the workflow beside it (``/tmp/x.workflow.toml``).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

#: Event labels, as written to the file.
STATES = ("To Do", "In Progress", "In Review", "Ready for Test", "Testing", "Done", "Blocked")
TODO, IN_PROGRESS, IN_REVIEW, READY_FOR_TEST, TESTING, DONE, BLOCKED = range(len(STATES))

WORKFLOW_TOML = """\
# Workflow of the synthetic benchmark log (bench/synthetic.py).
backlog = ["To Do"]
active = ["In Progress", "In Review", "Testing"]
waiting = ["Blocked", "Ready for Test"]
done = ["Done"]
order = ["To Do", "In Progress", "Blocked", "In Review", "Ready for Test", "Testing", "Done"]
"""

TYPES = ("story", "bug", "task", "debt")
TYPE_SHARE = (0.45, 0.30, 0.15, 0.10)
#: Bugs and tasks move faster than stories; debt lingers.
TYPE_PACE = np.array([1.0, 0.6, 0.7, 1.4])

# Chain states: the six workflow states, then "Blocked" split by the state it interrupted so
# that an item returns to where it was (the file just says "Blocked").
N_CHAIN = 10
BLOCKED_FROM = {IN_PROGRESS: 6, IN_REVIEW: 7, READY_FOR_TEST: 8, TESTING: 9}
END = N_CHAIN  # absorbing: no further event
LABEL = np.array([TODO, IN_PROGRESS, IN_REVIEW, READY_FOR_TEST, TESTING, DONE] + [BLOCKED] * 4)

#: Median stay (hours) and lognormal sigma per chain state (blocked stays share one law).
MEDIAN_HOURS = np.array([72.0, 30.0, 8.0, 16.0, 10.0, 120.0, 40.0, 40.0, 40.0, 40.0])
SIGMA = np.array([1.3, 1.0, 1.1, 1.0, 0.9, 1.0, 1.1, 1.1, 1.1, 1.1])

NEVER_STARTED = 0.06  # To Do → gone (stays in the backlog for good)
CLOSED_UNWORKED = 0.02  # To Do → Done (duplicate, won't do: skips every active state)
TRIVIAL = 0.02  # In Progress → Done (no review, no test)
TIE_SHARE = 0.0005  # stays of zero length (an automation moving two states at once)

#: Loop transitions at scale 1 (from, to): probability. ``scale`` multiplies them all.
LOOPS = {
    (IN_PROGRESS, BLOCKED_FROM[IN_PROGRESS]): 0.25,
    (IN_PROGRESS, TODO): 0.03,
    (IN_REVIEW, IN_PROGRESS): 0.30,
    (IN_REVIEW, BLOCKED_FROM[IN_REVIEW]): 0.10,
    (READY_FOR_TEST, BLOCKED_FROM[READY_FOR_TEST]): 0.15,
    (TESTING, IN_PROGRESS): 0.20,
    (TESTING, BLOCKED_FROM[TESTING]): 0.10,
    (DONE, IN_PROGRESS): 0.08,
}
FORWARD = {IN_PROGRESS: IN_REVIEW, IN_REVIEW: READY_FOR_TEST, READY_FOR_TEST: TESTING}
FORWARD[TESTING] = DONE


def transition_matrix(scale: float) -> npt.NDArray[np.float64]:
    """Row-stochastic matrix over the chain states plus END, for a loop scale factor."""
    p = np.zeros((N_CHAIN + 1, N_CHAIN + 1))
    p[TODO, END] = NEVER_STARTED
    p[TODO, DONE] = CLOSED_UNWORKED
    p[TODO, IN_PROGRESS] = 1 - NEVER_STARTED - CLOSED_UNWORKED
    p[IN_PROGRESS, DONE] = TRIVIAL
    for (src, dst), base in LOOPS.items():
        p[src, dst] += base * scale
    for src, dst in FORWARD.items():
        p[src, dst] += 1 - p[src].sum()
    p[DONE, END] = 1 - p[DONE].sum()
    for src, blocked in BLOCKED_FROM.items():
        p[blocked, src] = 1.0
    p[END, END] = 1.0
    if (p < 0).any():
        raise ValueError(f"loop scale {scale:.2f} makes a transition probability negative")
    return p


def expected_events(scale: float) -> float:
    """Expected events per item: visits to transient states, from the fundamental matrix."""
    q = transition_matrix(scale)[:N_CHAIN, :N_CHAIN]
    visits = np.linalg.inv(np.eye(N_CHAIN) - q)
    return float(visits[TODO].sum())


def loop_scale_for(events_per_item: float) -> float:
    """The loop scale whose expected events per item is the target (bisection: monotone)."""
    low, high = 0.0, 1.0
    while True:  # the largest scale that keeps every probability valid
        try:
            transition_matrix(high * 2)
        except ValueError:
            break
        high *= 2
    limit = high
    for _ in range(60):
        try:
            transition_matrix(limit * 1.01)
            limit *= 1.01
        except ValueError:
            break
    if not expected_events(0.0) <= events_per_item <= expected_events(limit * 0.999):
        raise ValueError(
            f"--events-per-item must be between {expected_events(0.0):.1f} and "
            f"{expected_events(limit * 0.999):.0f}"
        )
    low, high = 0.0, limit * 0.999
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if expected_events(mid) < events_per_item else (low, mid)
    return (low + high) / 2


@dataclass(frozen=True)
class SyntheticLog:
    """Events item by item, in time order: item number, state label, UTC seconds."""

    item: npt.NDArray[np.int32]
    state: npt.NDArray[np.int8]
    t: npt.NDArray[np.int64]
    item_type: npt.NDArray[np.int8]  # per item
    export: int  # UTC seconds; the log is cut here

    @property
    def num_events(self) -> int:
        return len(self.item)


def generate(
    items: int,
    *,
    seed: int = 42,
    events_per_item: float = 13.5,
    start: date = date(2023, 1, 2),
    days: int = 730,
) -> SyntheticLog:
    """Simulate ``items`` items in lockstep: each round moves every item still open one step."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(transition_matrix(loop_scale_for(events_per_item)), axis=1)
    origin = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    export = origin + days * 86_400

    # Arrivals: weekdays far busier than weekends, volume growing ~2x over the period.
    day = np.arange(days)
    weekday = (start.weekday() + day) % 7
    weight = np.where(weekday < 5, 1.0, 0.15) * np.linspace(0.7, 1.3, days)
    arrival_day = rng.choice(days, size=items, p=weight / weight.sum())
    arrival = origin + arrival_day * 86_400 + rng.integers(7 * 3_600, 17 * 3_600, size=items)
    item_type = rng.choice(len(TYPES), size=items, p=TYPE_SHARE).astype(np.int8)
    pace = TYPE_PACE[item_type]
    mu = np.log(MEDIAN_HOURS * 3_600.0)

    rounds_item = [np.arange(items, dtype=np.int32)]
    rounds_state = [np.full(items, TODO, dtype=np.int8)]
    rounds_t = [arrival.astype(np.int64)]
    open_items = np.arange(items)
    chain_state = np.zeros(items, dtype=np.int64)
    t = arrival.astype(np.int64)
    tied_last = np.zeros(items, dtype=bool)  # two ties in a row could duplicate an event
    while open_items.size:
        rows = cumulative[chain_state]
        nxt = (rng.random(open_items.size)[:, None] >= rows).sum(axis=1)
        stay = rng.lognormal(mu[chain_state], SIGMA[chain_state]) * pace[open_items]
        tie = (rng.random(open_items.size) < TIE_SHARE) & ~tied_last
        stay = np.where(tie, 0.0, np.maximum(stay, 1.0))
        t = t + stay.astype(np.int64)
        keep = (nxt != END) & (t < export)
        open_items, chain_state, t, tied_last = open_items[keep], nxt[keep], t[keep], tie[keep]
        rounds_item.append(open_items.astype(np.int32))
        rounds_state.append(LABEL[chain_state].astype(np.int8))
        rounds_t.append(t)

    item = np.concatenate(rounds_item)
    order = np.argsort(item, kind="stable")  # rounds are already in time order per item
    return SyntheticLog(
        item=item[order],
        state=np.concatenate(rounds_state)[order],
        t=np.concatenate(rounds_t)[order],
        item_type=item_type,
        export=export,
    )


def to_arrow(log: SyntheticLog, prefix: str = "OBY-") -> pa.Table:
    """The log as the four text columns of the CSV (formatting done by Arrow, in C++)."""
    n_items = len(log.item_type)
    ids = pc.binary_join_element_wise(
        pa.array([prefix] * n_items), pc.cast(pa.array(np.arange(1, n_items + 1)), pa.string()), ""
    )
    # Arrow's cast renders "YYYY-MM-DD HH:MM:SS" 20x faster than its strftime; make it ISO 8601.
    text = pc.cast(pa.array(log.t, type=pa.timestamp("s")), pa.string())
    stamps = pc.utf8_replace_slice(text, start=10, stop=11, replacement="T")
    return pa.table(
        {
            "item_id": ids.take(pa.array(log.item)),
            "state": pa.array(STATES).take(pa.array(log.state)),
            "timestamp": pc.binary_join_element_wise(stamps, "Z", ""),
            "type": pa.array(TYPES).take(pa.array(log.item_type[log.item])),
        }
    )


def write(log: SyntheticLog, out: Path, workflow: Path | None = None) -> Path:
    """Write the CSV (gzipped if ``out`` ends in ``.gz``) and the workflow; return the latter."""
    table = to_arrow(log)
    # No quotes: no value holds a comma, a quote or a line break (Arrow checks and refuses).
    options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 20)
    out.parent.mkdir(parents=True, exist_ok=True)
    compression = "gzip" if out.name.endswith(".gz") else None
    with pa.output_stream(str(out), compression=compression) as sink:
        sink.write(",".join(table.column_names).encode() + b"\n")
        pacsv.write_csv(table, sink, write_options=options)
    workflow = workflow or workflow_path_for(out)
    workflow.write_text(WORKFLOW_TOML, encoding="utf-8")
    return workflow


def workflow_path_for(out: Path) -> Path:
    """``x.csv`` / ``x.csv.gz`` → ``x.workflow.toml``."""
    stem = out.name.removesuffix(".gz").removesuffix(".csv")
    return out.with_name(f"{stem}.workflow.toml")


def describe(log: SyntheticLog) -> dict[str, float]:
    """Figures to check the log is shaped as intended (printed by the CLI)."""
    n_items = len(log.item_type)
    last = np.r_[log.item[1:] != log.item[:-1], True]
    started = np.zeros(n_items, dtype=bool)
    np.logical_or.at(started, log.item, log.state != TODO)
    same_item = log.item[1:] == log.item[:-1]
    done_entries = np.bincount(log.item[log.state == DONE], minlength=n_items)
    finished = np.zeros(n_items, dtype=bool)
    finished[log.item[last]] = log.state[last] == DONE
    return {
        "items": n_items,
        "events": log.num_events,
        "events_per_item": log.num_events / n_items,
        "max_events_per_item": int(np.bincount(log.item).max()),
        "finished_share": float(finished.mean()),
        "never_started_share": float(1 - started.mean()),
        "reopened_share": float(((done_entries > 1) | ((done_entries == 1) & ~finished)).mean()),
        "timestamp_ties": int((same_item & (log.t[1:] == log.t[:-1])).sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True, help="CSV path (.csv or .csv.gz)")
    parser.add_argument("--workflow", type=Path, help="default: beside --out, .workflow.toml")
    parser.add_argument("--events-per-item", type=float, default=13.5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 2))
    parser.add_argument("--days", type=int, default=730, help="span of the arrivals")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    log = generate(
        args.items,
        seed=args.seed,
        events_per_item=args.events_per_item,
        start=args.start,
        days=args.days,
    )
    simulated = time.perf_counter()
    workflow = write(log, args.out, args.workflow)
    written = time.perf_counter()
    for key, value in describe(log).items():
        print(f"{key:>20}: {value:,.3f}" if isinstance(value, float) else f"{key:>20}: {value:,}")
    print(f"{'files':>20}: {args.out}, {workflow}")
    print(f"{'seconds':>20}: simulate {simulated - began:.1f}, write {written - simulated:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
