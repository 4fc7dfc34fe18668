"""Discover a current-state value stream map from an event log.

The figures are computed set-wise (Ibis expressions on DuckDB in-process by default, or on any
Ibis backend given), so a log of millions of events never passes through a Python loop. The
conventions below are the ones ``obeya map discover`` prints; they extend docs/conventions.md.

Steps
    With a workflow that has ``[stages]``: one step per stage, in the order the stages are
    written. A step holds the stage's *started, not done* states (active and waiting); done,
    backlog and unmapped states belong to no step, so a stage made only of them (e.g. a
    ``Close`` stage of done states) is left out: nothing is worked or waited for in it.
    Without stages: each active or waiting state the data holds is its own step, in the
    workflow's flow order. Without a workflow: each state of the data is a step, in order of
    its mean position within items, and every state counts as active (so PT = LT and there is
    no inventory). A workflow that puts no state of the data in a step is refused.

Visits
    Events of an item are ordered by time, then file order (``seq``). A *visit* to a step is a
    maximal run of consecutive events whose states are in the step; it ends at the item's next
    event outside the step. A visit still open at the item's last event is not completed and
    adds nothing to the time figures.

Per step (each figure comes with its sample size)
    - ``items``: items with at least one completed visit; the sample of PT and LT.
    - ``process_time_hours`` (PT): mean over those items of the item's hours in the step's
      active states, summed over its completed visits.
    - ``lead_time_hours`` (LT): mean over those items of the item's elapsed hours in the step
      (all its states, so the wait inside the step is included), summed over completed visits.
      Means, not medians: a map's timeline adds its steps, and only means add up to the mean
      lead time the stream measures (long tails and rework are where the time goes). Each
      item's LT is at least its PT and both means are over the same items, so LT is never
      below PT; :meth:`Discovery.to_map` still clamps LT to at least PT so a rounding artefact
      can never make an invalid map.
    - ``complete_accurate`` (%C&A, 0..1): over the items whose *first* visit to the step was
      completed (``complete_accurate_items``), the share that never came back to this step or an
      earlier one after that first visit (coming back is rework).
    - ``handoffs``: per item entering the step from an earlier event, the average number of
      entries at which the person changed: the assignee of the first event in the step differs
      from that of the event just before (both known). The log's ``assignee`` column is used when
      it holds any value, else its ``team`` column; with neither, ``handoffs`` is null.
      ``handoff_items``: items with at least one such entry.
    - ``inventory_before``: the average number of items in the step's *waiting* states, over the
      period from the log's first to its last event (item-time in those states ÷ the period, the
      same as averaging the day-by-day count). In a stage-based workflow the queue in front of a
      step's work is the step's own waiting states (the LT of a map includes the wait before the
      step). A visit open at the end of the data counts until the last event of the log.
      ``inventory_days`` (the period, in days) is its sample.

Demand
    ``demand_per_day``: the items that entered any step ÷ the log's span in days
    (``demand_items`` is its sample): the demand the stream actually served; a user who
    knows the real demand sets it on the map.

    - ``rework_loops``: per pair of a step and an earlier one, the moves from a visit of the
      step straight to a visit of the earlier one, and those per item with a completed visit
      of the step (``share``): the loops back a map draws.
    - ``visit_share``: the share of the finished items that passed the step (items still in
      progress may not have reached it yet). PT, LT, %C&A and handoffs are per item that passed
      it; a step under 5 % is a side branch of the map.

Totals
    ``lead_time_hours`` = Σ visit share × step LT, ``process_time_hours`` = Σ visit share ×
    step PT (an item's expected time in each step: a step 3 % of items pass adds 3 % of its
    LT), ``activity_ratio`` = PT ÷ LT, ``rolled_complete_accurate`` = Π (1 − visit share ×
    (1 − step %C&A)), the share of items that pass every step they visit right first time.
    Steps without a figure (no completed visit) add nothing.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pyarrow as pa

from obeya.core.events import MICROS_PER_DAY, MICROS_PER_HOUR, EventLog
from obeya.core.maps.calculations import SIDE_BRANCH_SHARE, calculate
from obeya.core.maps.model import ReworkLoop, Step, ValueStreamMap
from obeya.core.metrics.analysis import FlowAnalysis
from obeya.core.metrics.expressions import Table, category_code, category_of
from obeya.core.workflow import Category, Workflow
from obeya.errors import InputError

if TYPE_CHECKING:
    from obeya.core.maps.reconcile import Reconciliation
    from obeya.core.twin.model import Twin

#: Columns discovery reads: the flow columns and who held the item.
_COLUMNS = ("item_id", "state", "t", "seq", "team", "assignee")
#: %C&A handed to a map when every item came back: the map model needs a share above zero.
_FLOOR_COMPLETE_ACCURATE = 0.001
#: The visit share of a step no finished item passed (the model needs a share above zero).
_FLOOR_SHARE = 1e-4


@dataclass(frozen=True)
class DiscoveredStep:
    """One step's figures as measured, with their sample sizes (None: no sample)."""

    name: str
    states: tuple[str, ...]
    items: int
    process_time_hours: float | None
    lead_time_hours: float | None
    complete_accurate: float | None
    complete_accurate_items: int
    handoffs: float | None
    handoff_items: int
    inventory_before: float | None
    #: The share of the finished items that passed this step (None: no item finished): a
    #: step few items visit is a side branch of the map.
    visit_share: float | None = None

    @property
    def share(self) -> float:
        """The visit share, all items when no item finished to tell."""
        return 1.0 if self.visit_share is None else self.visit_share

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "states": list(self.states),
            "items": self.items,
            "process_time_hours": self.process_time_hours,
            "lead_time_hours": self.lead_time_hours,
            "complete_accurate": self.complete_accurate,
            "complete_accurate_items": self.complete_accurate_items,
            "handoffs": self.handoffs,
            "handoff_items": self.handoff_items,
            "inventory_before": self.inventory_before,
            "visit_share": self.visit_share,
        }


@dataclass(frozen=True)
class DiscoveredLoop:
    """Items going back from a step to an earlier one: the moves, and the moves per item
    with a completed visit of ``source``."""

    source: str
    target: str
    moves: int
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "moves": self.moves,
            "share": self.share,
        }


@dataclass(frozen=True)
class Discovery:
    """The measured current state: steps in flow order and the totals the map reader wants."""

    source: str
    steps: tuple[DiscoveredStep, ...]
    #: The column handoffs were counted on ("assignee" or "team"), or None.
    handoff_column: str | None
    #: The period ``inventory_before`` is averaged over, in days.
    inventory_days: float
    #: Items that entered any step, per day of that period: the demand the stream served
    #: (the map's ``demand_per_day`` until the user gives the customer's real demand).
    demand_per_day: float | None = None
    #: Items behind ``demand_per_day``.
    demand_items: int = 0
    #: The measured mean lead time split over the steps and outside them, beside the map's.
    reconciliation: Reconciliation | None = None
    #: Items sent back to an earlier step (rework), in flow order of their source.
    loops: tuple[DiscoveredLoop, ...] = ()

    def totals(self) -> dict[str, float | None]:
        lead = sum(s.share * s.lead_time_hours for s in self.steps if s.lead_time_hours is not None)
        process = sum(
            s.share * s.process_time_hours for s in self.steps if s.process_time_hours is not None
        )
        rolled = math.prod(
            1 - s.share * (1 - s.complete_accurate)
            for s in self.steps
            if s.complete_accurate is not None
        )
        return {
            "lead_time_hours": lead,
            "process_time_hours": process,
            "activity_ratio": process / lead if lead > 0 else None,
            "rolled_complete_accurate": rolled,
        }

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable document of ``obeya map discover --json``."""
        return {
            "source": self.source,
            "steps": [s.to_dict() for s in self.steps],
            "totals": self.totals(),
            "handoff_column": self.handoff_column,
            "inventory_days": self.inventory_days,
            "demand_per_day": self.demand_per_day,
            "demand_items": self.demand_items,
            "lead_time_reconciliation": None
            if self.reconciliation is None
            else self.reconciliation.to_dict(),
            "rework_loops": [loop.to_dict() for loop in self.loops],
        }

    def to_map(self, name: str, twin: Twin | None = None) -> ValueStreamMap:
        """A value stream map of the discovered steps, with the model's defaults for what data
        cannot tell (people, capacity, batch size, availability); demand is the one served.

        A discovered step's LT already holds the wait in its waiting states, which
        ``inventory_before`` counts, so the map says so (``lead_time_includes_inventory``) and
        the calculations do not add that wait twice.

        Figures without a sample become 0 h and 100 % C&A; LT is clamped to at least PT and
        %C&A to at least 0.1 % (the model refuses 0), so the map always validates.

        With the stream's ``twin`` (:mod:`obeya.core.twin`), the map draws the same model: a
        step's people are the twin's; its PT is the working time an item takes of a person
        there (visits per item × working hours per visit, rework included, ÷ the items a
        person holds at once); the day's available hours are the twin's calendar and demand
        is the twin's arrival rate — so a step's utilisation, demand × PT ÷ (people ×
        available hours), is the load the twin offers it, and adding a person on the map adds
        the capacity the twin would.
        """
        if not self.steps:
            raise InputError(f"{self.source}: no step was found in the data to map")
        steps = []
        for s in self.steps:
            pt = s.process_time_hours or 0.0
            ca = 1.0 if s.complete_accurate is None else s.complete_accurate
            steps.append(
                Step(
                    name=s.name,
                    process_time_hours=pt,
                    lead_time_hours=max(s.lead_time_hours or 0.0, pt),
                    complete_accurate=max(ca, _FLOOR_COMPLETE_ACCURATE),
                    inventory_before=s.inventory_before or 0.0,
                    handoffs=s.handoffs or 0.0,
                    visit_share=min(max(s.share, _FLOOR_SHARE), 1.0),
                    items=s.items,
                    states=s.states,
                )
            )
        vsm = ValueStreamMap(
            name=name,
            steps=tuple(steps),
            # The loops that matter to the stream: those that send back at least 5 % of it.
            rework_loops=tuple(
                ReworkLoop(loop.source, loop.target, min(loop.share, 10.0))
                for loop in self.loops
                if loop.moves >= SIDE_BRANCH_SHARE * self.demand_items
            ),
            demand_per_day=self.demand_per_day,
            lead_time_includes_inventory=True,
            source=self.source,
        )
        drawn = vsm if twin is None else _with_twin(vsm, twin)
        return replace(drawn, notes=self._notes(twin, calculate(drawn).lead_time_hours))

    def _notes(self, twin: Twin | None, lead_time: float) -> str:
        """Where the map's demand and lead time come from, kept with the saved map: a reader
        of the drawing asks which period the demand is of, and why the map's lead time is not
        the measured one."""
        demand = self.demand_note(twin)
        if self.reconciliation is None:
            return demand
        discovered = self.totals()["lead_time_hours"] or 0.0
        drawn = (
            ""
            if abs(lead_time - discovered) <= 0.01 * max(discovered, 1e-9)
            else f"this map's {lead_time:,.1f} h holds the twin's process times (rework "
            "included) where they are longer than the measured means; as discovered, "
        )
        return f"{demand} Lead time: {drawn}{self.reconciliation.explanation}."

    def demand_note(self, twin: Twin | None = None) -> str:
        """The map's demand and the period it is of."""
        if twin is not None and twin.arrivals.per_week > 0:
            demand = (
                f"Demand: {twin.arrivals.per_week / 7:.3g} items a day, the twin's arrival rate "
                f"({twin.arrivals.evidence})."
            )
        elif self.demand_per_day is not None:
            demand = (
                f"Demand: {self.demand_per_day:.3g} items a day, the {self.demand_items:,} items "
                f"that entered any step over the history's {self.inventory_days:,.0f} days; "
                "set the customer's demand if it differs."
            )
        else:
            demand = "Demand: not known from the history; set the customer's demand."
        return demand


def _with_twin(vsm: ValueStreamMap, twin: Twin) -> ValueStreamMap:
    """``vsm`` with the twin's people, capacities, calendar and demand (see ``to_map``)."""
    from obeya.core.twin.load import step_loads

    hours_per_day = twin.calendar.hours_per_week / 7
    loads = {load.name: load for load in step_loads(twin)}
    steps = []
    for step in vsm.steps:
        mine = [t for t in twin.steps if set(t.states) & set(step.states)]
        work = sum(loads[t.name].visits_per_item * loads[t.name].work_hours_per_visit for t in mine)
        if not mine or work <= 0:
            # Nobody works here in the twin (waits, a timer): no process time, so no
            # capacity to fill and no utilisation, whatever elapsed time the data shows.
            steps.append(replace(step, process_time_hours=0.0, capacity_per_day=None))
            continue
        people = sum(t.people for t in mine)
        # A person holding k items at once gives each a k-th of their time; the twin's work
        # is per item of the stream, the map's PT per item that passes the step.
        touch = work * people / sum(t.servers for t in mine) / step.visit_share
        steps.append(
            replace(
                step,
                people=float(people),
                process_time_hours=touch,
                lead_time_hours=max(step.lead_time_hours, touch),
                availability=1.0,
                capacity_per_day=None,
            )
        )
    return replace(
        vsm,
        steps=tuple(steps),
        process_time_includes_rework=True,  # the twin's work per item holds every pass
        demand_per_day=twin.arrivals.per_week / 7 or vsm.demand_per_day,
        available_hours_per_day=min(max(hours_per_day, 1e-3), 24.0),
    )


def step_states(
    workflow: Workflow | None, observed: Sequence[str]
) -> list[tuple[str, tuple[str, ...]]]:
    """The steps (name, states) in flow order; see the module docstring.

    ``observed``: the states of the data, in order of mean position within items.
    """
    if workflow is None:
        return [(s, (s,)) for s in observed]
    categories = workflow.categories()
    started = {Category.ACTIVE, Category.WAITING}

    def counted(state: str) -> bool:
        return categories.get(state) in started

    if workflow.stages:
        steps = [(name, tuple(s for s in states if counted(s))) for name, states in workflow.stages]
        return [(name, states) for name, states in steps if states]
    seen = set(observed)
    return [(s, (s,)) for s in workflow.state_order(observed) if counted(s) and s in seen]


@contextlib.contextmanager
def _session(
    log: EventLog, workflow: Workflow | None, backend: Any
) -> Iterator[tuple[FlowAnalysis, Table]]:
    """The log as a table on ``backend`` (a fresh DuckDB by default, else as
    :func:`~obeya.core.metrics.engine.log_table` hands it to that engine) with the analysis
    plumbing; everything is dropped on exit."""
    from obeya.core.metrics.engine import duckdb_backend, log_table

    con = backend if backend is not None else duckdb_backend()
    try:
        with log_table(con, log) as loaded:
            # FlowAnalysis gives the plumbing (kept tables, the observed states in flow order).
            analysis = FlowAnalysis(con, loaded.events, workflow, source=log.source)
            try:
                yield analysis, loaded.events
            finally:
                analysis.close()
    finally:
        if backend is None:
            con.disconnect()


def discover_with_twin(
    log: EventLog, workflow: Workflow, *, backend: Any = None
) -> tuple[Discovery, Twin | None]:
    """The discovery of ``log`` and the stream's twin, as one model: the active states the
    twin finds nobody works (a timer, a wait bound to the item's age) are measured as waiting,
    so a step's process time is the work the twin's people do there, not a closing timer's
    30 days. A history no twin can be fitted to is discovered as it is (twin None)."""
    from obeya.core.twin.fit import fit_twin
    from obeya.core.twin.model import TwinError

    try:
        twin = fit_twin(log, workflow, backend=backend)
    except TwinError:
        return discover(log, workflow, backend=backend), None
    return discover(log, as_twin_sees(workflow, twin), backend=backend), twin


def as_twin_sees(workflow: Workflow, twin: Twin) -> Workflow:
    """``workflow`` with the active states the twin made delays counted as waiting."""
    delays = {s.name for s in twin.states if s.kind == "delay"} & set(workflow.active)
    if not delays:
        return workflow
    return replace(
        workflow,
        active=tuple(s for s in workflow.active if s not in delays),
        waiting=(*workflow.waiting, *(s for s in workflow.active if s in delays)),
    )


def discover(log: EventLog, workflow: Workflow | None = None, *, backend: Any = None) -> Discovery:
    """Measure the value stream of ``log``, on ``backend`` (a fresh DuckDB by default)."""
    from obeya.core.maps.reconcile import reconcile, visit_shares

    with _session(log, workflow, backend) as (analysis, events):
        found = _discover(analysis, events, log, workflow)
    samples = step_samples(log, workflow, backend=backend)
    shares = visit_shares(samples)
    found = replace(
        found, steps=tuple(replace(s, visit_share=shares.get(s.name)) for s in found.steps)
    )
    map_hours = found.totals()["lead_time_hours"] or 0.0
    return replace(found, reconciliation=reconcile(samples, map_hours))


Column = np.ndarray[Any, Any]


@dataclass(frozen=True)
class StepSamples:
    """Per-item figures behind a discovery, for models fitted to history (simulation).

    ``items``: one row per item that entered a step: ``item_id``, ``entered_us`` (its first
    event in a step) and ``finish_us`` (its last event when that is done, else null; without
    a workflow every item finishes at its last event, as in the flow conventions).
    ``times``: one row per item and step it visited: ``item_id``, ``step`` (index into
    ``steps``), ``lt_us`` (elapsed time over its completed visits) and ``completed`` (every
    visit completed). ``first_us``/``last_us``: the log's first and last event.
    """

    steps: tuple[tuple[str, tuple[str, ...]], ...]
    items: pa.Table
    times: pa.Table
    first_us: int
    last_us: int

    def item_times(self) -> tuple[Column, Column, Column]:
        """Per item: when it entered its first step and when it finished (µs; 0 where it did
        not), and whether it finished."""
        entered = self.items.column("entered_us").to_numpy().astype(np.int64)
        finish_col = self.items.column("finish_us")
        done = np.asarray(finish_col.is_valid())
        finish = finish_col.fill_null(0).to_numpy().astype(np.int64)
        return entered, finish, done


def step_samples(
    log: EventLog, workflow: Workflow | None = None, *, backend: Any = None
) -> StepSamples:
    """The per-item times of every step of ``log`` (steps and visits as in :func:`discover`)."""
    with _session(log, workflow, backend) as (analysis, events):
        steps = _steps(analysis, log, workflow)
        annotated = analysis._materialise(_annotated(events, workflow, steps, None))
        visits = _visits(annotated)
        times = visits.group_by([visits.item_id, visits.step]).aggregate(
            lt_us=visits.elapsed_us.sum(where=visits.open_events == 0).coalesce(0),
            completed=visits.open_events.max() == 0,
        )
        last = annotated.filter(annotated.next_t.isnull())
        if workflow is not None:  # without one, every item finishes at its last event
            last = last.filter(last.category == category_code(Category.DONE))
        finished = last.select(item_id=last.item_id, finish_us=last.t)
        in_step = annotated.filter(annotated.step.notnull())
        entered = in_step.group_by(in_step.item_id).aggregate(entered_us=in_step.t.min())
        items = entered.left_join(finished, entered.item_id == finished.item_id).select(
            entered.item_id, entered.entered_us, finished.finish_us
        )
        bounds = analysis._rows(annotated.aggregate(lo=annotated.t.min(), hi=annotated.t.max()))
        return StepSamples(
            steps=tuple(steps),
            items=analysis._arrow(items.order_by(items.item_id)),
            times=analysis._arrow(times.order_by([times.item_id, times.step])),
            first_us=int(bounds[0]["lo"]),
            last_us=int(bounds[0]["hi"]),
        )


def _steps(
    analysis: FlowAnalysis, log: EventLog, workflow: Workflow | None
) -> list[tuple[str, tuple[str, ...]]]:
    """The steps of the log; an error when there is nothing to map."""
    observed = analysis.observed_states()
    if not observed:
        raise InputError(f"{log.source}: no events to map")
    if workflow is not None:
        workflow.check_against(observed)
    steps = step_states(workflow, observed)
    if not steps:
        raise InputError(
            f"{log.source}: no state of the data is active or waiting in the workflow, "
            "so there is no step to map"
        )
    return steps


def _who_column(log: EventLog) -> str | None:
    """The column handoffs are counted on: assignee if the log has any, else team."""
    for column in ("assignee", "team"):
        if log.table.column(column).null_count < log.table.num_rows:
            return column
    return None


def _discover(
    analysis: FlowAnalysis, events: Table, log: EventLog, workflow: Workflow | None
) -> Discovery:
    """The figures of every step: two per-event passes materialised, then small aggregates."""
    steps = _steps(analysis, log, workflow)
    who = _who_column(log)
    rows = analysis._rows
    annotated = analysis._materialise(_annotated(events, workflow, steps, who))
    visits = analysis._materialise(_visits(annotated))

    bounds = rows(annotated.aggregate(lo=annotated.t.min(), hi=annotated.t.max()))[0]
    lo, hi = int(bounds["lo"]), int(bounds["hi"])
    times = {r["step"]: r for r in rows(_step_times(visits))}
    quality = {r["step"]: r for r in rows(_first_visits(visits))}
    handoffs = {r["step"]: r for r in rows(_handoffs(visits))}
    back = rows(_loops(visits))
    waiting = {r["step"]: r for r in rows(_waiting(annotated, hi))}
    in_step = annotated.filter(annotated.step.notnull())
    arrivals = int(rows(in_step.aggregate(items=in_step.item_id.nunique()))[0]["items"] or 0)
    days = (hi - lo) / MICROS_PER_DAY

    out = []
    for index, (step_name, states) in enumerate(steps):
        t = times.get(index, {})
        q = quality.get(index, {})
        h = handoffs.get(index, {})
        w = waiting.get(index, {})
        entered = int(h.get("items") or 0)
        out.append(
            DiscoveredStep(
                name=step_name,
                states=states,
                items=int(t.get("items") or 0),
                process_time_hours=_hours(t.get("pt_us")),
                lead_time_hours=_hours(t.get("lt_us")),
                complete_accurate=_share(q.get("ok"), q.get("items")),
                complete_accurate_items=int(q.get("items") or 0),
                handoffs=(
                    None if who is None or not entered else float(h.get("handoffs") or 0) / entered
                ),
                handoff_items=entered if who is not None else 0,
                inventory_before=float(w.get("waiting_us") or 0) / (hi - lo) if hi > lo else None,
            )
        )
    loops = []
    for r in sorted(back, key=lambda r: (int(r["step"]), int(r["next_step"]))):
        passed = out[int(r["step"])].items
        if passed:
            loops.append(
                DiscoveredLoop(
                    source=out[int(r["step"])].name,
                    target=out[int(r["next_step"])].name,
                    moves=int(r["moves"]),
                    share=int(r["moves"]) / passed,
                )
            )
    return Discovery(
        source=log.source,
        steps=tuple(out),
        loops=tuple(loops),
        handoff_column=who,
        inventory_days=days,
        demand_per_day=arrivals / days if days > 0 and arrivals else None,
        demand_items=arrivals,
    )


def _hours(micros: Any) -> float | None:
    if micros is None or micros != micros:
        return None
    return float(micros) / MICROS_PER_HOUR


def _share(part: Any, whole: Any) -> float | None:
    return float(part or 0) / int(whole) if whole else None


def _annotated(
    events: Table,
    workflow: Workflow | None,
    steps: Sequence[tuple[str, tuple[str, ...]]],
    who: str | None,
) -> Table:
    """Each event with its step (null outside every step), whether it opens or closes a visit,
    its visit number within the item, and the lowest step the item is in after it."""
    # Like metrics' ``relaxed`` (every column nullable for the derived tables), plus the
    # columns that say who held the item, which the flow metrics leave behind.
    e = events.select(
        *[events[c].cast(events[c].type().copy(nullable=True)).name(c) for c in _COLUMNS]
    )
    step_of = {state: index for index, (_, states) in enumerate(steps) for state in states}
    step = e.state.substitute(step_of, else_=ibis.null("int64")).cast("int64")
    category = category_of(e.state, workflow)
    by_item = {"group_by": e.item_id, "order_by": [e.t, e.seq]}
    ordered = ibis.window(**by_item)
    after = ibis.window(**by_item, rows=(1, None))
    prev_step = step.lag().over(ordered)
    next_step = step.lead().over(ordered)
    handoff = ibis.literal(False)
    if who is not None:
        holder, prev_holder = e[who], e[who].lag().over(ordered)
        handoff = holder.notnull() & prev_holder.notnull() & (holder != prev_holder)
    opens = step.notnull() & (prev_step.isnull() | (prev_step != step))
    a = e.mutate(
        step=step,
        category=category,
        next_t=e.t.lead().over(ordered),
        has_prev=e.t.lag().over(ordered).notnull(),
        opens=opens,
        closes=step.notnull() & (next_step.isnull() | (next_step != step)),
        handoff=handoff,
        later_min=step.min().over(after),
    )
    upto = ibis.window(group_by=a.item_id, order_by=[a.t, a.seq], rows=(None, 0))
    return a.mutate(visit=_count(a.opens).sum().over(upto))


def _count(condition: Any) -> Any:
    """1 where ``condition`` holds, else 0 (PostgreSQL cannot cast a boolean to a number)."""
    return ibis.ifelse(condition, 1, 0).cast("int64")


def _visits(annotated: Table) -> Table:
    """One row per visit: its step, whether it completed, its elapsed and active time, whether it
    was entered from an earlier event and by a handoff, and the lowest step after it."""
    a = annotated.filter(annotated.step.notnull())
    span = a.next_t - a.t
    return a.group_by([a.item_id, a.visit]).aggregate(
        step=a.step.max(),
        open_events=a.t.count(where=a.next_t.isnull()),
        elapsed_us=span.sum(),
        active_us=span.sum(where=a.category == category_code(Category.ACTIVE)).coalesce(0),
        entered=_count(a.has_prev).max(where=a.opens),
        handoff=_count(a.handoff).max(where=a.opens),
        later_min=a.later_min.min(where=a.closes),
    )


def _step_times(visits: Table) -> Table:
    """Per step: items with a completed visit and the means of their summed PT and LT (µs)."""
    done = visits.filter(visits.open_events == 0)
    per_item = done.group_by([done.item_id, done.step]).aggregate(
        pt=done.active_us.sum(), lt=done.elapsed_us.sum()
    )
    return per_item.group_by(per_item.step).aggregate(
        items=per_item.item_id.count(),
        pt_us=per_item.pt.cast("float64").mean(),
        lt_us=per_item.lt.cast("float64").mean(),
    )


def _first_visits(visits: Table) -> Table:
    """Per step: items whose first visit completed, and how many never came back (%C&A)."""
    w = ibis.window(group_by=[visits.item_id, visits.step], order_by=visits.visit)
    first = visits.mutate(nth=ibis.row_number().over(w))
    first = first.filter((first.nth == 0) & (first.open_events == 0))
    no_rework = first.later_min.isnull() | (first.later_min > first.step)
    return first.group_by(first.step).aggregate(
        items=first.item_id.count(), ok=first.item_id.count(where=no_rework)
    )


def _loops(visits: Table) -> Table:
    """Per (step, earlier step): the moves from a visit of the one straight to the other."""
    w = ibis.window(group_by=visits.item_id, order_by=visits.visit)
    v = visits.mutate(next_step=visits.step.lead().over(w))
    back = v.filter(v.next_step.notnull() & (v.next_step < v.step))
    return back.group_by([back.step, back.next_step]).aggregate(moves=back.count())


def _handoffs(visits: Table) -> Table:
    """Per step: items entering it from an earlier event, and the handoffs at those entries."""
    entries = visits.filter(visits.entered == 1)
    return entries.group_by(entries.step).aggregate(
        items=entries.item_id.nunique(), handoffs=entries.handoff.sum()
    )


def _waiting(annotated: Table, last_t: int) -> Table:
    """Per step: item-microseconds in its waiting states (open visits run to the log's end)."""
    waiting = annotated.category == category_code(Category.WAITING)
    a = annotated.filter(annotated.step.notnull() & waiting)
    return a.group_by(a.step).aggregate(
        waiting_us=(a.next_t.coalesce(ibis.literal(last_t)) - a.t).sum()
    )


__all__ = [
    "DiscoveredStep",
    "Discovery",
    "StepSamples",
    "discover",
    "step_samples",
    "step_states",
]
