"""The figures of a window of time, measured the same way on a log and on a twin's run.

One function reads events (item, time, whether the state is started, whether it is done) and
applies the flow conventions (docs/conventions.md): an item starts at its first event in a
started state and finishes at its last event when that event is in a done state. Over a window
``(start, end]`` it gives the **throughput** (finishes in the window per day), the **lead
times** of the items that started in the window and finished by its end, and the **mean WIP**
(items started and not finished, time-averaged over the window). The real side reads the log's
events up to ``end``; the simulated side reads the run's events plus, for the items in progress
at ``as_of``, when they started — so both sides are measured by the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from obeya.core.events import MICROS_PER_HOUR, EventLog
from obeya.core.twin.engine import Trajectory, TwinRun
from obeya.core.workflow import Category, Workflow

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class WindowFigures:
    days: float
    finished: int
    throughput_per_day: float
    lead_times_days: Array  # items that started in the window and finished by its end
    wip_mean: float
    #: Lead times of every item that finished in the window (started before it too).
    finished_lead_times_days: Array = field(default_factory=lambda: np.empty(0))
    started: int = 0  # items that started in the window
    unfinished: int = 0  # of those, still in progress at its end

    @property
    def lead_time_p50(self) -> float:
        return _percentile(self.lead_times_days, 50)

    @property
    def lead_time_p85(self) -> float:
        return _percentile(self.lead_times_days, 85)


def _percentile(values: Array, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else float("nan")


def window_figures(
    item: Array,
    t: Array,
    started: Array,
    done: Array,
    items: int,
    start: float,
    end: float,
    prior_start: Array | None = None,
    prior_finish: Array | None = None,
) -> WindowFigures:
    """Figures of ``(start, end]`` (epoch hours) from events in time order per item or not:
    ``item`` codes 0..items−1, ``t`` hours, ``started``/``done``: the event's state is started
    / done. ``prior_start``: per item, when it started before these events (NaN: unknown)."""
    first = (
        np.full(items, np.inf)
        if prior_start is None
        else np.where(np.isnan(prior_start), np.inf, prior_start)
    )
    np.minimum.at(first, item[started], t[started])
    order = np.lexsort((t, item))
    grouped = item[order]
    tail = np.ones(len(order), dtype=bool)
    tail[:-1] = grouped[1:] != grouped[:-1]
    last = np.full(items, -1, dtype=np.int64)
    last[grouped[tail]] = order[tail]  # each item's latest event
    has_events = last >= 0
    finish = np.full(items, np.nan) if prior_finish is None else prior_finish.copy()
    ended = has_events.copy()
    ended[has_events] = done[last[has_events]]
    finish[ended] = t[last[ended]]
    finish[has_events & ~ended] = np.nan  # reopened, or never done
    days = (end - start) / 24.0
    in_window = (finish > start) & (finish <= end)
    began = np.isfinite(first)
    lead = (finish - first)[in_window & began & (first > start)] / 24.0
    fresh = began & (first > start) & (first <= end)
    until = np.where(np.isnan(finish), end, np.minimum(finish, end))
    since = np.maximum(np.where(began, first, end), start)
    wip = float(np.clip(until - since, 0.0, None)[began].sum() / 24.0 / days)
    return WindowFigures(
        days=days,
        finished=int(in_window.sum()),
        throughput_per_day=float(in_window.sum() / days),
        lead_times_days=np.sort(lead),
        wip_mean=wip,
        finished_lead_times_days=np.sort((finish - first)[in_window & began] / 24.0),
        started=int(fresh.sum()),
        unfinished=int((fresh & ~(finish <= end)).sum()),
    )


def log_window(log: EventLog, workflow: Workflow, start: float, end: float) -> WindowFigures:
    """The window's figures from the log's own events (those at or before ``end``)."""
    t = log.table.column("t").to_numpy() / MICROS_PER_HOUR
    keep = t <= end
    coded = log.coded
    labels = [str(s) for s in coded.state_labels.to_pylist()]
    categories = workflow.categories()
    started_code = np.asarray(
        [categories.get(s) in (Category.ACTIVE, Category.WAITING, Category.DONE) for s in labels]
    )
    done_code = np.asarray([categories.get(s) == Category.DONE for s in labels])
    states = np.asarray(coded.states)[keep]
    item = np.asarray(coded.items)[keep].astype(np.int64)
    seq = log.table.column("seq").to_numpy()[keep]
    t = t[keep]
    # Ties on time are broken by file order: put the later-in-file event a hair later.
    rank = np.argsort(np.lexsort((seq, t)), kind="stable").astype(np.float64)
    return window_figures(
        item,
        t + rank * 1e-12,
        started_code[states],
        done_code[states],
        len(coded.item_labels),
        start,
        end,
    )


def run_windows(run: TwinRun, start: float | None = None) -> list[WindowFigures]:
    """Per replication, the figures of the run's window (``as_of`` to its end)."""
    twin = run.twin
    started_state = np.asarray(
        [s.category in (Category.ACTIVE, Category.WAITING, Category.DONE) for s in twin.states]
    )
    done_state = np.asarray([s.category == Category.DONE for s in twin.states])
    figures = []
    for rep in run.replications:
        figures.append(_trajectory_window(rep, twin.items, started_state, done_state, run, start))
    return figures


def _trajectory_window(
    rep: Trajectory,
    initial: Any,
    started_state: Array,
    done_state: Array,
    run: TwinRun,
    start: float | None,
) -> WindowFigures:
    prior = np.full(rep.items, np.nan)
    prior_finish = np.full(rep.items, np.nan)
    index = {s.name: k for k, s in enumerate(run.twin.states)}
    for i, it in enumerate(initial):
        if it.started is not None:
            prior[i] = it.started
        if done_state[index[it.state]]:
            prior_finish[i] = it.since
    return window_figures(
        rep.item,
        rep.t,
        started_state[rep.state],
        done_state[rep.state],
        rep.items,
        run.twin.as_of if start is None else start,
        run.end,
        prior,
        prior_finish,
    )


#: A run in which more of the items it started are unfinished than this is too short to tell
#: their lead times: only the quick ones finished.
UNFINISHED_WARNING = 0.2


def unfinished_share(windows: list[WindowFigures] | tuple[WindowFigures, ...]) -> float:
    """The share of the items started in the runs that had not finished by their end."""
    started = sum(w.started for w in windows)
    return sum(w.unfinished for w in windows) / started if started else 0.0


def longer_run_days(windows: list[WindowFigures] | tuple[WindowFigures, ...], days: float) -> float:
    """A run long enough to see most items through. The share of a run's items unfinished at
    its end falls about as the run grows (about the mean lead time ÷ the run's length), so
    this run's share, scaled to half the warning's threshold (room to spare), at least
    twice this run. (Three times the p85 of what finished asked Helpdesk for 1,079 days:
    the finished include items years old when the run began.)"""
    share = unfinished_share(windows)
    return float(math.ceil(max(2 * days, days * share / (UNFINISHED_WARNING / 2))))
