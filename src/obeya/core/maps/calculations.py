"""The figures of a value stream map: totals, takt, utilisation, the constraint and waste.

Pure functions of a :class:`ValueStreamMap`; nothing is read or stored. Units follow the
model: hours, items per day, available hours per day, money in the map's currency. The
conventions (written up in ``docs/maps.md``):

- A step's figures are per item that visits it (its rework included); its **visit share**
  (``visit_share``: the share of items that visit it, 1 unless some skip it) weighs them into
  the totals: total LT and PT = Σ share × the step's, so a step 3 % of items visit adds 3 %
  of its LT to an item's.
- A step's **wait** is LT − PT. Inventory waiting before a step adds **inventory ÷ demand**
  calendar days (24 h each) to the total lead time (Little's law on the queue: the step's
  arrivals are demand × share, each waits inventory ÷ that); without demand it cannot be
  turned into time and adds nothing.
- **Capacity** per day is the step's own ``capacity_per_day`` when given, else
  people × availability × available hours per day ÷ PT. A step with PT 0 and no capacity has
  no limit (capacity and utilisation ``None``).
- **Utilisation** = demand × share ÷ capacity (= demand × share × PT ÷ the hours the
  step's people have).
- The **constraint** is the step with the highest utilisation, which is the step with the
  lowest capacity ÷ share, so it is found the same way without demand (then the longest
  share × PT ÷ (people × availability)). Ties go to the earlier step. When even it is under
  :data:`NEAR_CAPACITY` and one step's wait is half the lead time or more, its reason says
  the lead time is waiting there, not queueing for capacity.
- **Rolled %C&A** = Π (1 − share × (1 − %C&A)): an item passes a step right first time
  when it skips it or passes it so.
- **Waste** per item, each step weighed by its share: waiting Σ (LT − PT); rework
  Σ PT × (1 ÷ %C&A − 1), the expected extra passes when each pass succeeds with probability
  %C&A (Σ PT × (1 − %C&A) when the map's PT already holds the rework,
  ``process_time_includes_rework``: the same passes, counted once); handoffs Σ handoffs ×
  a cost per handoff (default :data:`HANDOFF_COST_HOURS`); partially done work Σ inventory
  waits. Money per period = hours per item × demand × period days × hourly cost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from obeya.core.maps.model import MapError, Step, ValueStreamMap
from obeya.core.shares import percent_of

#: Utilisation under which a step is not near its capacity: queueing for its people is short.
NEAR_CAPACITY = 0.8
#: Hours one handoff costs an item (re-reading, questions, context lost), when not given.
HANDOFF_COST_HOURS = 0.5
#: Days in the period the money of waste is reported for, when not given.
PERIOD_DAYS = 30.0
HOURS_PER_DAY = 24.0
#: Steps visited less than this per item are side branches of the map.
SIDE_BRANCH_SHARE = 0.05

WASTE_CATEGORIES = ("waiting", "rework", "handoffs", "partially_done_work")


@dataclass(frozen=True)
class StepFigures:
    name: str
    process_time_hours: float
    lead_time_hours: float
    wait_hours: float
    complete_accurate: float
    inventory_before: float
    inventory_wait_hours: float | None
    capacity_per_day: float | None
    utilisation: float | None
    handoffs: float
    people: float
    team: str | None
    visit_share: float = 1.0

    @property
    def side_branch(self) -> bool:
        """A step few items visit (a share under :data:`SIDE_BRANCH_SHARE`): drawn beside
        the main line, not in it."""
        return self.visit_share < SIDE_BRANCH_SHARE


@dataclass(frozen=True)
class Constraint:
    step: str
    utilisation: float | None
    capacity_per_day: float
    reason: str

    @property
    def binding(self) -> bool:
        """Whether the step limits the flow (:func:`near_capacity`); if not, it is only the
        most loaded step, which the drawing and the page call the highest load."""
        return near_capacity(self.utilisation)


def near_capacity(utilisation: float | None) -> bool:
    """At :data:`NEAR_CAPACITY` or over, or unknown (no demand to load it with)."""
    return utilisation is None or utilisation >= NEAR_CAPACITY


@dataclass(frozen=True)
class WasteCategory:
    category: str
    hours_per_item: float
    money_per_period: float | None


@dataclass(frozen=True)
class Waste:
    categories: tuple[WasteCategory, ...]
    period_days: float
    hourly_cost: float | None
    handoff_cost_hours: float

    @property
    def total_hours_per_item(self) -> float:
        return sum(c.hours_per_item for c in self.categories)

    @property
    def total_money_per_period(self) -> float | None:
        money = [c.money_per_period for c in self.categories]
        return None if any(m is None for m in money) else sum(m for m in money if m is not None)

    @property
    def biggest(self) -> str | None:
        """The category with the most hours per item; None when there is no waste at all."""
        top = max(self.categories, key=lambda c: c.hours_per_item, default=None)
        return top.category if top is not None and top.hours_per_item > 0 else None

    def category(self, name: str) -> WasteCategory:
        return next(c for c in self.categories if c.category == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": {
                c.category: {
                    "hours_per_item": c.hours_per_item,
                    "money_per_period": c.money_per_period,
                }
                for c in self.categories
            },
            "total_hours_per_item": self.total_hours_per_item,
            "total_money_per_period": self.total_money_per_period,
            "biggest": self.biggest,
            "period_days": self.period_days,
            "hourly_cost": self.hourly_cost,
            "handoff_cost_hours": self.handoff_cost_hours,
        }


@dataclass(frozen=True)
class MapFigures:
    name: str
    variant: str
    steps: tuple[StepFigures, ...]
    demand_per_day: float | None
    available_hours_per_day: float
    lead_time_hours: float
    process_time_hours: float
    activity_ratio: float | None
    rolled_complete_accurate: float
    takt_time_hours: float | None
    constraint: Constraint | None
    waste: Waste

    def step(self, name: str) -> StepFigures:
        return next(s for s in self.steps if s.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "variant": self.variant,
            "steps": [asdict(s) for s in self.steps],
            "totals": {
                "lead_time_hours": self.lead_time_hours,
                "process_time_hours": self.process_time_hours,
                "activity_ratio": self.activity_ratio,
                "rolled_complete_accurate": self.rolled_complete_accurate,
                "takt_time_hours": self.takt_time_hours,
                "demand_per_day": self.demand_per_day,
                "available_hours_per_day": self.available_hours_per_day,
            },
            "constraint": asdict(self.constraint) if self.constraint else None,
            "waste": self.waste.to_dict(),
        }


def calculate(
    vsm: ValueStreamMap,
    *,
    hourly_cost: float | None = None,
    handoff_cost_hours: float = HANDOFF_COST_HOURS,
    period_days: float = PERIOD_DAYS,
) -> MapFigures:
    """Every figure of the map. ``hourly_cost`` overrides the map's own rate."""
    if handoff_cost_hours < 0 or period_days <= 0:
        raise MapError(
            f"handoff cost {handoff_cost_hours} h must be >= 0 and period {period_days} days > 0"
        )
    steps = tuple(_step_figures(s, vsm) for s in vsm.steps)
    total_lt = sum(
        s.visit_share * (s.process_time_hours + s.wait_hours + (s.inventory_wait_hours or 0.0))
        for s in steps
    )
    total_pt = sum(s.visit_share * s.process_time_hours for s in steps)
    demand = vsm.demand_per_day
    cost = hourly_cost if hourly_cost is not None else vsm.hourly_cost
    return MapFigures(
        name=vsm.name,
        variant=vsm.variant,
        steps=steps,
        demand_per_day=demand,
        available_hours_per_day=vsm.available_hours_per_day,
        lead_time_hours=total_lt,
        process_time_hours=total_pt,
        activity_ratio=total_pt / total_lt if total_lt > 0 else None,
        rolled_complete_accurate=math.prod(
            1 - s.visit_share * (1 - s.complete_accurate) for s in steps
        ),
        takt_time_hours=vsm.available_hours_per_day / demand if demand else None,
        constraint=_constraint(vsm, steps, total_lt),
        waste=_waste(
            steps, demand, cost, handoff_cost_hours, period_days, vsm.process_time_includes_rework
        ),
    )


def _step_figures(step: Step, vsm: ValueStreamMap) -> StepFigures:
    demand = vsm.demand_per_day
    capacity = capacity_per_day(step, vsm.available_hours_per_day)
    wait = step.lead_time_hours - step.process_time_hours
    share = step.visit_share
    queue = step.inventory_before / (demand * share) * HOURS_PER_DAY if demand else None
    if vsm.lead_time_includes_inventory and queue is not None:
        # The queue's wait is part of the step's LT: split it out of the wait, never beyond it.
        queue = min(queue, wait)
        wait -= queue
    return StepFigures(
        name=step.name,
        process_time_hours=step.process_time_hours,
        lead_time_hours=step.lead_time_hours,
        wait_hours=wait,
        complete_accurate=step.complete_accurate,
        inventory_before=step.inventory_before,
        inventory_wait_hours=queue,
        capacity_per_day=capacity,
        utilisation=demand * share / capacity if demand and capacity else None,
        handoffs=step.handoffs,
        people=step.people,
        team=step.team,
        visit_share=share,
    )


def capacity_per_day(step: Step, available_hours_per_day: float) -> float | None:
    """Items a day the step can finish; None when it has no limit (no PT, no capacity)."""
    if step.capacity_per_day is not None:
        return step.capacity_per_day
    if step.process_time_hours <= 0:
        return None
    hours = step.people * step.availability * available_hours_per_day
    return hours / step.process_time_hours


def _constraint(
    vsm: ValueStreamMap, steps: tuple[StepFigures, ...], lead_time: float
) -> Constraint | None:
    limited = [(s, vsm.step(s.name)) for s in steps if s.capacity_per_day is not None]
    if not limited:
        return None
    # Lowest capacity per item of the stream first; min() keeps the earliest of equal steps.
    figures, step = min(
        limited, key=lambda pair: (pair[0].capacity_per_day or 0.0) / pair[0].visit_share
    )
    capacity = figures.capacity_per_day or 0.0
    reason = _reason(step, figures, capacity, vsm)
    if not near_capacity(figures.utilisation):
        reason += _waiting_elsewhere(steps, lead_time)
    return Constraint(
        step=figures.name,
        utilisation=figures.utilisation,
        capacity_per_day=capacity,
        reason=reason,
    )


def _waiting_elsewhere(steps: tuple[StepFigures, ...], lead_time: float) -> str:
    """Where the lead time goes when no step is near its capacity: queueing for people is
    then short, so more capacity would barely shorten it; the long waits are the lever."""
    waits = [(s.visit_share * (s.wait_hours + (s.inventory_wait_hours or 0.0)), s) for s in steps]
    wait, longest = max(waits, key=lambda pair: pair[0])
    if lead_time <= 0 or wait < 0.5 * lead_time:
        return ""
    return (
        f". No step is near its capacity (all under {percent_of(NEAR_CAPACITY)}): the lead time is "
        f"mostly waiting in {longest.name} ({wait:,.1f} h of {lead_time:,.1f} h), which more "
        "people would barely shorten"
    )


def _reason(step: Step, figures: StepFigures, capacity: float, vsm: ValueStreamMap) -> str:
    demand = vsm.demand_per_day
    own = step.capacity_per_day is not None
    if demand is None:
        if own:
            return (
                f"{step.name}: the lowest capacity, {capacity:.1f}/day as given; "
                "add demand_per_day to see utilisation"
            )
        per_person = step.visit_share * step.process_time_hours / (step.people * step.availability)
        return (
            f"{step.name}: the most work per available person, {per_person:.2f} h an item "
            f"(capacity {capacity:.1f}/day); add demand_per_day to see utilisation"
        )
    utilisation = figures.utilisation or 0.0
    visiting = "" if step.visit_share == 1 else f" ({percent_of(step.visit_share)} of it visiting)"
    if own:
        return (
            f"{step.name}: utilisation {percent_of(utilisation)} — demand "
            f"{demand:.1f}/day{visiting} against a capacity of {capacity:.1f}/day"
        )
    needed = demand * step.visit_share * step.process_time_hours
    available = step.people * step.availability * vsm.available_hours_per_day
    return (
        f"{step.name}: utilisation {percent_of(utilisation)} — demand {demand:.1f}/day{visiting} "
        f"needs {needed:.1f} h of work a day, {available:.1f} h are available"
    )


def _waste(
    steps: tuple[StepFigures, ...],
    demand: float | None,
    hourly_cost: float | None,
    handoff_cost_hours: float,
    period_days: float,
    rework_in_process_time: bool = False,
) -> Waste:
    def rework(s: StepFigures) -> float:
        # Expected passes 1 ÷ %C&A: the extra ones are (1 ÷ %C&A − 1) × one pass, which is
        # (1 − %C&A) × a process time that already holds every pass.
        extra = 1 - s.complete_accurate if rework_in_process_time else 1 / s.complete_accurate - 1
        return s.visit_share * s.process_time_hours * extra

    hours = {
        "waiting": sum(s.visit_share * s.wait_hours for s in steps),
        "rework": sum(rework(s) for s in steps),
        "handoffs": sum(s.visit_share * s.handoffs for s in steps) * handoff_cost_hours,
        "partially_done_work": sum(s.visit_share * (s.inventory_wait_hours or 0.0) for s in steps),
    }
    money_per_item_hour = (
        demand * period_days * hourly_cost
        if demand is not None and hourly_cost is not None
        else None
    )
    return Waste(
        categories=tuple(
            WasteCategory(
                category=name,
                hours_per_item=hours[name],
                money_per_period=(
                    hours[name] * money_per_item_hour if money_per_item_hour is not None else None
                ),
            )
            for name in WASTE_CATEGORIES
        ),
        period_days=period_days,
        hourly_cost=hourly_cost,
        handoff_cost_hours=handoff_cost_hours,
    )
