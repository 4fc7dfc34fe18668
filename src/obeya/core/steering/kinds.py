"""The kinds of steering record the store keeps, and how each is read from its document.

Every record is saved as its canonical document (``to_dict()`` of the parsed record), so what
the store holds has always passed the core's checks.

A key is unique per kind in its value stream. A record of a stream added without a key gets
the next one of its kind there: the kind's prefix (``R-`` for risks...) and 1 + the highest
number already used with that prefix in that stream — not the count, so a deleted R-2 leaves
a gap rather than a second R-3.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from obeya.core.steering.objectives import objective_from_dict
from obeya.core.steering.risks import risk_from_dict
from obeya.core.steering.roadmap import improvement_from_dict, kaizen_event_from_dict
from obeya.core.steering.saved import experiment_record_from_dict, plan_record_from_dict
from obeya.core.steering.teams import person_from_dict, profile_from_dict, team_from_dict
from obeya.errors import InputError


class Record(Protocol):
    @property
    def key(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Kind:
    name: str  # as stored and in URLs: risk, objective, ...
    plural: str
    parse: Callable[[Mapping[str, Any], str], Record]
    #: Whether a record belongs to one value stream (teams and people span streams).
    per_stream: bool = True
    #: The prefix of the keys given to records added without one (None: a key is needed).
    prefix: str | None = None


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("risk", "risks", risk_from_dict, prefix="R-"),
        Kind("objective", "objectives", objective_from_dict, prefix="O-"),
        Kind("improvement", "improvements", improvement_from_dict, prefix="I-"),
        Kind("kaizen-event", "kaizen events", kaizen_event_from_dict, prefix="K-"),
        Kind("plan", "dependency plans", plan_record_from_dict, prefix="P-"),
        Kind("experiment", "experiments", experiment_record_from_dict, prefix="E-"),
        Kind("team", "teams", team_from_dict, per_stream=False),
        Kind("person", "people", person_from_dict, per_stream=False),
        Kind("stream-profile", "stream profiles", profile_from_dict, per_stream=False),
    )
}


def kind(name: str) -> Kind:
    """The kind called ``name``; InputError listing the kinds otherwise."""
    found = KINDS.get(name)
    if found is None:
        raise InputError(f"no record kind {name!r}; the kinds are {', '.join(KINDS)}")
    return found


def parse(name: str, doc: Mapping[str, Any], where: str | None = None) -> Record:
    """The record of kind ``name`` in ``doc`` (a ``stream`` key is allowed and ignored: the
    store keeps the stream beside the record)."""
    return kind(name).parse(doc, where or name)


def next_key(prefix: str, keys: Iterable[str]) -> str:
    """The key after the highest ``PREFIX<number>`` of ``keys`` (``R-1``, ``R-7`` → ``R-8``);
    keys of another shape are no number and are skipped."""
    shape = re.compile(re.escape(prefix) + r"([0-9]+)")
    numbers = [int(m[1]) for key in keys if (m := shape.fullmatch(key))]
    return f"{prefix}{max(numbers, default=0) + 1}"
