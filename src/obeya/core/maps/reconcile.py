"""Why a map's lead time is not the measured one, in hours that add up.

A map adds each step's mean lead time over the items that visit it, weighed by the share of
items that visit it. The measured mean lead time of the finished items (first event in a step
→ finish) is, exactly, the sum over steps of the mean hours an item spends in the step — items
that skip it count zero, so the visit share is inside — plus the mean hours spent outside every
step (resolved but not yet closed, between visits). Set beside the map's total, the difference
splits into what no step holds and a small rest: the map's means also count the completed
visits of items still in progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from obeya.core.events import MICROS_PER_HOUR
from obeya.core.maps.discovery import StepSamples

#: Within 1 %, the map's steps and the measured ones are the same hours.
_SAME = 0.01


@dataclass(frozen=True)
class Reconciliation:
    items: int  # finished items: the sample of the means
    measured_mean_hours: float
    step_mean_hours: dict[str, float]  # per finished item, skips counted as zero
    outside_hours: float
    map_hours: float  # Σ visit share × the steps' mean LT, as the map adds them

    @property
    def steps_hours(self) -> float:
        return sum(self.step_mean_hours.values())

    @property
    def explanation(self) -> str:
        gap = self.steps_hours - self.map_hours
        why = (
            ""
            if abs(gap) <= _SAME * max(self.steps_hours, 1e-9)
            else f"; {abs(gap):,.1f} h {'more' if gap > 0 else 'less'} than the map, whose means "
            "also count the completed visits of items still in progress"
        )
        return (
            f"the map adds each step's mean over the items that visit it, weighed by the "
            f"share of items that visit it: "
            f"{self.map_hours:,.1f} h. The {self.items:,} finished items that entered a step took "
            f"{self.measured_mean_hours:,.1f} h on average: {self.steps_hours:,.1f} h in the "
            f"steps (each step's mean per item, items that skip it counting zero{why}) and "
            f"{self.outside_hours:,.1f} h outside every step (done but not yet closed, or "
            "between visits)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "measured_mean_hours": self.measured_mean_hours,
            "map_hours": self.map_hours,
            "steps_hours": self.steps_hours,
            "step_mean_hours": self.step_mean_hours,
            "outside_hours": self.outside_hours,
            "explanation": self.explanation,
        }


def _time_rows(samples: StepSamples) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``samples.times``: its item's row in ``samples.items``, and its step."""
    row = {item: k for k, item in enumerate(samples.items.column("item_id").to_pylist())}
    items = samples.times.column("item_id").to_pylist()
    return (
        np.asarray([row[i] for i in items], dtype=np.int64),
        samples.times.column("step").to_numpy(),
    )


def visit_shares(samples: StepSamples) -> dict[str, float]:
    """Per step, the share of the finished items that passed it (empty: none finished)."""
    _, _, done = samples.item_times()
    if not done.any():
        return {}
    n = len(done)
    t_item, t_step = _time_rows(samples)
    keep = done[t_item]
    pairs = np.unique(t_step[keep].astype(np.int64) * n + t_item[keep])
    passed = np.bincount(pairs // n, minlength=len(samples.steps))
    return {name: float(passed[k] / done.sum()) for k, (name, _) in enumerate(samples.steps)}


def reconcile(samples: StepSamples, map_hours: float) -> Reconciliation | None:
    """The split of the measured mean lead time (module doc); None without a finished item."""
    entered, finish, done = samples.item_times()
    if not done.any():
        return None
    lead = (finish - entered)[done].astype(np.float64) / MICROS_PER_HOUR
    finished = np.flatnonzero(done)
    t_item, t_step = _time_rows(samples)
    t_hours = samples.times.column("lt_us").to_numpy().astype(np.float64) / MICROS_PER_HOUR
    keep = done[t_item]
    per_step = np.zeros(len(samples.steps))
    np.add.at(per_step, t_step[keep], t_hours[keep])
    per_step /= finished.size
    return Reconciliation(
        items=int(finished.size),
        measured_mean_hours=float(lead.mean()),
        step_mean_hours={
            name: float(h) for (name, _), h in zip(samples.steps, per_step, strict=True)
        },
        outside_hours=float(lead.mean() - per_step.sum()),
        map_hours=map_hours,
    )
