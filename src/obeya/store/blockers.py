"""A stream's blockers in the app store (``store.blockers``).

A blocker is named by its item, ``blocked_at`` and reason within the stream. Saving a file
inserts the blockers the stream lacks and updates those whose other fields changed (a blocker
since lifted: its ``unblocked_at`` filled in), in one transaction; saving the same file again
changes nothing. Every row written gets a ``saved_at`` beyond the stream's newest, which the
stream's stamp reads, so cached flow reports with the old blockers are never served.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, update

from obeya.core.blockers.model import Blocker
from obeya.store.audit import write_audit
from obeya.store.models import BlockerRow, EventRow

if TYPE_CHECKING:
    from obeya.store.store import Store

_VALUES = ("unblocked_at", "blocking_item", "team")


@dataclass(frozen=True)
class BlockerCounts:
    """What saving a blockers file did: ``given`` blockers, ``added`` new, ``updated``
    changed; the rest were stored already as they are. ``unknown``: items named that the
    stream has no events of (a typo, or events not imported yet): kept, but counting nowhere."""

    given: int
    added: int
    updated: int
    unknown: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"given": self.given, "added": self.added, "updated": self.updated}


class Blockers:
    """A stream's blockers (``store.blockers``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, stream: str, blockers: Sequence[Blocker], *, source: str) -> BlockerCounts:
        """Add and update the blockers of an existing stream (a blocker belongs to an item of
        its history: a misspelt name must not start an empty stream), all or nothing."""
        with (
            self._store._errors(f"saving {source} into value stream {stream!r}", writing=True),
            self._store._write() as connection,
        ):
            stream_id = self._store._lock_id(connection, stream)
            if stream_id is None:  # the not-found error, naming the streams there are
                stream_id = self._store._require_id(connection, stream)
            counts = merge_blockers(connection, stream, stream_id, blockers, source)
            named = sorted({b.item_id for b in blockers})
            return dataclasses.replace(counts, unknown=_unknown(connection, stream_id, named))

    def load(self, stream: str) -> tuple[Blocker, ...]:
        """Every blocker of the stream, by item, then time, then reason."""
        with (
            self._store._errors(f"reading the blockers of {stream!r}"),
            self._store.engine.connect() as connection,
        ):
            stream_id = self._store._require_id(connection, stream)
            rows = _read(connection, stream_id)
        return tuple(
            Blocker(item, blocked_at, v[0], reason, v[1], v[2])
            for (item, blocked_at, reason), v in sorted(rows.items())
        )


#: Item ids asked about per query (bound parameters stay well under every database's limit).
ID_BATCH = 500


def _unknown(connection: Connection, stream_id: int, items: Sequence[str]) -> tuple[str, ...]:
    """Those of ``items`` the stream has no event of."""
    known: set[str] = set()
    for start in range(0, len(items), ID_BATCH):
        batch = items[start : start + ID_BATCH]
        query = select(EventRow.item_id).where(
            EventRow.stream_id == stream_id, EventRow.item_id.in_(batch)
        )
        known.update(connection.execute(query.distinct()).scalars())
    return tuple(i for i in items if i not in known)


def merge_blockers(
    connection: Connection,
    stream: str,
    stream_id: int,
    blockers: Sequence[Blocker],
    source: str,
) -> BlockerCounts:
    """Merge ``blockers`` into the stream inside the caller's transaction (a blockers file's,
    or a connector's sync, whose events and blockers are stored together or not at all), with
    an audit entry when anything changed."""
    counts = _merge(connection, stream_id, blockers)
    if counts.added or counts.updated:
        write_audit(
            connection,
            "stream.blockers",
            stream,
            stream=stream,
            after={"source": source, **counts.to_dict()},
        )
    return counts


def stamp_columns(stream_id: Any) -> tuple[Any, Any]:
    """The stream's blocker count and newest ``saved_at``, as scalar subqueries for the
    stream's stamp (``stream_id``: the stamp query's stream id column)."""
    mine = BlockerRow.stream_id == stream_id
    return (
        select(func.count(BlockerRow.id)).where(mine).scalar_subquery(),
        select(func.max(BlockerRow.saved_at)).where(mine).scalar_subquery(),
    )


def _read(connection: Connection, stream_id: int) -> dict[tuple[str, int, str], tuple[Any, ...]]:
    t = BlockerRow
    found = connection.execute(
        select(t.item_id, t.blocked_at, t.reason, t.unblocked_at, t.blocking_item, t.team).where(
            t.stream_id == stream_id
        )
    )
    return {(r[0], r[1], r[2]): tuple(r[3:]) for r in found}


def _merge(connection: Connection, stream_id: int, blockers: Sequence[Blocker]) -> BlockerCounts:
    stored = _read(connection, stream_id)
    latest = {b.key: (b.unblocked_at, b.blocking_item, b.team) for b in blockers}
    new = [key for key in latest if key not in stored]
    changed = [key for key in latest if key in stored and stored[key] != latest[key]]
    if new or changed:
        newest = connection.execute(
            select(func.max(BlockerRow.saved_at)).where(BlockerRow.stream_id == stream_id)
        ).scalar()
        # Later than any row of the stream even if the clock stepped back: the stamp moves.
        saved_at = max(time.time_ns() // 1000, (newest or 0) + 1)
    if new:
        connection.execute(
            insert(BlockerRow),
            [
                {
                    "stream_id": stream_id,
                    "item_id": item,
                    "blocked_at": blocked_at,
                    "reason": reason,
                    **dict(zip(_VALUES, latest[(item, blocked_at, reason)], strict=True)),
                    "saved_at": saved_at,
                }
                for item, blocked_at, reason in new
            ],
        )
    for item, blocked_at, reason in changed:
        connection.execute(
            update(BlockerRow)
            .where(
                BlockerRow.stream_id == stream_id,
                BlockerRow.item_id == item,
                BlockerRow.blocked_at == blocked_at,
                BlockerRow.reason == reason,
            )
            .values(
                **dict(zip(_VALUES, latest[(item, blocked_at, reason)], strict=True)),
                saved_at=saved_at,
            )
        )
    return BlockerCounts(len(blockers), len(new), len(changed))
