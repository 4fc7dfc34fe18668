"""Who may do what: roles per value stream.

A user holds grants: a role on one stream, or a role on the whole workspace (``stream`` None),
which applies to every stream and to what belongs to no stream (teams, people, maps of no
stream). Roles are ordered: a viewer reads, an editor also changes (maps, risks, objectives,
imports), an admin also manages users, roles and tokens and deletes. A user's role on a stream
is the highest of their grants that reach it.

This is the one place the rules live; the API, the pages and the CLI ask :func:`allows`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from obeya.errors import InputError


class Role(IntEnum):
    VIEWER = 1
    EDITOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(r.label for r in cls)
            raise InputError(f"role {text!r} is not one of {names}") from None


@dataclass(frozen=True)
class Grant:
    """``role`` on ``stream``; on the whole workspace when ``stream`` is None."""

    stream: str | None
    role: Role

    def to_dict(self) -> dict[str, str | None]:
        return {"stream": self.stream, "role": self.role.label}


@dataclass(frozen=True)
class Principal:
    """Who is making a request: a user and their grants (a token acts as its user)."""

    user: str
    grants: tuple[Grant, ...]

    def role_on(self, stream: str | None) -> Role | None:
        """The highest role reaching ``stream`` (None: the workspace itself), or None."""
        reaching = [g.role for g in self.grants if g.stream is None or g.stream == stream]
        return max(reaching, default=None)

    def allows(self, need: Role, stream: str | None) -> bool:
        """Whether the user may act with ``need`` on ``stream``.

        Reading what belongs to no stream (``stream`` None, ``need`` VIEWER) needs any grant:
        teams and people are the organisation's. Changing it needs a workspace-wide grant.
        """
        if stream is None and need is Role.VIEWER:
            return bool(self.grants)
        role = self.role_on(stream)
        return role is not None and role >= need

    @property
    def administers(self) -> tuple[str | None, ...]:
        """Where the user is an admin: None for the whole workspace, else stream names."""
        return tuple(g.stream for g in self.grants if g.role is Role.ADMIN)

    def sees(self, stream: str | None) -> bool:
        return self.allows(Role.VIEWER, stream)

    def visible(self, streams: Iterable[str]) -> list[str]:
        """The streams of ``streams`` this user may read, in their order."""
        return [s for s in streams if self.sees(s)]
