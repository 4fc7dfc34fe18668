"""Teams and people aligned to value streams, and the skill coverage that follows.

A team works for one or more value streams; a person belongs to teams and has skills. A
stream's people are the members of its teams; its skills are theirs. A stream *needs* the
skills its profile lists (``needs``); the coverage matrix shows, per stream and skill, how many
of its people have it, and the skills nobody has (*lacking*). A person whose teams serve more
than one stream is *split* across them: each stream gets part of their time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from obeya.core.documents import Document, Fail, text, texts
from obeya.errors import InputError


class _Named(Document):
    """A document with a ``name`` that defaults to its key (a team, a person)."""

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        values["name"] = values["name"] or values["key"]


@dataclass(frozen=True)
class Team(_Named):
    noun: ClassVar[str] = "team"

    key: Annotated[str, text("Key", "A short id, e.g. web.", nonempty=True)]
    name: Annotated[str, text("Name", "Blank: the key.")] = ""
    streams: Annotated[tuple[str, ...], texts("Value streams", "The streams it works for.")] = ()


@dataclass(frozen=True)
class Person(_Named):
    noun: ClassVar[str] = "person"

    key: Annotated[str, text("Key", "A short id, e.g. ana.", nonempty=True)]
    name: Annotated[str, text("Name", "Blank: the key.")] = ""
    teams: Annotated[tuple[str, ...], texts("Teams", "Saved teams' keys.")] = ()
    skills: Annotated[tuple[str, ...], texts("Skills")] = ()


@dataclass(frozen=True)
class StreamProfile(Document):
    """What a value stream needs that data cannot tell: its skills, and its products."""

    noun: ClassVar[str] = "stream profile"

    key: Annotated[str, text("Value stream", "The stream's name.", nonempty=True)]
    needs: Annotated[tuple[str, ...], texts("Needs", "The skills the stream needs.")] = ()
    products: Annotated[tuple[str, ...], texts("Products")] = ()


def coverage(
    teams: Iterable[Team],
    people: Iterable[Person],
    profiles: Iterable[StreamProfile] = (),
) -> dict[str, Any]:
    """The coverage matrix (module docstring); an error names a person's unknown team."""
    team_list = sorted(teams, key=lambda t: t.key)
    team_keys = {t.key for t in team_list}
    people_list = sorted(people, key=lambda p: p.key)
    for person in people_list:
        unknown = [t for t in person.teams if t not in team_keys]
        if unknown:
            raise InputError(
                f"person {person.key!r}: teams names {unknown[0]!r}, which is not a team; "
                f"the teams are {', '.join(sorted(team_keys)) or 'none yet'}"
            )
    needs = {p.key: p.needs for p in profiles}
    streams = sorted({s for t in team_list for s in t.streams} | set(needs))
    streams_of_team = {t.key: set(t.streams) for t in team_list}
    streams_of = {p.key: set().union(*(streams_of_team[t] for t in p.teams)) for p in people_list}
    rows = []
    for stream in streams:
        members = [p for p in people_list if stream in streams_of[p.key]]
        held: dict[str, int] = {}
        for person in members:
            for skill in person.skills:
                held[skill] = held.get(skill, 0) + 1
        skills = sorted(set(held) | set(needs.get(stream, ())))
        rows.append(
            {
                "stream": stream,
                "teams": [t.key for t in team_list if stream in t.streams],
                "people": [p.key for p in members],
                "skills": {s: held.get(s, 0) for s in skills},
                "needs": list(needs.get(stream, ())),
                "lacking": [s for s in needs.get(stream, ()) if not held.get(s)],
            }
        )
    split = {p.key: sorted(streams_of[p.key]) for p in people_list if len(streams_of[p.key]) > 1}
    return {
        "streams": rows,
        "split_people": split,
        "unassigned_people": [p.key for p in people_list if not streams_of[p.key]],
        "teams_without_stream": [t.key for t in team_list if not t.streams],
    }
