"""The audit log: every change to the store, who made it, when, and the documents before and
after.

Entries are written by the store itself, inside the transaction of the change they describe,
so a change without its entry (or an entry without its change) cannot happen. Who acts is
:data:`ACTOR`, set once per request by the web app (the signed-in user or the token's owner)
and once per command by the CLI (``cli:<login>``), so the store's methods need no extra
argument and no caller can forget it.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from obeya.store.models import AuditRow, StreamRow


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # pragma: no cover - no login name (some containers)
        return "cli"


#: Who the current change is made by. A ContextVar, so each request (thread or task) has its own.
ACTOR: ContextVar[str | None] = ContextVar("obeya_actor", default=None)


def current_actor() -> str:
    return ACTOR.get() or _default_actor()


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute the store's changes within the block to ``actor``."""
    token = ACTOR.set(actor)
    try:
        yield
    finally:
        ACTOR.reset(token)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime  # UTC
    actor: str
    action: str
    target: str
    stream: str | None
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="seconds"),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "stream": self.stream,
            "before": self.before,
            "after": self.after,
        }


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def write_audit(
    connection: Connection,
    action: str,
    target: str,
    *,
    stream: str | None = None,
    stream_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Record one change in ``connection``'s transaction (the stream by name or id)."""
    if stream is None and stream_id is not None:
        stream = connection.execute(
            select(StreamRow.name).where(StreamRow.id == stream_id)
        ).scalar_one_or_none()
    connection.execute(
        insert(AuditRow).values(
            at=datetime.now(UTC),
            actor=current_actor(),
            action=action,
            target=target,
            stream=stream,
            before=_json(before),
            after=_json(after),
        )
    )


def read_audit(
    connection: Connection,
    *,
    stream: str | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest ``limit`` entries (of ``stream`` / by ``actor`` if given), newest first."""
    query = select(*AuditRow.__table__.columns).order_by(AuditRow.id.desc()).limit(limit)
    if stream is not None:
        query = query.where(AuditRow.stream == stream)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    return [
        AuditEntry(
            id=r.id,
            at=r.at.replace(tzinfo=UTC) if r.at.tzinfo is None else r.at.astimezone(UTC),
            actor=r.actor,
            action=r.action,
            target=r.target,
            stream=r.stream,
            before=None if r.before is None else json.loads(r.before),
            after=None if r.after is None else json.loads(r.after),
        )
        for r in connection.execute(query)
    ]
