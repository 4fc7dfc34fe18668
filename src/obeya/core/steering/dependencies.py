"""Dependencies between tasks of several teams: the plan, cycles, the critical path (critical
path method), a cross-team matrix, need-by dates and dependencies at risk (docs/steering.md).

A :class:`Plan` is a list of :class:`Task` (``[[task]]`` tables in TOML), each with a
duration in days and the ids of the tasks it waits for (``depends_on``: finish-to-start, no
lag). Both are declared documents (:mod:`obeya.core.documents`), so a plan file, a JSON body
and a saved plan are read, checked and written back from one declaration. :func:`schedule`
runs the critical path method:

- **forward pass**: early start ES = the latest early finish of the task's dependencies (0
  without any), early finish EF = ES + duration; the project duration is the latest EF;
- **backward pass**: late finish LF = the earliest late start of the tasks that depend on it
  (the project duration for a task nothing depends on), late start LS = LF − duration;
- **total slack** LS − ES: how far a task can slip without delaying the project; **free
  slack** min(ES of its dependents) − EF (the duration for a task nothing depends on): how far
  it can slip without delaying any other task;
- **critical tasks**: total slack 0. The reported ``critical_path`` is one chain of critical
  tasks from the start to the end: it begins at the first critical task (plan order) with
  ES 0 and, at each step, goes on to the first task in plan order that depends on the current
  one and starts exactly when it finishes. Such a chain always reaches the end.

Times are kept as exact fractions, so a critical task's slack is exactly 0 even with
fractional durations; documents round to 9 decimals. Everything here is pure Python, with no
I/O but :func:`load_plan`.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from math import ceil, floor
from pathlib import Path
from typing import Annotated, Any, ClassVar

from obeya.core.documents import (
    Document,
    Fail,
    aside,
    day,
    number,
    tables,
    text,
    texts,
    whole,
)
from obeya.core.forecast import (
    DEFAULT_HISTORY_DAYS,
    DEFAULT_MAX_DAYS,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    WhenForecast,
    default_start,
    history_window,
    when,
)
from obeya.core.tomlfile import read_toml
from obeya.errors import InputError

#: Decimal places kept in documents (as the flow report's).
DECIMALS = 9

#: Longest task: the calendar's whole span (0001-01-01 to 9999-12-31), so that every figure
#: stays a finite float and a date; the plan as a whole is checked against the calendar too.
MAX_DURATION_DAYS = date.max.toordinal() - date.min.toordinal()
#: Most work items a task may name for its provider's forecast.
MAX_ITEMS = 1_000_000
#: Size caps a server applies to a plan sent in a request (:func:`check_plan_size`): the
#: schedule is O(tasks + dependencies), the cross-team matrix teams × teams.
MAX_PLAN_TASKS = 5_000
MAX_PLAN_DEPENDENCIES = 50_000
MAX_PLAN_TEAMS = 200


class PlanError(InputError):
    """A plan that cannot be scheduled; the message names the file, the task and the field."""


# -- the plan ----------------------------------------------------------------------------------

#: What a bad duration or item count is asked to be.
DURATION_WHAT = f"days ≥ 0, at most {MAX_DURATION_DAYS:,} (the calendar's span)"
ITEMS_WHAT = f"a whole number of items from 1 to {MAX_ITEMS:,}"


@dataclass(frozen=True, kw_only=True)
class Task(Document):
    """One piece of work of one team: a ``[[task]]`` table of a plan.

    ``duration_days`` ≥ 0 (0 is a milestone); ``depends_on``: ids of the tasks that must finish
    before it starts; ``need_by``: the date by whose end it is needed; ``items``: the work
    items its team must still finish for it (for :func:`dependency_risks`).
    """

    noun: ClassVar[str] = "task"
    error: ClassVar[type[InputError]] = PlanError
    ident: ClassVar[str] = "id"

    id: Annotated[str, text("Id", "Unique in the plan, e.g. API.", nonempty=True)]
    name: Annotated[str | None, text("Name")] = None
    team: Annotated[str, text("Team", "The team that does it.", nonempty=True)]
    duration_days: Annotated[
        float,
        number(
            "Duration days",
            "Calendar days; 0 is a milestone, fractions are allowed.",
            low=0,
            high=MAX_DURATION_DAYS,
            what=DURATION_WHAT,
        ),
    ]
    depends_on: Annotated[
        tuple[str, ...],
        texts("Depends on", "Ids of the tasks that must finish before it starts.", unique=True),
    ] = ()
    need_by: Annotated[date | None, day("Need by", "Needed by the end of this day.")] = None
    items: Annotated[
        int | None,
        whole(
            "Items",
            "Work items its team must still finish.",
            low=1,
            high=MAX_ITEMS,
            what=ITEMS_WHAT,
        ),
    ] = None


@dataclass(frozen=True, kw_only=True)
class Plan(Document):
    """Tasks in plan (file) order; ``start``: the date of day 0, when the first tasks start;
    ``source``: where the plan was read from, which starts its messages (not a field)."""

    noun: ClassVar[str] = "plan"
    error: ClassVar[type[InputError]] = PlanError

    name: Annotated[str, text("Name", "A plan file without one is named by the file.")] = "plan"
    start: Annotated[date | None, day("Start", "Day 0 of the plan, for dates.")] = None
    #: ``task``, as the file's ``[[task]]`` tables are called; :attr:`tasks` reads better.
    task: Annotated[tuple[Task, ...], tables("Tasks", "At least one.")] = ()
    source: str = aside("plan")

    def __post_init__(self) -> None:
        # For a plan built in code: one read from a document passed these rules in settle.
        validate_plan(self)

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        _check_tasks(values["task"], fail)

    @property
    def tasks(self) -> tuple[Task, ...]:
        return self.task

    @property
    def by_id(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks}

    @property
    def teams(self) -> list[str]:
        """Teams in order of first appearance."""
        return list(dict.fromkeys(t.team for t in self.tasks))


def validate_plan(plan: Plan) -> None:
    """Raise :class:`PlanError` at the first task breaking a rule across tasks (the rules of
    one task's fields are its declaration's, checked when it is read; a cycle is checked by
    :func:`find_cycle`, since a plan with one can still be drawn and read)."""
    where = plan.source

    def fail(name: str, problem: str, value: Any = None) -> InputError:
        return PlanError(f"{where}: {name} {problem}", field=name, value=value)

    _check_tasks(plan.tasks, fail)


def _check_tasks(tasks: Sequence[Task], fail: Fail) -> None:
    """The rules across a plan's tasks, for a plan read (:meth:`Plan.settle`) and one built in
    code (:func:`validate_plan`): at least one task, ids that differ, ``depends_on`` naming
    other tasks of the plan."""
    if not tasks:
        raise fail("task", "is empty; give at least one [[task]]", [])
    seen: dict[str, int] = {}
    for i, task in enumerate(tasks):
        if task.id in seen:
            raise fail(
                "id",
                f"of task[{i}] is {task.id!r}, already the id of task[{seen[task.id]}]; "
                "ids must differ",
                task.id,
            )
        seen[task.id] = i
    for i, task in enumerate(tasks):
        for dep in task.depends_on:
            if dep == task.id:
                raise fail(
                    "depends_on",
                    f"of {_task_at(i, task.id)} lists the task itself: a task cannot wait "
                    "for itself",
                    dep,
                )
            if dep not in seen:
                raise fail(
                    "depends_on",
                    f"of {_task_at(i, task.id)} lists unknown id {dep!r}; known ids: "
                    f"{', '.join(sorted(seen))}",
                    dep,
                )


def check_plan_size(
    plan: Plan,
    *,
    max_tasks: int = MAX_PLAN_TASKS,
    max_dependencies: int = MAX_PLAN_DEPENDENCIES,
    max_teams: int = MAX_PLAN_TEAMS,
) -> None:
    """Refuse a plan larger than a shared server should schedule in one request, naming the
    field and the cap (the CLI schedules any size)."""
    where = plan.source
    dependencies = sum(len(t.depends_on) for t in plan.tasks)
    teams = len(plan.teams)
    for field_name, count, cap, what in (
        ("task", len(plan.tasks), max_tasks, "tasks"),
        ("depends_on", dependencies, max_dependencies, "dependencies (all depends_on entries)"),
        ("team", teams, max_teams, "teams"),
    ):
        if count > cap:
            raise PlanError(
                f"{where}: field '{field_name}': {count:,} {what}; the server schedules at "
                f"most {cap:,} (use `obeya deps critical-path` for larger plans)"
            )


def _task_at(index: int, task_id: str) -> str:
    return f"task[{index}] ({task_id!r})" if task_id else f"task[{index}]"


def load_plan(path: Path | str) -> Plan:
    """Read a plan TOML file; errors name the file, the task (index and id) and the field. A
    file that names no plan names it (``release.toml``: ``release``)."""
    path = Path(path)
    doc = read_toml(path, PlanError)
    return plan_from_dict({"name": path.stem, **doc}, source=str(path))


def plan_from_dict(doc: Mapping[str, Any], source: str = "plan") -> Plan:
    """A plan from its document (a TOML file's tables, a JSON body), read by its declaration;
    ``source`` starts its messages."""
    return replace(Plan.from_dict(doc, source), source=source)


def find_cycle(plan: Plan) -> list[str] | None:
    """A cycle of ``depends_on`` as ids, the first repeated at the end (each waits for the
    next), starting at its task that comes first in the plan; None when there is none.

    An iterative depth-first search that marks every task once: it never loops, whatever
    the plan.
    """
    by_id = plan.by_id
    order = {t.id: i for i, t in enumerate(plan.tasks)}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in plan.tasks:
        if root.id in state:
            continue
        path: list[str] = [root.id]
        state[root.id] = 1
        pending: list[list[str]] = [list(reversed(root.depends_on))]
        while path:
            if not pending[-1]:
                state[path.pop()] = 2
                pending.pop()
                continue
            nxt = pending[-1].pop()
            mark = state.get(nxt)
            if mark == 1:
                cycle = path[path.index(nxt) :]
                first = min(range(len(cycle)), key=lambda k: order[cycle[k]])
                cycle = cycle[first:] + cycle[:first]
                return [*cycle, cycle[0]]
            if mark is None:
                state[nxt] = 1
                path.append(nxt)
                pending.append(list(reversed(by_id[nxt].depends_on)))
    return None


def cycle_error(plan: Plan, cycle: Sequence[str]) -> PlanError:
    return PlanError(
        f"{plan.source}: a cycle: {' → '.join(cycle)} (each task depends on the next); "
        "remove one of these depends_on entries"
    )


def topological_order(plan: Plan) -> list[Task]:
    """Tasks so that each comes after every task it depends on; ties in plan order.
    Raises :class:`PlanError` naming the cycle when there is one."""
    cycle = find_cycle(plan)
    if cycle is not None:
        raise cycle_error(plan, cycle)
    remaining = {t.id: len(t.depends_on) for t in plan.tasks}
    dependents = _dependents(plan)
    position = {t.id: i for i, t in enumerate(plan.tasks)}
    # A heap of plan positions: the ready task first in the plan comes out first, without
    # sorting the ready list again after every task (quadratic on wide plans).
    ready = [position[tid] for tid, n in remaining.items() if n == 0]
    heapq.heapify(ready)
    ordered: list[Task] = []
    while ready:
        task = plan.tasks[heapq.heappop(ready)]
        ordered.append(task)
        for child in dependents[task.id]:
            remaining[child] -= 1
            if remaining[child] == 0:
                heapq.heappush(ready, position[child])
    return ordered


def _dependents(plan: Plan) -> dict[str, list[str]]:
    """Per task, the tasks that depend on it, in plan order."""
    out: dict[str, list[str]] = {t.id: [] for t in plan.tasks}
    for task in plan.tasks:
        for dep in task.depends_on:
            out[dep].append(task.id)
    return out


# -- the critical path method ------------------------------------------------------------------


@dataclass(frozen=True)
class TaskTimes:
    """One task's CPM figures, in days from the plan's start (day 0)."""

    task: Task
    early_start: Fraction
    early_finish: Fraction
    late_start: Fraction
    late_finish: Fraction
    free_slack: Fraction

    @property
    def total_slack(self) -> Fraction:
        return self.late_start - self.early_start

    @property
    def critical(self) -> bool:
        return self.total_slack == 0


@dataclass(frozen=True)
class Schedule:
    """The CPM result of a plan (see the module docstring)."""

    plan: Plan
    #: In topological order (ties in plan order).
    times: tuple[TaskTimes, ...]
    duration: Fraction
    critical_path: tuple[str, ...]
    dependents: dict[str, list[str]] = field(default_factory=dict)

    @property
    def by_id(self) -> dict[str, TaskTimes]:
        return {t.task.id: t for t in self.times}

    @property
    def critical_tasks(self) -> list[str]:
        """Every task with zero total slack, in topological order."""
        return [t.task.id for t in self.times if t.critical]

    @property
    def duration_days(self) -> float:
        return float(self.duration)

    @property
    def end(self) -> date | None:
        """The day by whose end the whole plan is done (with a start date)."""
        if self.plan.start is None:
            return None
        return finish_date(self.plan.start, Fraction(0), self.duration)

    def need_by_misses(self) -> list[NeedByCheck]:
        """Tasks with a need-by date whose early finish falls after it (with a start)."""
        return [c for c in self.need_by_checks() if c.days_late > 0]

    def need_by_checks(self) -> list[NeedByCheck]:
        """Every task with a need-by date, against its early finish; empty without a start."""
        start = self.plan.start
        if start is None:
            return []
        checks = []
        for t in self.times:
            if t.task.need_by is None:
                continue
            done = finish_date(start, t.early_start, t.early_finish)
            checks.append(NeedByCheck(t.task.id, t.task.need_by, done))
        return checks

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``obeya deps critical-path --json``."""
        start = self.plan.start
        tasks = []
        for t in self.times:
            row: dict[str, Any] = {
                "id": t.task.id,
                "name": t.task.name,
                "team": t.task.team,
                "duration_days": _num(Fraction(t.task.duration_days)),
                "depends_on": list(t.task.depends_on),
                "early_start": _num(t.early_start),
                "early_finish": _num(t.early_finish),
                "late_start": _num(t.late_start),
                "late_finish": _num(t.late_finish),
                "total_slack": _num(t.total_slack),
                "free_slack": _num(t.free_slack),
                "critical": t.critical,
                "need_by": t.task.need_by.isoformat() if t.task.need_by else None,
            }
            if start is not None:
                row["dates"] = {
                    "early_start": start_date(start, t.early_start, t.early_finish).isoformat(),
                    "early_finish": finish_date(start, t.early_start, t.early_finish).isoformat(),
                    "late_start": start_date(start, t.late_start, t.late_finish).isoformat(),
                    "late_finish": finish_date(start, t.late_start, t.late_finish).isoformat(),
                }
            tasks.append(row)
        end = self.end
        return {
            "plan": self.plan.name,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "duration_days": _num(self.duration),
            "critical_path": list(self.critical_path),
            "critical_tasks": self.critical_tasks,
            "slack_days": {t.task.id: _num(t.total_slack) for t in self.times},
            "free_slack_days": {t.task.id: _num(t.free_slack) for t in self.times},
            "tasks": tasks,
            "teams": self.plan.teams,
            "dependency_matrix": dependency_matrix(self.plan),
            "need_by": [c.to_dict() for c in self.need_by_checks()],
        }


@dataclass(frozen=True)
class NeedByCheck:
    """A need-by date against the day the task is done at its early finish."""

    task_id: str
    need_by: date
    early_finish: date

    @property
    def days_late(self) -> int:
        """Days after the need-by date (0 when on time)."""
        return max(0, (self.early_finish - self.need_by).days)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.task_id,
            "need_by": self.need_by.isoformat(),
            "early_finish": self.early_finish.isoformat(),
            "days_late": self.days_late,
            "missed": self.days_late > 0,
        }


def schedule(plan: Plan) -> Schedule:
    """Forward and backward pass of the critical path method (see the module docstring).
    Raises :class:`PlanError` naming the cycle when the plan has one."""
    ordered = topological_order(plan)
    dependents = _dependents(plan)
    dur = {t.id: Fraction(t.duration_days) for t in plan.tasks}
    es: dict[str, Fraction] = {}
    ef: dict[str, Fraction] = {}
    for task in ordered:
        es[task.id] = max((ef[d] for d in task.depends_on), default=Fraction(0))
        ef[task.id] = es[task.id] + dur[task.id]
    total = max(ef.values())
    ls: dict[str, Fraction] = {}
    lf: dict[str, Fraction] = {}
    for task in reversed(ordered):
        lf[task.id] = min((ls[c] for c in dependents[task.id]), default=total)
        ls[task.id] = lf[task.id] - dur[task.id]
    times = tuple(
        TaskTimes(
            task=task,
            early_start=es[task.id],
            early_finish=ef[task.id],
            late_start=ls[task.id],
            late_finish=lf[task.id],
            free_slack=min((es[c] for c in dependents[task.id]), default=total) - ef[task.id],
        )
        for task in ordered
    )
    if plan.start is not None:
        _check_calendar(plan, plan.start, total, "start")
    critical = {t.task.id for t in times if t.critical}
    path = _critical_chain(plan, critical, es, ef, dependents, total)
    return Schedule(plan, times, total, tuple(path), dependents)


def _check_calendar(plan: Plan, first: date, days: Fraction | int, field_name: str) -> None:
    """Refuse a plan whose dates would fall past 9999-12-31, the last date there is: a span
    of ``days`` from ``first`` (day 1) is dated up to ``first`` + ⌈days⌉ − 1."""
    if first.toordinal() + max(ceil(days) - 1, 0) > date.max.toordinal():
        raise PlanError(
            f"{plan.source}: field '{field_name}': {float(days):,.9g} days from "
            f"{first.isoformat()} run past {date.max.isoformat()}, the last date there is; "
            "give an earlier start or shorter durations"
        )


def _critical_chain(
    plan: Plan,
    critical: set[str],
    es: Mapping[str, Fraction],
    ef: Mapping[str, Fraction],
    dependents: Mapping[str, list[str]],
    total: Fraction,
) -> list[str]:
    # A critical task with dependents has one that is critical and starts when it finishes
    # (its late finish is their smallest late start), so this walk never ends early.
    first = next(t.id for t in plan.tasks if t.id in critical and es[t.id] == 0)
    path = [first]
    while True:
        here = path[-1]
        nxt = next(
            (c for c in dependents[here] if c in critical and es[c] == ef[here]),
            None,
        )
        if nxt is None:
            assert ef[here] == total
            return path
        path.append(nxt)


# -- dates ---------------------------------------------------------------------------------------


def start_date(start: date, begin: Fraction, end: Fraction | None = None) -> date:
    """The calendar day on which a task running from ``begin`` to ``end`` (days after the
    plan's start; day 0 is the start date) begins: start + ⌊begin⌋; a milestone (no
    duration) is dated by :func:`finish_date`."""
    if end is not None and end == begin:
        return finish_date(start, begin, end)
    return start + timedelta(days=floor(begin))


def finish_date(start: date, begin: Fraction, end: Fraction) -> date:
    """The calendar day by whose end a task running from ``begin`` to ``end`` (days after
    the plan's start) is done: start + ⌈end⌉ − 1, so a 5-day task from day 0 is done on the
    5th day, as a forecast's date. A milestone at ``end`` therefore falls on the day its
    dependencies are done (a milestone at day 0 on the start date)."""
    return start + timedelta(days=max(ceil(end) - 1, 0))


# -- teams ---------------------------------------------------------------------------------------


def dependency_matrix(plan: Plan) -> dict[str, dict[str, int]]:
    """``matrix[a][b]``: how many tasks of team ``a`` depend on at least one task of team
    ``b`` (rows: the waiting team, columns: the providing team; the diagonal counts tasks
    waiting within their own team). Every team is a row and a column, in order of first
    appearance."""
    teams = plan.teams
    by_id = plan.by_id
    matrix = {a: dict.fromkeys(teams, 0) for a in teams}
    for task in plan.tasks:
        for provider in {by_id[d].team for d in task.depends_on}:
            matrix[task.team][provider] += 1
    return matrix


# -- dependencies at risk ------------------------------------------------------------------------

#: A dependency is at risk when its provider finishes by the need-by date in fewer than this
#: share of the Monte Carlo trials: the 85 % confidence the forecasts are usually read at.
AT_RISK_BELOW = 0.85


@dataclass(frozen=True)
class DependencyRisk:
    """When a task's team (the provider) finishes the task's items, against its need-by date."""

    task_id: str
    team: str
    need_by: date
    #: The day the forecast starts: the task's early start date.
    start: date
    forecast: WhenForecast
    #: Share of trials done by the end of the need-by date.
    on_time: float
    #: The tasks waiting for it.
    dependents: tuple[str, ...]
    threshold: float = AT_RISK_BELOW

    @property
    def at_risk(self) -> bool:
        return self.on_time < self.threshold

    def to_dict(self) -> dict[str, Any]:
        dates = self.forecast.dates or {}
        return {
            "id": self.task_id,
            "team": self.team,
            "items": self.forecast.items,
            "need_by": self.need_by.isoformat(),
            "start": self.start.isoformat(),
            "probability_on_time": round(self.on_time, DECIMALS),
            "at_risk": self.at_risk,
            "dates": {str(p): d.isoformat() for p, d in dates.items()},
            "dependents": list(self.dependents),
        }


def provider_forecast(
    throughput_daily: Mapping[str, int],
    items: int,
    need_by: date,
    *,
    start: date,
    history_days: int = DEFAULT_HISTORY_DAYS,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> tuple[WhenForecast, float]:
    """When the provider finishes ``items`` items from ``start`` (day 1), and the share of
    trials done by the end of ``need_by``.

    ``throughput_daily`` maps ``YYYY-MM-DD`` to the provider's items finished that day. The
    trials sample the ``history_days`` days before the start, or before the day after the
    data's last day when the start is later (days after the data are not zeros, only unknown).
    """
    data_end = default_start(throughput_daily)
    window_end = start if data_end is None else min(start, data_end)
    window = history_window(throughput_daily, window_end, history_days)
    forecast = when(window, items, trials=trials, seed=seed, start=start)
    allowed = (need_by - start).days + 1  # a forecast's day 1 is its start date
    done = sum(n for days, n in forecast.histogram.items() if days <= allowed)
    return forecast, done / trials


def dependency_risks(
    sched: Schedule,
    throughput_by_team: Mapping[str, Mapping[str, int]],
    *,
    history_days: int = DEFAULT_HISTORY_DAYS,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    threshold: float = AT_RISK_BELOW,
) -> list[DependencyRisk]:
    """For every task with ``need_by`` and ``items`` (plan order): the Monte Carlo forecast
    of its team finishing the items, from the task's early start date (its dependencies done
    as planned), and the probability of that being by the need-by date.

    Day 0 of the plan is its ``start``, or without one the day after the history's last day.
    """
    plan = sched.plan
    origin = plan.start
    if origin is None:
        ends = [d for d in map(default_start, throughput_by_team.values()) if d is not None]
        if not ends:
            raise PlanError(f"{plan.source}: no throughput history for any team")
        origin = max(ends)
    known = ", ".join(sorted(throughput_by_team)) or "none"
    risks = []
    for index, task in enumerate(plan.tasks):
        if task.need_by is None or task.items is None:
            continue
        daily = throughput_by_team.get(task.team)
        if daily is None:
            raise PlanError(
                f"{plan.source}: {_task_at(index, task.id)}: field 'team': no history of team "
                f"{task.team!r}; teams in the history: {known}"
            )
        times = sched.by_id[task.id]
        begin = start_date(origin, times.early_start)
        # The forecast reads history_days before its start and dates up to max_days after.
        if begin.toordinal() - history_days < date.min.toordinal():
            raise PlanError(
                f"{plan.source}: field 'start' is {origin.isoformat()}; a forecast needs "
                f"{history_days:,} days of history before it: give a later date"
            )
        _check_calendar(plan, begin, DEFAULT_MAX_DAYS, "start" if plan.start else "duration_days")
        forecast, on_time = provider_forecast(
            daily,
            task.items,
            task.need_by,
            start=begin,
            history_days=history_days,
            trials=trials,
            seed=seed,
        )
        risks.append(
            DependencyRisk(
                task_id=task.id,
                team=task.team,
                need_by=task.need_by,
                start=begin,
                forecast=forecast,
                on_time=on_time,
                dependents=tuple(sched.dependents.get(task.id, [])),
                threshold=threshold,
            )
        )
    return risks


def _num(value: Fraction) -> float:
    return round(float(value), DECIMALS)
