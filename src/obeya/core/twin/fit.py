"""Fit a twin to a stream's history up to a moment (``obeya calibrate … -o twin.toml``).

Every figure comes from the events at or before ``as_of`` (default: the log's last event) and
says which evidence it came from (docs/simulation.md, "The twin"):

- **Visits**: an item's consecutive events in one state are one visit; it ends at the item's
  next event in another state. The step of an active state is its workflow stage (or the
  state itself when the workflow has no stages).
- **Kinds**: active states are ``work``; a waiting state is a ``queue`` for the step of the
  first active state after it in the workflow's flow order, or a ``delay`` when no active
  state follows it (waiting on a customer, a vendor, a release); backlog and unmapped states
  are delays too; done states are ``done``. A delay whose exits fall on at most two weekdays
  at one hour (80 % or more of them) is a *release*: items wait until the next release.
- **Timers**: an active state a quarter of whose visits last the same number of hours (a day
  or more, ±1 h: a ticket closed automatically 15 days after it was resolved), or whose
  visits end at the item's age (below), is a delay.
- **Age-bound delays**: a delay whose visits end at the item's age rather than after a stay
  (a ticket closed a month after it was opened, however long it sat resolved): the later an
  item enters, the shorter it stays (correlation of entry age and stay ≤
  :data:`AGE_BOUND_CORRELATION`), and the age at exit spreads at most
  :data:`AGE_BOUND_SPREAD` of the stay (interquartile ranges). A visit then ends at the age at
  exit of one of the visits that entered at about its age.
- **Calendar**: an hour of the week is working time when active-state events (entries and
  exits) in it reach a fifth of the level of the busy hours (the 90th percentile of the 168
  hourly counts). A log whose times are all midnights carries dates only: its working days
  count whole.
- **Process time** of a work state: the working hours of its completed visits. Other states:
  elapsed hours of completed visits (for a queue, of those that did not go on to work).
- **Routing**: per state, the share of completed visits that went on to each state; a done
  state that was an item's last event ends it (``(finish)``). Open visits say nothing.
- **People** per step: the distinct assignees of its active-state events in the last
  :data:`PEOPLE_WINDOW_DAYS` days, else the distinct teams, else the items worked at once;
  ``items_per_person`` is how many items a person held at once (the 95th percentile of items
  in the step's active states over working hours, ÷ people, rounded up).
- **Arrivals**: the items' first events: the rate of the last :data:`ARRIVAL_WINDOW_DAYS`
  days (at least :data:`MIN_ARRIVALS` items), or of the last :data:`LONG_ARRIVAL_WINDOW_DAYS`
  when the two agree within two standard errors (less noise where demand is steady); the
  weekly profile of the whole history.
- **Censoring**: near ``as_of`` only short visits have ended; times and routing come from
  visits that began long enough before it (:func:`_settled`).
- **Change**: a state's times come from the last :data:`LONG_ARRIVAL_WINDOW_DAYS` days alone
  when its recent stays differ from the earlier ones beyond chance (:func:`_settled`).
- **Items** in progress at ``as_of``: each item whose last event by then is not done, and the
  items done lately in a state items still leave (resolved, to be closed), which may move on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow.compute as pc
from scipy.stats import ks_2samp

from obeya.core.events import MICROS_PER_HOUR, EventLog, from_micros, to_micros
from obeya.core.shares import percent_of
from obeya.core.twin.calendar import HOURS_PER_WEEK, WEEKDAYS, WorkCalendar, week_hour
from obeya.core.twin.model import (
    FINISH,
    Arrivals,
    InitialItem,
    Twin,
    TwinError,
    TwinState,
    TwinStep,
)
from obeya.core.workflow import Category, Workflow

PEOPLE_WINDOW_DAYS = 28
ARRIVAL_WINDOW_DAYS = 56
#: The longer span arrivals are counted over when the recent rate agrees with it.
LONG_ARRIVAL_WINDOW_DAYS = 182
MIN_ARRIVALS = 30
#: Most observed values a state keeps (evenly spaced quantiles of a larger sample).
MAX_VALUES = 500
#: An hour is working time when its activity reaches this share of the busy hours' level.
WORKING_LEVEL = 0.2
#: Share of exits on the release days, at the release hour, that makes a delay a release.
RELEASE_SHARE = 0.8
MIN_CALENDAR_EVENTS = 200
#: Visits of one length (to the hour) in this share make an active state a timer.
TIMER_SHARE = 0.25
#: Stays of the recent past that differ from the earlier ones' at this significance (or less)
#: speak alone for a state's times.
CHANGED_P = 0.01
#: Entry age and stay this negatively correlated (and exit ages tighter than stays) make a
#: delay end at the item's age.
AGE_BOUND_CORRELATION = -0.5
#: ... and the age at exit spreads at most this share of the stay (interquartile ranges).
AGE_BOUND_SPREAD = 0.75
#: A done state's routing comes from its visits old enough to have moved on when they are
#: at least this share of them (:func:`_routing`).
SETTLED_SHARE = 0.1
#: A queue's observed wait over this multiple of the queueing wait (+2 h) is not queueing.
UNEXPLAINED = 3.0

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Visits:
    """The log's visits in item order: state code, start and end (epoch hours; NaN when
    open), the next visit's state (−1 when none), and who held it."""

    item: Array
    state: Array
    start: Array
    end: Array
    next_state: Array
    last: Array  # the item's last visit
    arrived: Array  # the item's first event (epoch hours)
    labels: list[str]
    item_labels: list[str]


def fit_twin(
    log: EventLog,
    workflow: Workflow,
    *,
    as_of: datetime | None = None,
    name: str | None = None,
    days: float = 30.0,
    replications: int = 5,
    seed: int = 1,
    backend: Any = None,
) -> Twin:
    """The twin of ``log``'s stream at ``as_of`` (module doc). ``backend``: an engine (Spark)
    that orders the events into visits (:func:`engine_visits`); else numpy does."""
    table = log.table
    if table.num_rows == 0:
        raise TwinError(f"{log.source}: no events to fit a twin to")
    t_all = table.column("t").to_numpy()
    first_us, last_us = int(t_all.min()), int(t_all.max())
    as_of_us = last_us if as_of is None else to_micros(as_of)
    if not first_us < as_of_us <= last_us:
        raise TwinError(
            f"{log.source}: as of {from_micros(as_of_us):%Y-%m-%d %H:%M} is outside the log "
            f"({from_micros(first_us):%Y-%m-%d %H:%M} to {from_micros(last_us):%Y-%m-%d %H:%M})"
        )
    keep = t_all <= as_of_us
    visits = log_visits(log, keep) if backend is None else engine_visits(log, as_of_us, backend)
    categories = workflow.categories()
    cat = [categories.get(s, Category.UNMAPPED) for s in visits.labels]
    seen = set(visits.state.tolist())
    steps_of = {c: step for c, step in _steps_of(workflow, visits.labels, cat).items() if c in seen}
    timers = _timers(visits, steps_of)
    steps_of = {c: step for c, step in steps_of.items() if c not in timers}
    kinds, queue_for = _kinds(workflow, visits.labels, cat, steps_of)
    for code in timers:
        kinds[code] = "delay"
    as_of_h = as_of_us / MICROS_PER_HOUR
    calendar = _calendar(visits, cat)

    work_hours = np.full(len(visits.start), np.nan)
    closed = ~np.isnan(visits.end)
    is_work = np.asarray([kinds[s] == "work" for s in visits.state], dtype=bool)
    both = closed & is_work
    work_hours[both] = calendar.working_array(visits.end[both]) - calendar.working_array(
        visits.start[both]
    )
    elapsed = visits.end - visits.start
    work_code = {i for i, k in enumerate(kinds) if k == "work"}
    next_is_work = np.asarray([n in work_code for n in visits.next_state], dtype=bool)
    for code in list(queue_for):  # the step its visits go on to most, where the data says
        went = visits.next_state[(visits.state == code) & next_is_work]
        if went.size:
            queue_for[code] = steps_of[int(np.bincount(went).argmax())]
    code_of = {label: i for i, label in enumerate(visits.labels)}
    step_list = _people(log, keep, visits, steps_of, calendar, as_of_h, code_of)
    waits = _unexplained_waits(
        visits, kinds, queue_for, steps_of, step_list, work_hours, calendar, as_of_h, next_is_work
    )
    for code in waits:
        kinds[code] = "delay"
        queue_for.pop(code)

    states: list[TwinState] = []
    seen_codes = sorted(set(visits.state.tolist()))
    for code in seen_codes:
        mine = visits.state == code
        closed_here, changed = _settled(visits, mine & closed, elapsed, as_of_h)
        kind = kinds[code]
        if kind == "work":
            sample, what = work_hours[closed_here], "working hours of its completed visits"
        elif kind == "queue":
            sample = elapsed[closed_here & ~next_is_work]
            what = "elapsed hours of its completed visits that did not go on to work"
        else:
            sample, what = elapsed[closed_here], "elapsed hours of its completed visits"
            if code in waits:
                what += f"; {waits[code]}"
            if code in timers:
                what += f"; {timers[code]}"
        if changed:
            what += f"; {changed}"
        if sample.size == 0 and kind in ("work", "delay"):
            open_now = mine & ~closed
            sample = (
                as_of_h - visits.start[open_now]
                if kind == "delay"
                else calendar.working_array(np.full(int(open_now.sum()), as_of_h))
                - calendar.working_array(visits.start[open_now])
            )
            what = "hours so far of its open visits (no visit was completed)"
        release = _release(visits, mine & closed) if kind == "delay" else None
        aged = kind == "delay" and not release
        why = _age_bound(visits, mine & closed) if aged else None
        ages: tuple[tuple[float, float], ...] = ()
        if why is not None:
            # From the visits that went on to the state's most common next (a ticket's
            # closing), so a rare early exit (reopened) does not lend its stay to the rule.
            main = int(np.bincount(visits.next_state[closed_here] + 1).argmax()) - 1
            ages = _age_pairs(visits, closed_here & (visits.next_state == main))
            what += f"; {why}"
        nxt = _routing(visits, mine, cat[code] == Category.DONE, as_of_h)
        states.append(
            TwinState(
                name=visits.labels[code],
                category=cat[code] if cat[code] != Category.UNMAPPED else Category.BACKLOG,
                kind=kind,
                step=steps_of.get(code) if kind == "work" else queue_for.get(code),
                hours=_quantiles(sample),
                next=tuple((visits.labels[n] if n >= 0 else FINISH, p) for n, p in nxt),
                release_weekdays=release[0] if release else (),
                release_hour=release[1] if release else 0.0,
                ages=ages,
                visits=int(mine.sum()),
                evidence=f"{_count(int(mine.sum()), 'visit', 'visits')}; hours: {what} "
                f"({sample.size:,})"
                + (
                    f"; released on {'/'.join(WEEKDAYS[d] for d in release[0])} at "
                    f"{release[1]:05.2f} h ({percent_of(release[2])} of exits)"
                    if release
                    else ""
                ),
            )
        )
    arrivals = _arrivals(visits, as_of_h)
    items = _initial(visits, cat, states, as_of_h)
    fitted = (
        f"{log.source}: {int(keep.sum()):,} events of {len(visits.item_labels):,} items, "
        f"{from_micros(first_us):%Y-%m-%d} to {from_micros(as_of_us):%Y-%m-%d %H:%M} UTC"
    )
    return Twin(
        name=name or f"{log.source} at {from_micros(as_of_us):%Y-%m-%d %H:%M}",
        source=log.source,
        as_of=as_of_h,
        calendar=calendar,
        arrivals=arrivals,
        steps=tuple(step_list),
        states=tuple(states),
        items=tuple(items),
        days=days,
        replications=replications,
        seed=seed,
        fitted=fitted,
    )


def engine_visits(log: EventLog, as_of_us: int, backend: Any) -> Visits:
    """:func:`log_visits` of the events up to ``as_of_us``, the per-event pass (each item's
    events in order, repeats of a state folded into one visit) run on ``backend``, the engine
    the flow figures run on; numpy then works per visit."""
    import ibis

    from obeya.core.metrics.engine import log_table
    from obeya.core.metrics.fetch import arrow

    coded = log.coded
    with log_table(backend, log) as loaded:
        e = loaded.events
        e = e.filter(e.t <= as_of_us)
        e = e.mutate(prev=e.state.lag().over(group_by=e.item_id, order_by=[e.t, e.seq]))
        fresh = e.filter(e.prev.isnull() | (e.prev != e.state))
        ordered = ibis.window(group_by=fresh.item_id, order_by=[fresh.t, fresh.seq])
        rows = arrow(
            backend,
            fresh.select(
                "item_id",
                "state",
                "t",
                "seq",
                next_t=fresh.t.lead().over(ordered),
                next_state=fresh.state.lead().over(ordered),
                first_t=fresh.t.min().over(group_by=fresh.item_id),
            ),
        )
    item = pc.index_in(rows.column("item_id"), coded.item_labels).to_numpy(zero_copy_only=False)
    order = np.lexsort((rows.column("seq").to_numpy(), rows.column("t").to_numpy(), item))
    rows = rows.take(order)
    state = pc.index_in(rows.column("state"), coded.state_labels).to_numpy(zero_copy_only=False)
    following = pc.fill_null(pc.index_in(rows.column("next_state"), coded.state_labels), -1)
    last = pc.is_null(rows.column("next_t")).to_numpy(zero_copy_only=False)
    next_t = pc.cast(rows.column("next_t"), "float64").to_numpy(zero_copy_only=False)
    return Visits(
        item=item[order].astype(np.int64),
        state=state.astype(np.int64),
        start=rows.column("t").to_numpy() / MICROS_PER_HOUR,
        end=np.where(last, np.nan, next_t / MICROS_PER_HOUR),
        next_state=following.to_numpy(zero_copy_only=False).astype(np.int64),
        last=last,
        arrived=rows.column("first_t").to_numpy() / MICROS_PER_HOUR,
        labels=[str(s) for s in coded.state_labels.to_pylist()],
        item_labels=[str(s) for s in coded.item_labels.to_pylist()],
    )


def log_visits(log: EventLog, keep: Array) -> Visits:
    coded = log.coded
    item = np.asarray(coded.items)[keep]
    state = np.asarray(coded.states)[keep]
    t = log.table.column("t").to_numpy()[keep]
    seq = log.table.column("seq").to_numpy()[keep]
    order = np.lexsort((seq, t, item))
    item, state, t = item[order], state[order], t[order]
    new_item = np.ones(len(item), dtype=bool)
    new_item[1:] = item[1:] != item[:-1]
    fresh = new_item.copy()
    fresh[1:] |= state[1:] != state[:-1]
    item, state, t = item[fresh], state[fresh], t[fresh]
    hours = t / MICROS_PER_HOUR
    last = np.ones(len(item), dtype=bool)
    last[:-1] = item[1:] != item[:-1]
    end = np.full(len(item), np.nan)
    end[~last] = hours[1:][~last[:-1]]
    next_state = np.full(len(item), -1, dtype=np.int64)
    next_state[~last] = state[1:][~last[:-1]]
    first = np.flatnonzero(new_item[fresh])
    arrived = np.repeat(hours[first], np.diff(np.append(first, len(item))))
    return Visits(
        item=item.astype(np.int64),
        state=state.astype(np.int64),
        start=hours,
        end=end,
        next_state=next_state,
        last=last,
        arrived=arrived,
        labels=[str(s) for s in coded.state_labels.to_pylist()],
        item_labels=[str(s) for s in coded.item_labels.to_pylist()],
    )


def _timers(visits: Visits, steps_of: dict[int, str]) -> dict[int, str]:
    """Active states that end on a timer, not when work is done: :data:`TIMER_SHARE` of their
    completed visits or more last the same number of hours (a day or more, ±1 h), e.g. a
    ticket closed automatically 360 h after it was resolved, or whose visits end at the item's
    age (:func:`_age_bound`). Nobody works them: delays."""
    found: dict[int, str] = {}
    for code in steps_of:
        mine = (visits.state == code) & ~np.isnan(visits.end)
        hours = np.round(visits.end[mine] - visits.start[mine])
        hours = hours[hours >= 24]  # a timer runs a day or more; short work clusters anyway
        if mine.sum() < MIN_ARRIVALS or hours.size == 0:
            continue
        values, counts = np.unique(hours, return_counts=True)
        modal = values[counts.argmax()]
        share = float((np.abs(hours - modal) <= 1).sum() / mine.sum())
        if share >= TIMER_SHARE:
            found[code] = (
                f"a timer, not work: {percent_of(share)} of its visits last {modal:g} h (±1 h)"
            )
        elif _age_bound(visits, mine) is not None:
            found[code] = "not work"
    return found


def _steps_of(workflow: Workflow, labels: list[str], cat: list[Category]) -> dict[int, str]:
    """Active state code → its step: its stage, else itself."""
    stage_of = {s: name for name, states in workflow.stages for s in states}
    return {
        code: stage_of.get(label, label)
        for code, label in enumerate(labels)
        if cat[code] == Category.ACTIVE
    }


def _kinds(
    workflow: Workflow, labels: list[str], cat: list[Category], steps_of: dict[int, str]
) -> tuple[list[str], dict[int, str]]:
    order = workflow.state_order(labels)
    position = {s: i for i, s in enumerate(order)}
    active = sorted((position.get(labels[c], math.inf), steps_of[c]) for c in steps_of)
    kinds: list[str] = []
    queue_for: dict[int, str] = {}
    for code, label in enumerate(labels):
        c = cat[code]
        if c == Category.ACTIVE:
            kinds.append("work")
        elif c == Category.DONE:
            kinds.append("done")
        elif c == Category.WAITING:
            mine = position.get(label, math.inf)
            after = [step for at, step in active if at > mine]
            if after:
                kinds.append("queue")
                queue_for[code] = after[0]
            else:
                kinds.append("delay")
        else:
            kinds.append("delay")
    return kinds, queue_for


def _calendar(visits: Visits, cat: list[Category]) -> WorkCalendar:
    active = np.asarray([cat[s] == Category.ACTIVE for s in visits.state], dtype=bool)
    stamps = np.concatenate([visits.start[active], visits.end[active & ~np.isnan(visits.end)]])
    if stamps.size < MIN_CALENDAR_EVENTS:
        return WorkCalendar.always(
            f"{stamps.size} active-state events, too few to learn working hours: every hour counts"
        )
    midnight = np.isclose(np.mod(stamps, 24.0), 0.0, atol=1e-9)
    counts = np.bincount(week_hour(stamps), minlength=HOURS_PER_WEEK).astype(float)
    if midnight.mean() > 0.95:
        days = counts.reshape(7, 24).sum(axis=1)
        working_days = days >= WORKING_LEVEL * np.percentile(days, 90)
        shares = np.repeat(working_days.astype(float), 24)
        names = ", ".join(WEEKDAYS[d] for d in range(7) if working_days[d])
        return WorkCalendar(
            tuple(float(v) for v in shares),
            f"{stamps.size:,} active-state events carry dates only: whole days on {names}",
        )
    level = float(np.percentile(counts, 90))
    shares = (counts >= WORKING_LEVEL * level).astype(float)
    return WorkCalendar(
        tuple(float(v) for v in shares),
        f"{stamps.size:,} active-state events (entries and exits): an hour is working time "
        f"when it holds at least {percent_of(WORKING_LEVEL)} of the busy hours' count "
        f"({level:,.0f}): {int(shares.sum())} hours a week",
    )


def _quantiles(sample: Array) -> tuple[float, ...]:
    values = np.sort(sample[~np.isnan(sample)])
    values = np.maximum(values, 0.0)
    if values.size > MAX_VALUES:
        values = np.quantile(values, (np.arange(MAX_VALUES) + 0.5) / MAX_VALUES)
    return tuple(round(float(v), 4) for v in values)


def _settled(visits: Visits, closed: Array, elapsed: Array, as_of: float) -> tuple[Array, str]:
    """The completed visits that began long enough before ``as_of`` that nearly every visit
    of theirs had ended by then (the 95th percentile of the completed stays): near
    ``as_of`` only the short visits have ended, and keeping them would make times look
    shorter than they are. All completed visits when too few are that old. Of those, the
    ones of the last :data:`LONG_ARRIVAL_WINDOW_DAYS` days alone when their stays differ from
    the earlier ones beyond chance (two-sample Kolmogorov–Smirnov, p < :data:`CHANGED_P`):
    the stream changed, and the recent past speaks for what comes next. Also why, when so."""
    stays = elapsed[closed]
    if stays.size == 0:
        return closed, ""
    p95 = float(np.percentile(stays, 95))
    old = closed & (visits.start <= as_of - p95)
    if old.sum() < max(MIN_ARRIVALS, 0.2 * closed.sum()):
        return closed, ""
    recent = old & (visits.start > as_of - p95 - LONG_ARRIVAL_WINDOW_DAYS * 24.0)
    earlier = old & ~recent
    if min(recent.sum(), earlier.sum()) < MIN_ARRIVALS:
        return old, ""
    p = float(ks_2samp(elapsed[recent], elapsed[earlier]).pvalue)
    if p >= CHANGED_P:
        return old, ""
    return recent, (
        f"the visits of the last {LONG_ARRIVAL_WINDOW_DAYS} days only: their stays differ from "
        f"the earlier ones' (Kolmogorov–Smirnov p = {p:.1g})"
    )


def _routing(visits: Visits, mine: Array, done: bool, as_of: float) -> list[tuple[int, float]]:
    """(next state code or −1 for the finish, share) of a state's completed visits. A done
    visit that is an item's last event is a finish only when it is older than nearly every
    stay that did move on (95th percentile): a younger one may still move (an incident
    resolved yesterday is closed next week), so it is left out rather than counted as a
    finish."""
    went_on = mine & ~visits.last
    if done:
        stays = (visits.end - visits.start)[went_on]
        settled = visits.start <= as_of - (float(np.percentile(stays, 95)) if stays.size else 0)
        # Only when the old visits are a fair part of them: a handful of old ones (a state
        # items rarely leave, and then after months; a burst of recent entries unlike the
        # old) would speak for the rare, not the rule.
        if (mine & settled).sum() >= max(MIN_ARRIVALS, SETTLED_SHARE * mine.sum()):
            mine = mine & settled
    nxt = visits.next_state[mine]
    finishing = int((mine & visits.last).sum()) if done else 0
    went = nxt[nxt >= 0]
    total = went.size + finishing
    if total == 0:
        return []
    codes, counts = np.unique(went, return_counts=True)
    shares = [(int(c), int(n) / total) for c, n in zip(codes, counts, strict=True)]
    if finishing:
        shares.append((-1, finishing / total))
    return [(c, round(p, 6)) for c, p in shares]


def _release(visits: Visits, closed: Array) -> tuple[tuple[int, ...], float, float] | None:
    """Weekdays and hour a delay ends on, when its exits cluster there (module doc)."""
    ends = visits.end[closed]
    if ends.size < MIN_ARRIVALS:
        return None
    hours = week_hour(ends)
    day, hour = hours // 24, hours % 24
    by_day = np.bincount(day, minlength=7)
    top = np.argsort(by_day)[::-1][:2]
    top = top[by_day[top] > 0.2 * by_day[top[0]]]
    on_days = np.isin(day, top)
    modal = int(np.bincount(hour[on_days], minlength=24).argmax())
    at_hour = on_days & (np.abs(hour - modal) <= 1)
    share = float(at_hour.mean())
    if share < RELEASE_SHARE:
        return None
    exact = np.mod(ends[at_hour], 24.0)
    return tuple(sorted(int(d) for d in top)), float(round(np.median(exact), 4)), share


def _age_bound(visits: Visits, closed: Array) -> str | None:
    """Why a state's stays depend on the item's age (module doc); None when they do not."""
    if closed.sum() < MIN_ARRIVALS:
        return None
    entry = visits.start[closed] - visits.arrived[closed]
    stay = visits.end[closed] - visits.start[closed]
    if entry.std() == 0 or stay.std() == 0:
        return None
    correlation = float(np.corrcoef(entry, stay)[0, 1])
    spread_stay, spread_exit = (
        float(np.subtract(*np.percentile(x, [75, 25]))) for x in (stay, entry + stay)
    )
    if correlation > AGE_BOUND_CORRELATION or spread_exit > AGE_BOUND_SPREAD * spread_stay:
        return None
    return (
        f"its stay depends on the item's age: the later an item enters, the shorter it stays "
        f"(correlation {correlation:.2f}); ages at exit spread {spread_exit:,.0f} h "
        f"(interquartile), stays {spread_stay:,.0f} h"
    )


def _age_pairs(visits: Visits, closed: Array) -> tuple[tuple[float, float], ...]:
    """(age on entry, age at exit) of the visits, by age on entry, at most
    :data:`MAX_VALUES` of them evenly spread."""
    entry = visits.start[closed] - visits.arrived[closed]
    exit_age = visits.end[closed] - visits.arrived[closed]
    order = np.lexsort((exit_age, entry))
    if order.size > MAX_VALUES:
        order = order[np.linspace(0, order.size - 1, MAX_VALUES).round().astype(int)]
    return tuple((round(float(entry[i]), 4), round(float(exit_age[i]), 4)) for i in order)


def _unexplained_waits(
    visits: Visits,
    kinds: list[str],
    queue_for: dict[int, str],
    steps_of: dict[int, str],
    steps: list[TwinStep],
    work_hours: Array,
    calendar: WorkCalendar,
    as_of: float,
    next_is_work: Array,
) -> dict[int, str]:
    """Queue states that are not queues: most of their visits do not go on to work, or the
    step's people cannot explain their waits: the observed mean wait
    (working hours, visits that went on to work in the last weeks) is over
    :data:`UNEXPLAINED` × the Erlang C wait of the step's servers at its observed load, plus
    two hours. Such a wait is not for these people (dispatching, a person's other work …):
    the state becomes a delay, drawn from its observed times; the reason is kept."""
    window = PEOPLE_WINDOW_DAYS * 24.0
    recent = visits.start > as_of - window
    open_hours = calendar.working(as_of) - calendar.working(as_of - window)
    found: dict[int, str] = {}
    for code, step_name in queue_for.items():
        left = (visits.state == code) & ~np.isnan(visits.end)
        if left.any() and next_is_work[left].mean() < 0.5:
            found[code] = (
                f"a delay, not a queue: {percent_of(next_is_work[left].mean())} of its visits "
                "go on to work; the others wait for something else"
            )
            continue
        step = next(s for s in steps if s.name == step_name)
        work_codes = [c for c, s in steps_of.items() if s == step_name]
        worked = np.isin(visits.state, work_codes) & recent & ~np.isnan(work_hours)
        mine = (visits.state == code) & recent & next_is_work & ~np.isnan(visits.end)
        if worked.sum() < 10 or mine.sum() < 10 or open_hours <= 0:
            continue
        offered = worked.sum() / open_hours * float(np.mean(work_hours[worked]))
        predicted = _erlang_c_wait(step.servers, offered, float(np.mean(work_hours[worked])))
        observed = float(
            np.mean(
                calendar.working_array(visits.end[mine])
                - calendar.working_array(visits.start[mine])
            )
        )
        if observed > UNEXPLAINED * predicted + 2.0:
            found[code] = (
                f"a delay, not a queue: its mean wait of {observed:,.1f} working hours is more "
                f"than {step.servers:,} servers of {step_name} at "
                f"{percent_of(offered / step.servers)} load would make ({predicted:,.2f} h, "
                "Erlang C)"
            )
    return found


def _erlang_c_wait(servers: int, offered: float, service: float) -> float:
    """Mean wait in an M/M/c queue (Erlang C); infinite when the load reaches capacity."""
    if offered >= servers:
        return math.inf
    blocking = 1.0  # Erlang B, by its stable recursion
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    rho = offered / servers
    waiting = blocking / (1 - rho * (1 - blocking))
    return waiting * service / (servers - offered)


def _people(
    log: EventLog,
    keep: Array,
    visits: Visits,
    steps_of: dict[int, str],
    calendar: WorkCalendar,
    as_of: float,
    code_of: dict[str, int],
) -> list[TwinStep]:
    table = log.table
    t = table.column("t").to_numpy()[keep] / MICROS_PER_HOUR
    states = np.asarray(log.coded.states)[keep]
    who = {
        col: np.asarray(table.column(col).to_pylist(), dtype=object)[keep]
        for col in ("assignee", "team")
        if pc.count(table.column(col)).as_py() > 0
    }
    window = PEOPLE_WINDOW_DAYS * 24.0
    names = list(dict.fromkeys(steps_of.values()))
    steps: list[TwinStep] = []
    for step in names:
        codes = [c for c, s in steps_of.items() if s == step]
        in_step = np.isin(states, codes)
        recent = in_step & (t > as_of - window)
        span = f"the last {PEOPLE_WINDOW_DAYS} days"
        if recent.sum() < 10:
            recent, span = in_step, "the whole history (few events in the last weeks)"
        concurrency = _concurrency(visits, codes, calendar, as_of, window)
        people, rule = 0, ""
        for col, values in who.items():
            present = values[recent]
            distinct = {v for v in present.tolist() if v is not None and v != ""}
            if distinct:
                people = len(distinct)
                rule = f"distinct {col}s of its active-state events in {span}"
                break
        if people:
            per_person = max(1, math.ceil(concurrency / people))
        else:
            people, per_person = max(1, math.ceil(concurrency)), 1
            rule = "items worked at once (no assignee or team in the log)"
        steps.append(
            TwinStep(
                name=step,
                states=tuple(label for label, c in code_of.items() if c in codes),
                people=people,
                items_per_person=per_person,
                rule=rule,
                evidence=(
                    f"{_count(people, 'person', 'people')} by {rule}; at most "
                    f"{_count(round(concurrency), 'item', 'items')} in its active states at once "
                    f"over working hours of the last {PEOPLE_WINDOW_DAYS} days (95th percentile)"
                ),
            )
        )
    return steps


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _concurrency(
    visits: Visits, codes: list[int], calendar: WorkCalendar, as_of: float, window: float
) -> float:
    """95th percentile of the items in ``codes`` at once, sampled at working hours."""
    grid = np.arange(math.floor(as_of - window), math.floor(as_of)) + 0.5
    grid = grid[np.asarray(calendar.open)[week_hour(grid)] > 0]
    if grid.size == 0:
        return 1.0
    mine = np.isin(visits.state, codes)
    starts = np.sort(visits.start[mine])
    ends = np.sort(np.where(np.isnan(visits.end[mine]), as_of, visits.end[mine]))
    inside = np.searchsorted(starts, grid, side="right") - np.searchsorted(ends, grid, "right")
    return float(max(1.0, np.percentile(inside, 95)))


def _arrivals(visits: Visits, as_of: float) -> Arrivals:
    first = np.ones(len(visits.item), dtype=bool)
    first[1:] = visits.item[1:] != visits.item[:-1]
    times = np.sort(visits.start[first])
    window = ARRIVAL_WINDOW_DAYS * 24.0
    recent = times[times > as_of - window]
    longer = LONG_ARRIVAL_WINDOW_DAYS * 24.0
    older = times[times > as_of - longer]
    steady = (
        recent.size >= MIN_ARRIVALS
        and times[0] <= as_of - longer
        and abs(recent.size / window - older.size / longer) <= 2 * math.sqrt(recent.size) / window
    )
    if steady:
        span_h, count = longer, older.size
        what = (
            f"the last {LONG_ARRIVAL_WINDOW_DAYS} days (the rate of the last "
            f"{ARRIVAL_WINDOW_DAYS} days is within 2 standard errors of it)"
        )
    elif recent.size >= MIN_ARRIVALS:
        span_h, count, what = window, recent.size, f"the last {ARRIVAL_WINDOW_DAYS} days"
    else:
        count = min(MIN_ARRIVALS, times.size)
        span_h = max(as_of - times[-count], 1.0)
        what = f"the last {count} arrivals ({span_h / 24:.1f} days)"
    per_week = count / span_h * HOURS_PER_WEEK
    profile = np.bincount(week_hour(times), minlength=HOURS_PER_WEEK).astype(float)
    profile /= profile.sum()
    codes, counts = np.unique(visits.state[first], return_counts=True)
    firsts = [
        (visits.labels[int(c)], int(n) / int(counts.sum()))
        for c, n in zip(codes, counts, strict=True)
    ]
    return Arrivals(
        per_week=round(per_week, 4),
        profile=tuple(round(float(v), 6) for v in profile),
        first=tuple((s, round(p, 6)) for s, p in firsts),
        evidence=(
            f"{count:,} items arrived (first event) in {what}; weekly profile of all "
            f"{times.size:,} arrivals"
        ),
    )


def _initial(
    visits: Visits, cat: list[Category], states: list[TwinState], as_of: float
) -> list[InitialItem]:
    started_cat = {Category.ACTIVE, Category.WAITING, Category.DONE}
    is_started = np.asarray([cat[s] in started_cat for s in visits.state], dtype=bool)
    items: list[InitialItem] = []
    first_started: dict[int, float] = {}
    for i in np.flatnonzero(is_started):
        first_started.setdefault(int(visits.item[i]), float(visits.start[i]))
    by_name = {s.name: s for s in states}
    for i in np.flatnonzero(visits.last):
        state = int(visits.state[i])
        if cat[state] == Category.DONE:
            known = by_name[visits.labels[state]]
            moves_on = any(target != FINISH for target, _ in known.next)
            horizon = known.hours[int(0.95 * (len(known.hours) - 1))] if known.hours else 0.0
            if not moves_on or as_of - visits.start[i] >= horizon:
                continue  # finished for good: items done this long rarely moved on
        item = int(visits.item[i])
        items.append(
            InitialItem(
                id=visits.item_labels[item],
                state=visits.labels[state],
                since=float(visits.start[i]),
                started=first_started.get(item),
                arrived=float(visits.arrived[i]),
            )
        )
    items.sort(key=lambda x: (x.since, x.id))
    return items
