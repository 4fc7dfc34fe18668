"""Run a twin forward from its ``as_of`` (``obeya simulate twin.toml``).

A discrete-event simulation written for the twin (a heap of timed actions, one
``random.Random`` per replication): items arrive as a Poisson process shaped by the weekly
profile, visit states as the routing draws them and, in work states, hold a person of the
step. An item bound for work waits in its current state until a person of that step is free
(first come, first served), and the person takes it at the next working instant; working
hours turn into elapsed time through the calendar. A person keeps an item that goes on to
another work state of the same step. The run starts from the items in progress at ``as_of``:
each resumes where it was, with the time it still needs drawn from the observed times longer
than the time it has already spent there (a fresh draw when none is longer); items in work
occupy their step's people first, even beyond its capacity.

Every state entry is an event (item, state, time, person), as a tracker would record it; the
figures of a run are measured from those events with the flow conventions
(:mod:`obeya.core.twin.measure`).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from obeya.core.simulation.engine import CHECK_EVERY, Budget
from obeya.core.twin.calendar import WorkCalendar, week_hour
from obeya.core.twin.model import FINISH, Twin

Array = np.ndarray[Any, Any]

_ARRIVE, _LEAVE, _START = 0, 1, 2
#: Visits of about the same age on entry whose stays an age-bound delay draws from (at least).
AGE_NEIGHBOURS = 10
_WORK, _QUEUE, _DELAY, _DONE = 0, 1, 2, 3
_KIND_CODE = {"work": _WORK, "queue": _QUEUE, "delay": _DELAY, "done": _DONE}


@dataclass(frozen=True)
class Trajectory:
    """One replication's simulated events, in the order they happened: the item (index
    into :attr:`TwinRun.item_ids`, then new items), the state (index into the twin's
    states), the time (epoch hours) and the person (−1: none; else ``step * 1_000_000 +
    person``)."""

    item: Array
    state: Array
    t: Array
    person: Array
    items: int  # initial items + arrivals
    busy_hours: tuple[float, ...]  # per step: working hours its people held items


@dataclass(frozen=True)
class TwinRun:
    twin: Twin
    days: float
    seed: int
    replications: tuple[Trajectory, ...]

    @property
    def end(self) -> float:
        return self.twin.as_of + self.days * 24.0


def run_twin(
    twin: Twin,
    *,
    days: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    budget: Budget | None = None,
    arrivals: Array | None = None,
) -> TwinRun:
    """Simulate ``days`` from ``twin.as_of``, ``replications`` times (the twin's defaults).
    ``arrivals``: instants (epoch hours) to replay instead of the twin's Poisson arrivals,
    e.g. the items that really came (a check of the process given the demand)."""
    days = twin.days if days is None else days
    reps = twin.replications if replications is None else replications
    seed = twin.seed if seed is None else seed
    spent = budget if budget is not None else Budget()
    model = _Model(twin)
    runs = tuple(
        model.replicate(days, seed + r, spent, f"twin, replication {r}", arrivals)
        for r in range(reps)
    )
    return TwinRun(twin, days, seed, runs)


def arrival_times(twin: Twin, start: float, end: float, rng: np.random.Generator) -> Array:
    """Poisson arrivals between ``start`` and ``end`` (epoch hours), hour by hour at the
    week's profile × the weekly rate."""
    first = math.floor(start)
    hours = np.arange(first, math.ceil(end), dtype=np.float64)
    rates = twin.arrivals.per_week * np.asarray(twin.arrivals.profile) / sum(twin.arrivals.profile)
    counts = rng.poisson(rates[week_hour(hours)])
    times = np.repeat(hours, counts) + rng.random(int(counts.sum()))
    times = times[(times >= start) & (times < end)]
    times.sort()
    return times


class _Model:
    """The twin in the shape the loop reads fastest: lists indexed by state and step."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        index = {s.name: i for i, s in enumerate(twin.states)}
        step_index = {s.name: k for k, s in enumerate(twin.steps)}
        self.index = index
        self.kind = [_KIND_CODE[s.kind] for s in twin.states]
        self.step = [step_index.get(s.step or "", -1) for s in twin.states]
        self.hours = [s.hours for s in twin.states]
        self.ages = [s.ages for s in twin.states]
        self.entry_ages = [[e for e, _ in s.ages] for s in twin.states]
        self.targets: list[list[int]] = []
        self.shares: list[list[float]] = []
        self.cumulative: list[list[float]] = []
        for s in twin.states:
            total = math.fsum(p for _, p in s.next)
            self.targets.append([-1 if name == FINISH else index[name] for name, _ in s.next])
            self.shares.append([p / total for _, p in s.next] if total else [])
            self.cumulative.append(list(itertools.accumulate(self.shares[-1])))
        #: The target whose visits an age-bound delay's pairs come from: its most common one.
        self.age_target = [
            self.targets[i][int(np.argmax(self.shares[i]))] if s.ages and self.shares[i] else -2
            for i, s in enumerate(twin.states)
        ]
        self.release = [(s.release_weekdays, s.release_hour) for s in twin.states]
        self.servers = [s.servers for s in twin.steps]
        self.first_targets = [index[name] for name, _ in twin.arrivals.first]
        total = math.fsum(p for _, p in twin.arrivals.first)
        acc, cum = 0.0, []
        for _, p in twin.arrivals.first:
            acc += p
            cum.append(acc / total)
        self.first_cumulative = cum

    def replicate(
        self, days: float, seed: int, budget: Budget, where: str, replay: Array | None
    ) -> Trajectory:
        twin, cal = self.twin, self.twin.calendar
        rng = random.Random(seed)
        start, end = twin.as_of, twin.as_of + days * 24.0
        if replay is None:
            arrivals = arrival_times(twin, start, end, np.random.default_rng(seed))
        else:
            arrivals = np.sort(replay[(replay > start) & (replay < end)])
        n0 = len(twin.items)
        n_items = n0 + len(arrivals)
        state = [-1] * n_items
        held = [-1] * n_items  # step whose person holds the item
        born = [math.nan] * n_items  # its first event, the base of its age
        person = [-1] * n_items
        free = [list(range(c - 1, -1, -1)) for c in self.servers]
        waiting: list[deque[tuple[int, int]]] = [deque() for _ in self.servers]
        slot_since: list[dict[int, float]] = [{} for _ in self.servers]
        busy = [0.0] * len(self.servers)
        ev_item: list[int] = []
        ev_state: list[int] = []
        ev_t: list[float] = []
        ev_person: list[int] = []
        heap: list[tuple[float, int, int, int, int]] = []
        counter = 0
        kind, step_of, hours = self.kind, self.step, self.hours

        def push(t: float, action: int, item: int, arg: int) -> None:
            nonlocal counter
            counter += 1
            heapq.heappush(heap, (t, counter, action, item, arg))

        def draw_next(s: int) -> int | None:
            cum = self.cumulative[s]
            if not cum:
                return None
            return self.targets[s][min(bisect.bisect_right(cum, rng.random()), len(cum) - 1)]

        def draw_hours(s: int, older_than: float = -1.0) -> float:
            values = hours[s]
            if not values:
                return 0.0
            if older_than >= 0:
                i = bisect.bisect_right(values, older_than)
                if i < len(values):
                    return values[i + int(rng.random() * (len(values) - i))] - older_than
            return values[int(rng.random() * len(values))]

        def draw_after_done(s: int, age: float) -> int:
            """Whether an item done ``age`` hours ago still moves on (e.g. resolved, then
            closed): the chance to go on, weighed by the share of observed stays longer than
            ``age``; then where to."""
            go_on = [
                (target, p)
                for target, p in zip(self.targets[s], self.shares[s], strict=True)
                if target >= 0
            ]
            p_on = math.fsum(p for _, p in go_on)
            values = hours[s]
            longer = (
                (len(values) - bisect.bisect_right(values, age)) / len(values) if values else 0.0
            )
            weight = p_on * longer
            if weight <= 0 or rng.random() * (1 - p_on + weight) >= weight:
                return -1
            pick = rng.random() * p_on
            for target, p in go_on:
                pick -= p
                if pick <= 0:
                    return target
            return go_on[-1][0]

        def age_end(item: int, s: int, t: float, entered: float) -> float:
            """When ``item``, in state ``s`` since ``entered``, leaves a delay whose stay
            depends on the item's age: at the age at exit of one of the visits that entered
            at about its age (one later than its age now); after a drawn stay when none is,
            or its age is unknown."""
            pairs, entries, age = self.ages[s], self.entry_ages[s], entered - born[item]
            if not math.isnan(age):
                k = max(AGE_NEIGHBOURS, len(pairs) // 20)
                hi = min(len(pairs), max(bisect.bisect_left(entries, age) + k // 2, k))
                now = t - born[item]
                exits = [x for _, x in pairs[max(0, hi - k) : hi] if x > now]
                if exits:
                    return born[item] + exits[int(rng.random() * len(exits))]
            return t + draw_hours(s, t - entered if t > entered else -1.0)

        def next_release(s: int, t: float) -> float:
            days_of_week, hour = self.release[s]
            base = math.floor(t / 24.0) * 24.0
            for d in range(0, 8):
                moment = base + d * 24.0 + hour
                if moment > t and int(week_hour(moment)) // 24 in days_of_week:
                    return moment
            return t

        def give_back(k: int, slot: int, t: float) -> None:
            began = slot_since[k].pop(slot)
            busy[k] += _working_overlap(cal, began, t, start, end)
            if slot >= self.servers[k]:  # an extra slot of an item in work at as_of
                return
            if waiting[k]:
                item, target = waiting[k].popleft()
                grant(k, slot, item, target, t)
            else:
                free[k].append(slot)

        def grant(k: int, slot: int, item: int, target: int, t: float) -> None:
            held[item], person[item] = k, slot
            slot_since[k][slot] = t
            begin = cal.next_open(t)
            if begin > t:
                push(begin, _START, item, target)
            else:
                enter(item, target, t)

        def request(k: int, item: int, target: int, t: float) -> None:
            if free[k]:
                grant(k, free[k].pop(), item, target, t)
            else:
                waiting[k].append((item, target))

        def go(item: int, target: int, t: float) -> None:
            k = held[item]
            if target >= 0 and kind[target] == _WORK:
                k2 = step_of[target]
                if k == k2:
                    enter(item, target, t)
                    return
                if k >= 0:
                    slot = person[item]
                    held[item], person[item] = -1, -1
                    give_back(k, slot, t)
                request(k2, item, target, t)
                return
            if k >= 0:
                slot = person[item]
                held[item], person[item] = -1, -1
                give_back(k, slot, t)
            enter(item, target, t)

        def settle(item: int, s: int, t: float, age: float) -> None:
            """Schedule how ``item`` leaves state ``s``, having been there ``age`` hours
            (working hours in work) at ``t``."""
            k = kind[s]
            target = draw_next(s) if k != _DONE or age <= 0 else draw_after_done(s, age)
            if target is None:
                return  # nobody ever left this state: the item stays
            if k == _DONE and target == -1:
                return  # finished: its last event is this one
            if k == _WORK:
                push(cal.add(t, draw_hours(s, age if age > 0 else -1.0)), _LEAVE, item, target)
            elif k == _QUEUE and target >= 0 and kind[target] == _WORK:
                go(item, target, t)
            elif self.release[s][0]:
                push(next_release(s, t), _LEAVE, item, target)
            elif target == self.age_target[s]:
                push(age_end(item, s, t, t - age if age > 0 else t), _LEAVE, item, target)
            else:
                push(t + draw_hours(s, age if age > 0 else -1.0), _LEAVE, item, target)

        def enter(item: int, s: int, t: float) -> None:
            state[item] = s
            ev_item.append(item)
            ev_state.append(s)
            ev_t.append(t)
            k = held[item]
            ev_person.append(k * 1_000_000 + person[item] if k >= 0 else -1)
            settle(item, s, t, 0.0)

        # Items in progress at as_of: those in work first take their people.
        for i, it in enumerate(twin.items):
            s = self.index[it.state]
            state[i] = s
            born[i] = math.nan if it.arrived is None else it.arrived
            if kind[s] == _WORK:
                k = step_of[s]
                slot = free[k].pop() if free[k] else self.servers[k] + len(slot_since[k])
                held[i], person[i] = k, slot
                slot_since[k][slot] = start
        for i, it in enumerate(twin.items):
            s = state[i]
            age = (
                cal.working(start) - cal.working(it.since) if kind[s] == _WORK else start - it.since
            )
            settle(i, s, start, max(age, 0.0) or 1e-9)
        for j, at in enumerate(arrivals.tolist()):
            push(at, _ARRIVE, n0 + j, 0)

        processed = 0
        first_targets, first_cum = self.first_targets, self.first_cumulative
        while heap and heap[0][0] < end:
            t, _, action, item, arg = heapq.heappop(heap)
            if action == _ARRIVE:
                born[item] = t
                target = first_targets[
                    min(bisect.bisect_right(first_cum, rng.random()), len(first_cum) - 1)
                ]
                go(item, target, t)
            elif action == _LEAVE:
                go(item, arg, t)
            else:
                enter(item, arg, t)
            processed += 1
            if processed == CHECK_EVERY:
                budget.spend(processed, where)
                processed = 0
        budget.spend(processed, where)
        for k, slots in enumerate(slot_since):
            for began in slots.values():
                busy[k] += _working_overlap(cal, began, end, start, end)
        return Trajectory(
            item=np.asarray(ev_item, dtype=np.int64),
            state=np.asarray(ev_state, dtype=np.int64),
            t=np.asarray(ev_t, dtype=np.float64),
            person=np.asarray(ev_person, dtype=np.int64),
            items=n_items,
            busy_hours=tuple(busy),
        )


def _working_overlap(cal: WorkCalendar, a: float, b: float, lo: float, hi: float) -> float:
    a, b = max(a, lo), min(b, hi)
    return cal.working(b) - cal.working(a) if b > a else 0.0
