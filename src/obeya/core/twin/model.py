"""The digital twin of a stream as plain data: what ``obeya calibrate -o twin.toml`` writes and
``obeya simulate twin.toml`` runs (docs/simulation.md, "The twin").

The twin works at the level of the log's own states, so what it simulates can be written back
as events with the same names and read by the same workflow:

- each **state** has a *kind*: ``work`` (an active state: a person of its step holds the item),
  ``queue`` (a waiting state in front of a step's work: the item waits there for a person, so
  its time emerges from queueing), ``delay`` (waiting on something outside the stream — a
  customer, a vendor, a release — drawn from its observed times, or until the next release
  day) or ``done``;
- after a state, an item goes on to the next with the **routing** probabilities learned from
  the log's transitions (loops back are rework); ``(finish)`` ends the item in a done state;
- each **step** has people (``people`` × ``items_per_person`` items can be worked at once);
- **arrivals** are a Poisson process with a weekly profile; the **calendar** says when people
  work; the **items** in progress at ``as_of`` start the run where they were.

Times: hours. ``work`` states hold *working* hours (the calendar stretches them into elapsed
time), the others elapsed hours. Each figure keeps the evidence it came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from obeya.core.twin.calendar import HOURS_PER_WEEK, WEEKDAYS, WorkCalendar
from obeya.core.workflow import Category
from obeya.errors import InputError

KINDS = ("work", "queue", "delay", "done")
#: The routing target that ends an item (its last event, in a done state).
FINISH = "(finish)"
#: Bounds that keep every run finite: people, items per person and hours per state.
MAX_PEOPLE = 100_000
MAX_HOURS = 24 * 365 * 100.0
MAX_PER_WEEK = 1e7


class TwinError(InputError):
    """A twin file that breaks a rule; the message names the file and the field."""


@dataclass(frozen=True)
class TwinState:
    name: str
    category: Category
    kind: str
    #: ``work``: the step whose people work it; ``queue``: the step it waits for.
    step: str | None
    #: Observed hours per visit: working hours (``work``), elapsed hours otherwise (for a
    #: ``queue``, of the visits that did not go on to work: those left without a person).
    hours: tuple[float, ...]
    #: Next state → probability (sums to 1), :data:`FINISH` included; empty: nobody ever left.
    next: tuple[tuple[str, float], ...]
    #: A ``delay`` that ends on these weekdays (0 = Monday) at ``release_hour`` (UTC).
    release_weekdays: tuple[int, ...] = ()
    release_hour: float = 0.0
    #: A ``delay`` whose stay depends on the item's age on entry (a ticket closed a month
    #: after it was opened, however long it sat resolved): (age on entry, age at exit) of its
    #: completed visits that went on to its most common next state, in hours since the
    #: item's first event, by age on entry; a visit bound there ends at the age at exit of one
    #: of the visits that entered at about the same age (a later one than the item's now).
    ages: tuple[tuple[float, float], ...] = ()
    visits: int = 0
    evidence: str = ""


@dataclass(frozen=True)
class TwinStep:
    name: str
    states: tuple[str, ...]
    people: int
    items_per_person: int = 1
    rule: str = ""
    evidence: str = ""

    @property
    def servers(self) -> int:
        """Items the step can work at once."""
        return self.people * self.items_per_person


@dataclass(frozen=True)
class Arrivals:
    per_week: float
    #: Share of the week's arrivals in each hour of the week (sums to 1).
    profile: tuple[float, ...]
    #: The state new items enter first → probability.
    first: tuple[tuple[str, float], ...]
    evidence: str = ""


@dataclass(frozen=True)
class InitialItem:
    """An item in progress at ``as_of``: where it is, since when, and when it started (None
    while it is still in the backlog). Items finished lately, in a done state that items
    sometimes leave (resolved → closed, or reopened), are here too: they may still move."""

    id: str
    state: str
    since: float  # epoch hours
    started: float | None = None
    arrived: float | None = None  # its first event (epoch hours), the base of its age


@dataclass(frozen=True)
class Twin:
    name: str
    source: str
    as_of: float  # epoch hours
    calendar: WorkCalendar
    arrivals: Arrivals
    steps: tuple[TwinStep, ...]
    states: tuple[TwinState, ...]
    items: tuple[InitialItem, ...] = ()
    days: float = 30.0
    replications: int = 5
    seed: int = 1
    fitted: str = ""
    _by_name: dict[str, TwinState] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {s.name: s for s in self.states})
        validate(self)

    def state(self, name: str) -> TwinState:
        return self._by_name[name]

    @property
    def as_of_time(self) -> datetime:
        return datetime.fromtimestamp(round(self.as_of * 3600, 6), UTC)


def validate(twin: Twin, where: str = "twin") -> None:
    """Raise :class:`TwinError` naming the first field that breaks a rule."""
    if not 0 < twin.days <= 36_500:
        raise TwinError(f"{where}: days is {twin.days}; give a run length in (0, 36500] days")
    if not 1 <= twin.replications <= 10_000:
        raise TwinError(f"{where}: replications is {twin.replications}; give 1 to 10,000")
    if twin.calendar.hours_per_week <= 0:
        raise TwinError(f"{where}: calendar has no working hour; people could never work")
    for hour, share in enumerate(twin.calendar.open):
        if not 0 <= share <= 1:
            day = WEEKDAYS[hour // 24]
            raise TwinError(
                f"{where}: calendar.{day}[{hour % 24}] is {share}; give the share of the hour "
                "that is working time, 0 to 1"
            )
    names = [s.name for s in twin.states]
    known = set(names)
    if len(known) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise TwinError(f"{where}: state {dup!r} is given twice")
    step_names = [s.name for s in twin.steps]
    if len(set(step_names)) != len(step_names):
        raise TwinError(f"{where}: two steps share a name")
    for i, step in enumerate(twin.steps):
        at = f"{where}: step[{i}] ({step.name})"
        if not 1 <= step.people <= MAX_PEOPLE:
            raise TwinError(f"{at}.people is {step.people}; give 1 to {MAX_PEOPLE:,}")
        if not 1 <= step.items_per_person <= 1_000:
            raise TwinError(f"{at}.items_per_person is {step.items_per_person}; give 1 to 1,000")
        for name in step.states:
            if name not in known:
                raise TwinError(f"{at}.states names {name!r}, which is no [[state]]")
    a = twin.arrivals
    if not 0 <= a.per_week <= MAX_PER_WEEK or math.isnan(a.per_week):
        raise TwinError(f"{where}: arrivals.per_week is {a.per_week}; give 0 or more")
    if len(a.profile) != HOURS_PER_WEEK or any(v < 0 for v in a.profile) or sum(a.profile) <= 0:
        raise TwinError(f"{where}: arrivals.profile needs shares ≥ 0 for each hour of the week")
    _check_shares(a.first, known, f"{where}: arrivals.first")
    for i, st in enumerate(twin.states):
        at = f"{where}: state[{i}] ({st.name})"
        if st.kind not in KINDS:
            raise TwinError(f"{at}.kind {st.kind!r} is unknown; use one of {', '.join(KINDS)}")
        if st.kind in ("work", "queue") and st.step not in step_names:
            raise TwinError(f"{at}.step {st.step!r} is no [[step]]")
        if any(not 0 <= h <= MAX_HOURS for h in st.hours):
            raise TwinError(f"{at}.hours must be ≥ 0 (and at most {MAX_HOURS:g})")
        if any(not 0 <= e <= x <= MAX_HOURS for e, x in st.ages):
            raise TwinError(
                f"{at}.ages holds pairs [age on entry, age at exit] with 0 ≤ entry ≤ exit ≤ "
                f"{MAX_HOURS:g}"
            )
        if st.ages and st.kind != "delay":
            raise TwinError(f"{at}.ages: only a delay can end at an item's age")
        if st.kind in ("work", "delay") and not st.hours and not st.release_weekdays:
            raise TwinError(f"{at}.hours is empty; a {st.kind} state needs observed hours")
        if any(not 0 <= d <= 6 for d in st.release_weekdays):
            raise TwinError(f"{at}.release.weekdays must be weekdays (Mon … Sun)")
        if not 0 <= st.release_hour < 24:
            raise TwinError(f"{at}.release.hour is {st.release_hour}; give 0 to 24")
        _check_shares(st.next, known | {FINISH}, f"{at}.next", empty_ok=True)
        if any(target == FINISH for target, _ in st.next) and st.kind != "done":
            raise TwinError(f"{at}.next: only a done state can end an item ({FINISH})")
    for i, item in enumerate(twin.items):
        at = f"{where}: item[{i}] ({item.id})"
        if item.state not in known:
            raise TwinError(f"{at}.state {item.state!r} is no [[state]] of the twin")
        if twin.state(item.state).kind == "done" and item.started is None:
            raise TwinError(f"{at}: an item in a done state needs 'started'")
        if item.since > twin.as_of + 1e-6:
            raise TwinError(f"{at}.since is after as_of")
        if item.arrived is not None and item.arrived > item.since + 1e-6:
            raise TwinError(f"{at}.arrived is after since")


def _check_shares(
    shares: tuple[tuple[str, float], ...], known: set[str], at: str, *, empty_ok: bool = False
) -> None:
    if not shares:
        if empty_ok:
            return
        raise TwinError(f"{at} is empty; give at least one state and its share")
    for name, p in shares:
        if name not in known:
            raise TwinError(f"{at} names {name!r}, which is no [[state]]")
        if not 0 <= p <= 1 or math.isnan(p):
            raise TwinError(f"{at}.{name} is {p}; a share lies in [0, 1]")
    total = math.fsum(p for _, p in shares)
    if abs(total - 1) > 1e-3:
        raise TwinError(f"{at}: the shares add up to {total:.4g}; they must add up to 1")


def dict_from_weekdays(values: tuple[float, ...]) -> dict[str, list[float]]:
    """168 hourly values as one list of 24 per weekday (the TOML form)."""
    return {WEEKDAYS[d]: [round(v, 6) for v in values[d * 24 : d * 24 + 24]] for d in range(7)}


def weekdays_from_dict(raw: Any, at: str) -> tuple[float, ...]:
    if not isinstance(raw, dict) or set(raw) != set(WEEKDAYS):
        raise TwinError(f"{at} needs one list of 24 hourly values per day: {', '.join(WEEKDAYS)}")
    values: list[float] = []
    for day in WEEKDAYS:
        hours = raw[day]
        if not isinstance(hours, list) or len(hours) != 24:
            raise TwinError(f"{at}.{day} must list 24 values (hours 00 to 23, UTC)")
        for h, v in enumerate(hours):
            if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0:
                raise TwinError(f"{at}.{day}[{h}] is {v!r}; give a number ≥ 0")
            values.append(float(v))
    return tuple(values)
