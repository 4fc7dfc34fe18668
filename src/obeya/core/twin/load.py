"""What the twin's demand asks of each step, in closed form (no simulation): the expected
visits per item to each state from the routing (a Markov chain), and the utilisation it
offers each step = arrivals × visits × process time ÷ (servers × working hours). Shown with
the fitted twin and on its map; at 100 % or more a step cannot keep up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from obeya.core.twin.model import FINISH, Twin


def expected_visits(twin: Twin) -> dict[str, float]:
    """Visits per new item to each state: v = f (I − P)⁻¹, f the first states, P the routing
    (a loop back is a second visit). States items never leave hold them: one visit."""
    names = [s.name for s in twin.states]
    index = {n: i for i, n in enumerate(names)}
    n = len(names)
    routing = np.zeros((n, n))
    for i, s in enumerate(twin.states):
        for target, p in s.next:
            if target != FINISH:
                routing[i, index[target]] += p
    first = np.zeros(n)
    for name, p in twin.arrivals.first:
        first[index[name]] += p
    try:
        visits = np.linalg.solve((np.eye(n) - routing).T, first)
    except np.linalg.LinAlgError:  # a closed loop nobody leaves: count by iterating
        visits, flow = np.zeros(n), first.copy()
        for _ in range(1000):
            visits += flow
            flow = flow @ routing
    return {name: float(max(v, 0.0)) for name, v in zip(names, visits, strict=True)}


@dataclass(frozen=True)
class StepLoad:
    name: str
    servers: int
    visits_per_item: float
    work_hours_per_visit: float
    utilisation: float  # offered: ≥ 1 means the step cannot keep up


def step_loads(twin: Twin, per_week: float | None = None) -> list[StepLoad]:
    """Per step, the utilisation the arrivals offer it (module doc)."""
    rate = twin.arrivals.per_week if per_week is None else per_week
    visits = expected_visits(twin)
    hours = twin.calendar.hours_per_week
    loads = []
    for step in twin.steps:
        mine = [s for s in twin.states if s.kind == "work" and s.step == step.name]
        count = sum(visits[s.name] for s in mine)
        work = sum(visits[s.name] * (float(np.mean(s.hours)) if s.hours else 0.0) for s in mine)
        loads.append(
            StepLoad(
                name=step.name,
                servers=step.servers,
                visits_per_item=count,
                work_hours_per_visit=work / count if count else 0.0,
                utilisation=rate * work / (step.servers * hours) if hours else float("inf"),
            )
        )
    return loads
