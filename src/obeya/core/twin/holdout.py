"""Trust a twin only as far as it foretold what happened (PRODUCT.md, "Twin checks";
docs/simulation.md, "Hold-out").

The history is cut at a moment ``T``: ``--holdout 20%`` puts the last fifth of the items (by
their first event) after it, ``--validate-from DATE`` names it. The twin is fitted to the
events up to ``T`` only — with the items in progress then — and run from ``T`` to the log's
last event. Both sides are measured by the same code (:mod:`obeya.core.twin.measure`):

- **throughput**: finishes in the window per day (the items in progress at ``T`` included);
- **lead time** p50 and p85 of the items that started in the window and finished by its end;
- **mean WIP** over the window;
- the **Wasserstein distance** between the simulated and the real lead times (days), beside
  the trivial baseline's: the lead times of the items finished before ``T``, as if nothing
  changed. The baseline's throughput and WIP are those of the :data:`BASELINE_DAYS` before
  ``T``.

Two runs: the **forecast** (the twin as fitted, with its own arrivals: what a what-if rests
on) and the run **given the arrivals** that really came (their instants replayed): when demand
changed after the cut, no model fitted before could know, and the second run says whether the
process part of the twin still held. Each gets a plain verdict: *trust it* (every figure
within its target and about as near as the baseline or nearer), *direction only* (one figure
outside), or *do not use it*. When the twin is not to be trusted, the check names **where it
parted** from what followed: the moves between states (``Resolved → Closed``) whose count after
the cut is farthest from the twin's given the same arrivals, beside their pace before the cut
(a burst or a change, such as thousands of resolved tickets closed in a few days, shows
as a pace the same span before the cut never had).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from scipy.stats import wasserstein_distance

from obeya.core.events import MICROS_PER_HOUR, EventLog, from_micros
from obeya.core.shares import percent_of
from obeya.core.simulation.engine import Budget
from obeya.core.twin.engine import TwinRun, run_twin
from obeya.core.twin.fit import fit_twin, log_visits
from obeya.core.twin.measure import WindowFigures, log_window, run_windows
from obeya.core.twin.model import Twin, TwinError
from obeya.core.workflow import Workflow

#: The most a figure may miss what followed for the twin to be trusted (issue 12's targets).
TARGETS = {
    "throughput_per_day": 0.10,
    "lead_time_p50": 0.20,
    "lead_time_p85": 0.25,
    "wip_mean": 0.25,
}
#: What each figure is, with its unit, as a reader sees it.
LABELS = {
    "throughput_per_day": "throughput (items a day)",
    "lead_time_p50": "lead time p50 (days)",
    "lead_time_p85": "lead time p85 (days)",
    "wip_mean": "mean WIP (items)",
}
#: How much farther than the baseline's the twin's lead times may be and still count as near.
BASELINE_SLACK = 0.10
#: Each side of the cut needs at least this many items for the check to mean anything.
MIN_ITEMS = 30
#: The baseline's throughput and WIP: those of this many days before the cut.
BASELINE_DAYS = 56
#: Demand this far from the twin's arrivals (either way) counts as changed after the cut.
DEMAND_CHANGE = 0.20
#: A move between states parts the twin from what followed when its counts differ by this
#: factor (either way) and by at least :data:`MIN_ITEMS` moves; the farthest few are named.
APART_FACTOR = 2.0
APART_SHOWN = 3


@dataclass(frozen=True)
class Move:
    """A move between two states: how often it happened after the cut, how often the twin
    made it (given the arrivals that came, mean over replications), and its pace in as many
    days just before the cut (``days_before``; fewer when the history is shorter), so a
    pace that came with a burst of work shows as such rather than diluted over years."""

    source: str
    target: str
    actual: int
    simulated: float
    per_day_before: float
    per_day_after: float
    days_before: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "actual": self.actual,
            "twin": self.simulated,
            "per_day_before": self.per_day_before,
            "per_day_after": self.per_day_after,
            "days_before": self.days_before,
        }

    def describe(self) -> str:
        return (
            f"{self.source} → {self.target}: {self.actual:,} moves after the cut "
            f"({self.per_day_after:.3g} a day; {self.per_day_before:.3g} a day in the "
            f"{self.days_before:.3g} days before it), "
            f"the twin made {self.simulated:,.0f}"
        )


@dataclass(frozen=True)
class Figure:
    """One figure of the window after the cut: what happened, the twin's and the baseline's,
    and the relative errors."""

    name: str
    actual: float
    simulated: float
    baseline: float | None

    @property
    def error(self) -> float:
        return _relative(self.simulated, self.actual)

    @property
    def within_target(self) -> bool:
        return bool(abs(self.error) <= TARGETS[self.name])  # a NaN is never within

    @property
    def label(self) -> str:
        return LABELS[self.name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "figure": self.name,
            "label": self.label,
            "actual": _finite(self.actual),
            "simulated": _finite(self.simulated),
            "error": _finite(self.error),
            "target": TARGETS[self.name],
            "within_target": self.within_target,
            "baseline": _finite(self.baseline),
            "baseline_error": None
            if self.baseline is None
            else _finite(_relative(self.baseline, self.actual)),
        }


@dataclass(frozen=True)
class Run:
    """One run of the check: its figures and lead-time distances."""

    figures: tuple[Figure, ...]
    distance_days: float
    baseline_distance_days: float
    #: Half the distance between two halves of what followed: how far two samples of it
    #: lie apart by chance alone.
    noise_days: float = 0.0

    @property
    def missed(self) -> list[str]:
        return [f.name for f in self.figures if not f.within_target]

    @property
    def nearer(self) -> bool:
        """The twin's lead times are about as near to what followed as the baseline's or
        nearer (within :data:`BASELINE_SLACK` and the sampling noise of what followed): on a
        stream that did not change, the earlier lead times are the truth, and a model can
        only tie with them."""
        slack = self.baseline_distance_days * (1 + BASELINE_SLACK) + self.noise_days
        return self.distance_days <= slack

    @property
    def verdict(self) -> str:
        if self.nearer and not self.missed:
            return "trust it"
        if self.nearer and len(self.missed) == 1:
            return "direction only"
        return "do not use it"

    @property
    def explanation(self) -> str:
        missed = ", ".join(LABELS[name] for name in self.missed)
        if not self.nearer:
            return (
                "its lead times are farther from what followed than the earlier lead times "
                "resampled: it adds nothing a what-if could rely on"
                + (f" (and {missed} missed the target)" if missed else "")
            )
        near = (
            "nearer to what followed than the baseline"
            if self.distance_days < self.baseline_distance_days
            else "about as near to what followed as the baseline (within its noise and slack)"
        )
        if self.verdict == "trust it":
            return f"every figure within its target, and {near}"
        if self.verdict == "direction only":
            return (
                f"{near}, but {missed} missed its target: "
                "read what-ifs for their direction, not their figures"
            )
        return f"{missed} missed their targets: it did not foretell what followed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "figures": [f.to_dict() for f in self.figures],
            "wasserstein_days": {
                "model": _finite(self.distance_days),
                "baseline": _finite(self.baseline_distance_days),
                "noise": self.noise_days,
            },
            "verdict": self.verdict,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class HoldoutCheck:
    split: datetime  # UTC
    fitted_items: int  # items whose first event came before the cut
    test_items: int  # after it
    fitted_days: float
    test_days: float
    forecast: Run
    given_arrivals: Run
    arrivals_per_week: float  # the twin's
    actual_arrivals_per_week: float  # what came after the cut
    replications: int
    twin: Twin
    #: Where the twin, given the arrivals, parted from what followed (farthest first).
    apart: tuple[Move, ...] = ()

    @property
    def demand_changed(self) -> bool:
        change = _relative(self.arrivals_per_week, self.actual_arrivals_per_week)
        return bool(abs(change) > DEMAND_CHANGE)

    # The forecast's figures and verdict are the check's headline.
    @property
    def figures(self) -> tuple[Figure, ...]:
        return self.forecast.figures

    @property
    def verdict(self) -> str:
        return self.forecast.verdict

    @property
    def verdict_reason(self) -> str:
        """The explanation without the moves where it parted (a page shows those as a table)."""
        text = self.forecast.explanation
        if self.demand_changed:
            text += (
                f". Demand changed after the cut: {self.actual_arrivals_per_week / 7:.3g} items "
                f"a day came, the twin expected {self.arrivals_per_week / 7:.3g}; given the "
                f"arrivals that came, the verdict is {self.given_arrivals.verdict!r}"
            )
        return text

    @property
    def explanation(self) -> str:
        text = self.verdict_reason
        if self.apart and self.given_arrivals.verdict != "trust it":
            text += ". Where it parted from what followed: " + "; ".join(
                m.describe() for m in self.apart
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split.isoformat().replace("+00:00", "Z"),
            "replications": self.replications,
            "fitted": {"items": self.fitted_items, "days": self.fitted_days},
            "test": {"items": self.test_items, "days": self.test_days},
            "arrivals_per_day": {
                "twin": self.arrivals_per_week / 7,
                "actual": self.actual_arrivals_per_week / 7,
                "changed": self.demand_changed,
            },
            "figures": [f.to_dict() for f in self.figures],
            "wasserstein_days": self.forecast.to_dict()["wasserstein_days"],
            "verdict": self.verdict,
            "explanation": self.explanation,
            "verdict_reason": self.verdict_reason,
            "given_arrivals": self.given_arrivals.to_dict(),
            "apart": [m.to_dict() for m in self.apart],
        }


def first_events(log: EventLog) -> np.ndarray[Any, Any]:
    """Each item's first event (epoch hours), sorted."""
    table = log.table.group_by("item_id").aggregate([("t", "min")])
    return np.sort(table.column("t_min").to_numpy() / MICROS_PER_HOUR)


def split_at_share(
    log: EventLog, share: float, firsts: np.ndarray[Any, Any] | None = None
) -> datetime:
    """The moment that leaves the last ``share`` of the items (by first event) after it;
    ``firsts``: the items' first events when the caller has them already."""
    if not 0 < share < 1:
        raise TwinError(
            f"holdout {percent_of(share)}: give a share between 0 % and 100 %, e.g. 20 %"
        )
    if firsts is None:
        firsts = first_events(log)
    if len(firsts) < 2 * MIN_ITEMS:
        raise TwinError(
            f"{log.source}: {len(firsts)} items; a hold-out needs at least {2 * MIN_ITEMS}"
        )
    cut = firsts[min(len(firsts) - 1, int(len(firsts) * (1 - share)))]
    # Just before that item's first event, so it falls after the cut.
    return _moment(cut) - timedelta(microseconds=1)


def holdout_check(
    log: EventLog,
    workflow: Workflow,
    split: datetime | None = None,
    *,
    share: float | None = None,
    replications: int = 5,
    seed: int = 1,
    budget: Budget | None = None,
) -> HoldoutCheck:
    """Fit the twin on the events up to ``split`` (or before the last ``share`` of the
    items: one of the two), run it over what followed, compare (module doc)."""
    if (split is None) == (share is None):
        raise TwinError("give the cut (a moment) or the share of items to hold out, one")
    firsts = first_events(log)
    if split is None:
        assert share is not None
        split = split_at_share(log, share, firsts)
    cut = split.timestamp() / 3600.0
    t = log.table.column("t").to_numpy() / MICROS_PER_HOUR
    first_h, last_h = float(t.min()), float(t.max())
    if not first_h < cut < last_h:
        raise TwinError(
            f"{log.source}: the cut {split:%Y-%m-%d %H:%M} is not inside the log "
            f"({_moment(first_h):%Y-%m-%d} to {_moment(last_h):%Y-%m-%d})"
        )
    before, after = int((firsts <= cut).sum()), int((firsts > cut).sum())
    if before < MIN_ITEMS or after < MIN_ITEMS:
        raise TwinError(
            f"{log.source}: {before} items began before the cut and {after} after; each "
            f"side needs at least {MIN_ITEMS} (move the cut, or hold out another share)"
        )
    twin = fit_twin(log, workflow, as_of=split, replications=replications, seed=seed)
    days = (last_h - twin.as_of) / 24.0
    real = log_window(log, workflow, twin.as_of, last_h)
    earlier = log_window(log, workflow, first_h, twin.as_of)
    recent = log_window(log, workflow, max(first_h, twin.as_of - BASELINE_DAYS * 24), twin.as_of)
    if real.lead_times_days.size == 0:
        raise TwinError(f"{log.source}: no item that started after the cut finished")
    if earlier.lead_times_days.size < MIN_ITEMS:
        raise TwinError(
            f"{log.source}: {earlier.lead_times_days.size} items finished before the cut; the "
            f"twin needs at least {MIN_ITEMS} to learn from (hold out less, or cut later)"
        )
    forecast = run_twin(twin, days=days, budget=budget)
    given = run_twin(twin, days=days, budget=budget, arrivals=firsts[firsts > twin.as_of])
    return HoldoutCheck(
        split=_moment(twin.as_of),
        fitted_items=before,
        test_items=after,
        fitted_days=(twin.as_of - first_h) / 24.0,
        test_days=days,
        forecast=_compare(run_windows(forecast), real, earlier, recent),
        given_arrivals=_compare(run_windows(given), real, earlier, recent),
        arrivals_per_week=twin.arrivals.per_week,
        actual_arrivals_per_week=after / days * 7,
        replications=replications,
        twin=twin,
        apart=_apart(log, twin, given, first_h, last_h),
    )


def _apart(log: EventLog, twin: Twin, run: TwinRun, first: float, last: float) -> tuple[Move, ...]:
    """The moves between states whose count after the cut the twin missed most (module doc)."""
    visits = log_visits(log, np.ones(log.table.num_rows, dtype=bool))
    moved = visits.next_state >= 0
    labels = visits.labels
    before: dict[tuple[str, str], int] = {}
    after: dict[tuple[str, str], int] = {}
    days_after = (last - twin.as_of) / 24.0
    days_before = min(days_after, (twin.as_of - first) / 24.0)
    since = twin.as_of - days_before * 24.0
    for s, n, at in zip(
        visits.state[moved].tolist(),
        visits.next_state[moved].tolist(),
        visits.end[moved].tolist(),
        strict=True,
    ):
        if at <= since:
            continue
        side = after if at > twin.as_of else before
        key = (labels[s], labels[n])
        side[key] = side.get(key, 0) + 1
    names = [st.name for st in twin.states]
    made: dict[tuple[str, str], float] = {}
    where = [item.state for item in twin.items]
    for rep in run.replications:
        now: dict[int, str] = dict(enumerate(where))
        for item, state in zip(rep.item.tolist(), rep.state.tolist(), strict=True):
            name, was = names[state], now.get(item)
            if was is not None and was != name:
                made[(was, name)] = made.get((was, name), 0.0) + 1 / len(run.replications)
            now[item] = name
    moves = []
    for key in after.keys() | made.keys():
        actual, simulated = after.get(key, 0), made.get(key, 0.0)
        low, high = sorted((actual, simulated))
        if high - low >= MIN_ITEMS and high >= APART_FACTOR * low:
            moves.append(
                Move(
                    key[0],
                    key[1],
                    actual,
                    round(simulated, 1),
                    before.get(key, 0) / days_before,
                    actual / days_after,
                    days_before,
                )
            )
    moves.sort(key=lambda m: (-abs(m.actual - m.simulated), m.source, m.target))
    return tuple(moves[:APART_SHOWN])


def _compare(
    sims: list[WindowFigures], real: WindowFigures, earlier: WindowFigures, recent: WindowFigures
) -> Run:
    pooled = np.concatenate([s.lead_times_days for s in sims])
    past = earlier.lead_times_days
    figures = (
        Figure(
            "throughput_per_day",
            real.throughput_per_day,
            float(np.mean([s.throughput_per_day for s in sims])),
            recent.throughput_per_day,
        ),
        Figure("lead_time_p50", real.lead_time_p50, _pct(pooled, 50), _pct(past, 50)),
        Figure("lead_time_p85", real.lead_time_p85, _pct(pooled, 85), _pct(past, 85)),
        Figure(
            "wip_mean",
            real.wip_mean,
            float(np.mean([s.wip_mean for s in sims])),
            recent.wip_mean,
        ),
    )
    return Run(
        figures=figures,
        distance_days=(
            float(wasserstein_distance(pooled, real.lead_times_days)) if pooled.size else math.inf
        ),
        baseline_distance_days=(
            float(wasserstein_distance(past, real.lead_times_days)) if past.size else math.inf
        ),
        noise_days=_noise(real.lead_times_days),
    )


def _noise(values: np.ndarray[Any, Any]) -> float:
    """Half the Wasserstein distance between the odd and even draws of ``values`` (in random
    order): the distance two samples of one distribution keep by chance."""
    if values.size < 4:
        return 0.0
    shuffled = np.random.default_rng(0).permutation(values)
    return float(wasserstein_distance(shuffled[::2], shuffled[1::2])) / 2


def _pct(values: np.ndarray[Any, Any], q: float) -> float:
    return float(np.percentile(values, q)) if values.size else math.nan


def _moment(hours: float) -> datetime:
    return from_micros(round(hours * MICROS_PER_HOUR)).astimezone(UTC)


def _relative(value: float, reference: float) -> float:
    if math.isnan(value) or math.isnan(reference):
        return math.nan
    return (value - reference) / reference if reference else math.inf


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: a figure that could not be computed is null."""
    return value if value is not None and math.isfinite(value) else None
