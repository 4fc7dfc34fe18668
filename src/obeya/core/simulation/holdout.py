"""Trust a model only as far as it foretold what happened: the hold-out check of a model
fitted to history (PRODUCT.md, "Twin checks"; docs/simulation.md, "Hold-out").

The history is cut at a moment ``T``: ``--holdout 20%`` puts the last fifth of the items (by
the time each entered its first step) after it, ``--validate-from DATE`` names it. The model
is fitted to the events before ``T`` only, then simulated over what followed, ``T`` to the
log's last event, with arrivals at the rate it saw before ``T`` (the future's own arrivals are
not known to a forecast). What it is compared with, item by item from the log:

- the items that entered after ``T`` — the simulation starts empty, so both sides count only
  these: their **throughput** (those finished by the end, per day of the window), **lead
  time** p50 and p85 (entered → finished, those finished by the end), and **mean WIP** (their
  time-averaged count in progress over the window);
- the **Wasserstein distance** between the simulated and the real lead times (days: the
  average shift that turns one distribution into the other), against the trivial baseline's:
  the lead times of the items finished before ``T``, resampled, as if nothing changed.

The verdict is plain: *trust it* (every figure within its target and nearer than the
baseline), *direction only* (nearer than the baseline, a figure outside its target), or *do not
use it* (no nearer than the baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow.compute as pc
from scipy.stats import wasserstein_distance

from obeya.core.events import MICROS_PER_DAY, EventLog
from obeya.core.maps.discovery import StepSamples, step_samples
from obeya.core.simulation.engine import simulate
from obeya.core.simulation.from_history import scenario_from_history
from obeya.core.simulation.scenario import ScenarioError
from obeya.core.workflow import Workflow

#: The most a figure may miss what followed for the model to be trusted (issue 12's targets).
TARGETS = {
    "throughput_per_day": 0.10,
    "lead_time_p50": 0.20,
    "lead_time_p85": 0.25,
    "wip_mean": 0.25,
}
#: How much farther than the baseline's the model's lead times may be and still count as near.
BASELINE_SLACK = 0.10
#: Each side of the cut needs at least this many items for the check to mean anything.
MIN_ITEMS = 30


@dataclass(frozen=True)
class Figure:
    """One figure of the window after the cut: what happened, the model's and the
    baseline's (None where the baseline says nothing), and the relative errors."""

    name: str
    actual: float
    simulated: float
    baseline: float | None

    @property
    def error(self) -> float:
        return _relative(self.simulated, self.actual)

    @property
    def within_target(self) -> bool:
        return abs(self.error) <= TARGETS[self.name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "figure": self.name,
            "actual": self.actual,
            "simulated": self.simulated,
            "error": self.error,
            "target": TARGETS[self.name],
            "within_target": self.within_target,
            "baseline": self.baseline,
            "baseline_error": None
            if self.baseline is None
            else _relative(self.baseline, self.actual),
        }


@dataclass(frozen=True)
class HoldoutCheck:
    split: datetime  # UTC
    fitted_items: int  # items that entered a step before the cut
    test_items: int  # after it
    fitted_days: float
    test_days: float
    figures: tuple[Figure, ...]
    distance_days: float  # Wasserstein, simulated vs real lead times
    baseline_distance_days: float  # Wasserstein, earlier lead times vs real ones
    fit: str
    replications: int

    @property
    def missed(self) -> list[str]:
        return [f.name for f in self.figures if not f.within_target]

    @property
    def nearer(self) -> bool:
        """The model's lead times are at least about as near to what followed as the
        baseline's (within :data:`BASELINE_SLACK`): on a stream that did not change, the
        earlier lead times are the truth, and the model can only tie with them."""
        return self.distance_days <= self.baseline_distance_days * (1 + BASELINE_SLACK)

    @property
    def verdict(self) -> str:
        nearer = self.nearer
        if nearer and not self.missed:
            return "trust it"
        if nearer and len(self.missed) == 1:
            return "direction only"
        return "do not use it"

    @property
    def explanation(self) -> str:
        missed = ", ".join(self.missed)
        if not self.nearer:
            return (
                "its lead times are farther from what followed than the earlier lead times "
                "resampled: the model adds nothing a what-if could rely on"
                + (f" (and {missed} missed the target)" if missed else "")
            )
        if self.verdict == "trust it":
            return "every figure within its target, and nearer to what followed than the baseline"
        if self.verdict == "direction only":
            return (
                f"nearer to what followed than the baseline, but {missed} missed its target: "
                "read what-ifs for their direction, not their figures"
            )
        return f"{missed} missed their targets: the model did not foretell what followed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split.isoformat().replace("+00:00", "Z"),
            "fit": self.fit,
            "replications": self.replications,
            "fitted": {"items": self.fitted_items, "days": self.fitted_days},
            "test": {"items": self.test_items, "days": self.test_days},
            "figures": [f.to_dict() for f in self.figures],
            "wasserstein_days": {
                "model": self.distance_days,
                "baseline": self.baseline_distance_days,
            },
            "verdict": self.verdict,
            "explanation": self.explanation,
        }


def split_at_share(log: EventLog, workflow: Workflow | None, share: float) -> datetime:
    """The moment that leaves the last ``share`` of the items (by the time each entered its
    first step) after it."""
    return _moment(_cut_at_share(step_samples(log, workflow), share, log.source))


def _cut_at_share(samples: StepSamples, share: float, source: str) -> int:
    if not 0 < share < 1:
        raise ScenarioError(f"holdout {share:.0%}: give a share between 0% and 100%, e.g. 20%")
    entered = np.sort(samples.item_times()[0])
    if len(entered) < 2 * MIN_ITEMS:
        raise ScenarioError(
            f"{source}: {len(entered)} items; a hold-out needs at least {2 * MIN_ITEMS}"
        )
    return int(entered[min(len(entered) - 1, int(len(entered) * (1 - share)))])


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(micros: int) -> datetime:
    """Microseconds since the epoch as a UTC datetime, exactly (no float on the way)."""
    return EPOCH + timedelta(microseconds=micros)


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def holdout_check(
    log: EventLog,
    workflow: Workflow | None,
    split: datetime | None = None,
    *,
    share: float | None = None,
    fit: str = "empirical",
    replications: int = 5,
    seed: int = 1,
) -> HoldoutCheck:
    """Fit on the events before ``split`` (or before the last ``share`` of the items: one of
    the two), simulate what followed, compare (module doc)."""
    samples = step_samples(log, workflow)
    if share is not None and split is None:
        cut_us = _cut_at_share(samples, share, log.source)
    elif split is not None and share is None:
        cut_us = _micros(split)
    else:
        raise ScenarioError("give the cut (a moment) or the share of items to hold out, one")
    split = _moment(cut_us)
    if not samples.first_us < cut_us < samples.last_us:
        first, last = _moment(samples.first_us), _moment(samples.last_us)
        raise ScenarioError(
            f"{log.source}: the cut {split:%Y-%m-%d %H:%M} is not inside the log "
            f"({first:%Y-%m-%d} to {last:%Y-%m-%d})"
        )
    entered, finish, done = samples.item_times()
    before = entered < cut_us
    after = ~before
    if before.sum() < MIN_ITEMS or after.sum() < MIN_ITEMS:
        raise ScenarioError(
            f"{log.source}: {int(before.sum())} items before the cut and {int(after.sum())} "
            f"after; each side needs at least {MIN_ITEMS} (move the cut)"
        )
    day = float(MICROS_PER_DAY)
    test_days = (samples.last_us - cut_us) / day
    fitted_days = (cut_us - samples.first_us) / day

    training = EventLog(
        log.table.filter(pc.less(log.table.column("t"), cut_us)), f"{log.source} before the cut"
    )
    model = scenario_from_history(
        training, workflow, fit=fit, arrivals="poisson", replications=replications, seed=seed
    )
    forward = replace(model.scenario, days=test_days, warmup_days=0.0)
    result = simulate(forward)

    test_done = after & done
    real = (finish[test_done] - entered[test_done]) / day
    if len(real) == 0:
        raise ScenarioError(f"{log.source}: no item that entered after the cut finished")
    in_progress = np.where(done, np.minimum(finish, samples.last_us), samples.last_us)
    wip_real = float(((in_progress - entered)[after]).sum() / day / test_days)
    trained_done = before & done & (finish < cut_us)
    earlier = (finish[trained_done] - entered[trained_done]) / day
    simulated = np.concatenate([np.asarray(r.lead_times) for r in result.replications])
    figures = (
        Figure(
            "throughput_per_day",
            len(real) / test_days,
            result.throughput_per_day,
            model.measured.throughput_per_day,
        ),
        Figure(
            "lead_time_p50",
            float(np.percentile(real, 50)),
            result.lead_time_p50,
            float(np.percentile(earlier, 50)),
        ),
        Figure(
            "lead_time_p85",
            float(np.percentile(real, 85)),
            result.lead_time_p85,
            float(np.percentile(earlier, 85)),
        ),
        Figure("wip_mean", wip_real, result.wip, None),
    )
    return HoldoutCheck(
        split=split,
        fitted_items=int(before.sum()),
        test_items=int(after.sum()),
        fitted_days=fitted_days,
        test_days=test_days,
        figures=figures,
        distance_days=float(wasserstein_distance(simulated, real)) if len(simulated) else math.inf,
        baseline_distance_days=float(wasserstein_distance(earlier, real)),
        fit=fit,
        replications=replications,
    )


def _relative(value: float, reference: float) -> float:
    return (value - reference) / reference if reference else math.inf
