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
from typing import Any, Protocol, cast

from obeya.core.documents import Document
from obeya.core.steering.objectives import Objective
from obeya.core.steering.risks import Risk
from obeya.core.steering.roadmap import Improvement, KaizenEvent
from obeya.core.steering.saved import ExperimentRecord, plan_record_from_dict
from obeya.core.steering.teams import Person, StreamProfile, Team
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
    #: The declared document of the kind (:mod:`obeya.core.documents`), whence its form, its
    #: API schema and its CLI options; None for a kind that is not a declared document.
    document: type[Document] | None = None


def declared_kind(name: str, plural: str, document: type[Document], **more: Any) -> Kind:
    parse = cast(Callable[[Mapping[str, Any], str], Record], document.from_dict)
    return Kind(name, plural, parse, document=document, **more)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        declared_kind("risk", "risks", Risk, prefix="R-"),
        declared_kind("objective", "objectives", Objective, prefix="O-"),
        declared_kind("improvement", "improvements", Improvement, prefix="I-"),
        declared_kind("kaizen-event", "kaizen events", KaizenEvent, prefix="K-"),
        Kind("plan", "dependency plans", plan_record_from_dict, prefix="P-"),
        declared_kind("experiment", "experiments", ExperimentRecord, prefix="E-"),
        declared_kind("team", "teams", Team, per_stream=False),
        declared_kind("person", "people", Person, per_stream=False),
        declared_kind("stream-profile", "stream profiles", StreamProfile, per_stream=False),
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
