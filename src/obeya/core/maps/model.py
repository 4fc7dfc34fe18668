"""The value stream map as plain data: steps, the links between them, demand and the ends.

Units: times in hours; demand in items per day; available time in hours per day; money in the
map's currency. A step's lead time (LT) includes the wait before it; its process time (PT) is
the hands-on work; %C&A (``complete_accurate``) is the share of items that leave the step
needing no rework, 0..1. Validation is plain and early: a map that breaks a rule raises
:class:`obeya.errors.MapError` naming the field (``steps[2].complete_accurate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from obeya.errors import InputError


class MapError(InputError):
    """A value stream map that breaks a rule; the message names the field. A field's error
    also carries it: ``step`` (its index, for a step's field), ``field`` (the attribute),
    ``value``, ``rule`` (what is wrong, after the field's name) and ``other`` (the field the
    rule names, when it compares two), so an editor can say it in its own words without
    reading the message."""

    def __init__(
        self,
        message: str,
        *,
        step: int | None = None,
        field: str | None = None,
        value: object = None,
        rule: str = "",
        other: str | None = None,
    ) -> None:
        super().__init__(message, field=field, value=value)
        self.step, self.rule, self.other = step, rule, other

    def fields(self) -> dict[str, Any] | None:
        if self.field is None:
            return None
        return {**(super().fields() or {}), "step": self.step, "rule": self.rule}


def _bad(
    vsm: ValueStreamMap,
    field: str,
    value: object,
    rule: str,
    step: int | None = None,
    other: str | None = None,
) -> MapError:
    """A field's error: ``map 'NAME', steps[i].field RULE`` (or ``map 'NAME': field RULE``)."""
    where = (
        f"map '{vsm.name}', steps[{step}].{field}"
        if step is not None
        else f"map '{vsm.name}': {field}"
    )
    return MapError(f"{where} {rule}", step=step, field=field, value=value, rule=rule, other=other)


class Link(StrEnum):
    """How work reaches a step from the one before it."""

    PUSH = "push"
    FIFO = "fifo"  # a FIFO lane: pull in order, with a cap
    SUPERMARKET = "supermarket"  # pull from a controlled stock


@dataclass(frozen=True)
class Step:
    name: str
    process_time_hours: float
    lead_time_hours: float
    complete_accurate: float = 1.0
    team: str | None = None
    people: float = 1.0
    #: Items per day the step can finish; None means people × availability × available time
    #: ÷ process time.
    capacity_per_day: float | None = None
    batch_size: int = 1
    availability: float = 1.0  # share of the available time the step's people can give it
    inventory_before: float = 0.0  # items waiting before the step
    link: Link = Link.PUSH  # how work arrives from the step before
    handoffs: float = 0.0  # handoffs per item into this step (people, team or group changes)
    #: The share of the stream's items that visit the step (0.03: a step 3 % of items pass).
    #: PT, LT, %C&A and handoffs are per item that visits it (its rework included); the
    #: totals and utilisation weigh the step by this share.
    visit_share: float = 1.0
    #: Sample sizes when the step was discovered from data (items behind each figure).
    items: int | None = None
    states: tuple[str, ...] = ()


@dataclass(frozen=True)
class InformationFlow:
    source: str  # a step name, "customer", "supplier" or "control"
    target: str
    label: str = ""
    electronic: bool = True


@dataclass(frozen=True)
class ReworkLoop:
    """Items sent back from a step to an earlier one: ``share`` is the moves back per item that
    passes ``source`` (0.2: one in five goes back to ``target``)."""

    source: str
    target: str
    share: float


@dataclass(frozen=True)
class ValueStreamMap:
    name: str
    steps: tuple[Step, ...]
    demand_per_day: float | None = None
    available_hours_per_day: float = 8.0
    supplier: str = "Requesters"
    customer: str = "Customers"
    teams: tuple[str, ...] = ()  # known teams; empty means any team name is accepted
    information_flows: tuple[InformationFlow, ...] = ()
    rework_loops: tuple[ReworkLoop, ...] = ()
    hourly_cost: float | None = None
    #: True when each step's lead time already holds the wait of the inventory before it (a
    #: map discovered from history measures it there); False for a hand-drawn map, whose
    #: inventory waits come on top of the steps' lead times.
    lead_time_includes_inventory: bool = False
    #: True when each step's process time already holds the rework done there (a map drawn
    #: with the stream's twin takes its work per item, rework included); False when it is one
    #: pass, the rework coming on top of it (1 ÷ %C&A passes).
    process_time_includes_rework: bool = False
    variant: str = "current"
    notes: str = ""
    #: Where the figures came from (a stream, a file), for the reader of a drawing.
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate(self)

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise MapError(f"map '{self.name}' has no step named {name!r}")


def validate(vsm: ValueStreamMap) -> None:
    """Raise :class:`MapError` naming the first field that breaks a rule."""
    if not vsm.steps:
        raise MapError(
            f"map '{vsm.name}': field 'steps' is empty; a map needs at least one step",
            field="steps",
            rule="is empty; a map needs at least one step",
        )
    seen: set[str] = set()
    for i, s in enumerate(vsm.steps):
        if not s.name.strip():
            raise _bad(vsm, "name", s.name, "is empty", i)
        if s.name in seen:
            raise _bad(
                vsm, "name", s.name, f"{s.name!r} is used by two steps; names must differ", i
            )
        seen.add(s.name)
        for attr in ("process_time_hours", "lead_time_hours", "inventory_before", "handoffs"):
            value = getattr(s, attr)
            if value < 0:
                raise _bad(vsm, attr, value, f"is {value}; it cannot be negative", i)
        if not 0 < s.visit_share <= 1:
            raise _bad(
                vsm,
                "visit_share",
                s.visit_share,
                f"is {s.visit_share}; give the share of items that visit the step, in (0, 1] "
                "(0.05: one item in twenty)",
                i,
            )
        if s.lead_time_hours < s.process_time_hours:
            raise _bad(
                vsm,
                "lead_time_hours",
                s.lead_time_hours,
                f"({s.lead_time_hours}) is shorter than process_time_hours "
                f"({s.process_time_hours}); lead time includes the work",
                i,
                other="process_time_hours",
            )
        if not 0 < s.complete_accurate <= 1:
            raise _bad(
                vsm,
                "complete_accurate",
                s.complete_accurate,
                f"is {s.complete_accurate}; give a share in (0, 1]",
                i,
            )
        if not 0 < s.availability <= 1:
            raise _bad(
                vsm,
                "availability",
                s.availability,
                f"is {s.availability}; give a share in (0, 1]",
                i,
            )
        if s.people <= 0:
            raise _bad(vsm, "people", s.people, f"is {s.people}; a step needs someone", i)
        if s.batch_size < 1:
            raise _bad(
                vsm, "batch_size", s.batch_size, f"is {s.batch_size}; it must be at least 1", i
            )
        if s.capacity_per_day is not None and s.capacity_per_day <= 0:
            raise _bad(
                vsm,
                "capacity_per_day",
                s.capacity_per_day,
                f"is {s.capacity_per_day}; it must be > 0",
                i,
            )
        if vsm.teams and s.team is not None and s.team not in vsm.teams:
            raise _bad(
                vsm,
                "team",
                s.team,
                f"{s.team!r} is not a team of the map ({', '.join(vsm.teams)}); add it to "
                "'teams' or fix the name",
                i,
            )
    if vsm.demand_per_day is not None and vsm.demand_per_day <= 0:
        raise _bad(
            vsm, "demand_per_day", vsm.demand_per_day, f"is {vsm.demand_per_day}; it must be > 0"
        )
    if not 0 < vsm.available_hours_per_day <= 24:
        raise _bad(
            vsm,
            "available_hours_per_day",
            vsm.available_hours_per_day,
            f"is {vsm.available_hours_per_day}; give hours in (0, 24]",
        )
    if vsm.hourly_cost is not None and vsm.hourly_cost < 0:
        raise _bad(
            vsm, "hourly_cost", vsm.hourly_cost, f"is {vsm.hourly_cost}; it cannot be negative"
        )
    ends = {*seen, "customer", "supplier", "control"}
    for i, flow in enumerate(vsm.information_flows):
        for attr in ("source", "target"):
            if getattr(flow, attr) not in ends:
                raise MapError(
                    f"map '{vsm.name}', information_flows[{i}].{attr} "
                    f"{getattr(flow, attr)!r} is neither a step nor customer, supplier or control"
                )
    order = {s.name: i for i, s in enumerate(vsm.steps)}
    for i, loop in enumerate(vsm.rework_loops):
        where = f"map '{vsm.name}', rework_loops[{i}]"
        for attr in ("source", "target"):
            if getattr(loop, attr) not in order:
                raise MapError(f"{where}.{attr} {getattr(loop, attr)!r} is no step of the map")
        if order[loop.target] >= order[loop.source]:
            raise MapError(
                f"{where}: {loop.target!r} does not come before {loop.source!r}; rework goes back"
            )
        if not 0 < loop.share <= 10:
            raise MapError(
                f"{where}.share is {loop.share}; give the moves back per item, in (0, 10]"
            )
    _refuse_cycles(vsm)


def _refuse_cycles(vsm: ValueStreamMap) -> None:
    """Information flows may loop back (that is what they are for), but not onto themselves in
    a closed ring that never reaches the customer or the control: a cycle made only of
    information flows between steps is refused."""
    graph: dict[str, set[str]] = {}
    for flow in vsm.information_flows:
        if flow.source in {"customer", "supplier", "control"}:
            continue
        if flow.target in {"customer", "supplier", "control"}:
            continue
        graph.setdefault(flow.source, set()).add(flow.target)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                ring = [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
                raise MapError(
                    f"map '{vsm.name}': information_flows form a cycle "
                    f"({' -> '.join(ring)}); a flow between steps must not come back to itself"
                )
            if state.get(nxt) is None:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [node])
