"""What the versioned documents of the store (maps, steering records) share: saving, reading
and listing versions (:class:`Versioned`), timestamps read back as UTC, and which fields a new
version changed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from obeya.errors import OwnedElsewhere, VersionConflict
from obeya.store.audit import ACTOR, write_audit
from obeya.store.models import StreamRow


def utc(moment: datetime) -> datetime:
    """SQLite keeps no offset and PostgreSQL answers in the session's zone; we write UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    """The keys of two flat documents whose values differ, in ``after``'s order, then the
    keys only ``before`` has."""
    keys = [*after, *(k for k in before if k not in after)]
    return tuple(k for k in keys if before.get(k) != after.get(k))


def flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    """A nested document as dotted keys (``key_results.0.target``); lists by position."""
    if isinstance(document, dict):
        items = list(document.items())
    elif isinstance(document, list):
        items = [(str(i), v) for i, v in enumerate(document)]
    else:
        return {prefix: document}
    if not items:
        return {prefix: document} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


@dataclass(frozen=True)
class Versioned:
    """A document saved in versions: a head table (``id``, the identity columns,
    ``stream_id``, ``current_version``, ``created_at``, ``updated_at``) and a versions table
    (``parent`` → head id, ``version``, ``document``, ``author``, ``message``,
    ``created_at``). Maps and steering records both keep their documents this way; a save
    adds a version, never overwrites one, and may name the version it was made on."""

    head: Any
    versions: Any
    parent: str
    #: The audit log's name for these documents (``map``, ``record``).
    noun: str
    flat: Callable[[Any], dict[str, Any]] = flatten

    def _of(self, head_id: int) -> Any:
        return getattr(self.versions, self.parent) == head_id

    def save(
        self,
        connection: Connection,
        identity: Mapping[str, Any],
        document: dict[str, Any],
        *,
        label: str,
        author: str,
        message: str,
        stream_id: int | None,
        expected_version: int | None,
        now: datetime,
    ) -> tuple[int, tuple[str, ...]]:
        """Add the next version; (its number, the fields it changed). VersionConflict when the
        head moved past ``expected_version`` (nothing is written). In a signed-in request the
        author is the signed-in user (:data:`~obeya.store.audit.ACTOR`), whatever was given."""
        author = ACTOR.get() or author
        where = [getattr(self.head, k) == v for k, v in identity.items()]
        row = connection.execute(
            select(self.head.id, self.head.current_version, self.head.stream_id)
            .where(*where)
            .with_for_update()
        ).one_or_none()
        current = 0 if row is None else row.current_version
        # A save never moves a document out of its stream, or into one: a stranger saving
        # under a taken name would otherwise take it over. Checked before the version, so
        # the answer tells them nothing of who changed it or when.
        if row is not None and stream_id is not None and row.stream_id != stream_id:
            raise OwnedElsewhere(self.noun, label)
        if expected_version is not None and expected_version != current:
            raise self.stale(connection, identity, label, row, expected_version)
        changes: tuple[str, ...] = ()
        before: Any = None
        if row is None:
            head_id = connection.execute(
                insert(self.head)
                .values(
                    **{"stream_id": stream_id, **identity},  # records: the stream is identity
                    current_version=1,
                    created_at=now,
                    updated_at=now,
                )
                .returning(self.head.id)
            ).scalar_one()
        else:
            head_id = row.id
            previous = connection.execute(
                select(self.versions.document).where(
                    self._of(head_id), self.versions.version == current
                )
            ).scalar_one()
            before = json.loads(previous)
            changes = changed_fields(self.flat(before), self.flat(document))
            connection.execute(
                update(self.head)
                .where(self.head.id == head_id)
                .values(current_version=current + 1, updated_at=now)
            )
        connection.execute(
            insert(self.versions).values(
                **{self.parent: head_id},
                version=current + 1,
                document=json.dumps(document, ensure_ascii=False, sort_keys=True),
                author=author,
                message=message,
                created_at=now,
            )
        )
        write_audit(
            connection,
            f"{self.noun}.save",
            label,
            stream_id=stream_id if row is None else row.stream_id,
            before=before,
            after=document,
        )
        return current + 1, changes

    def move(
        self,
        connection: Connection,
        head_ids: Sequence[int],
        stream_id: int | None,
        label: str,
    ) -> None:
        """Move documents to ``stream_id`` (None: to no stream), the one way a document
        changes streams; the audit logs of the stream it leaves and the one it joins both say
        so."""
        sources = set(
            connection.execute(
                select(self.head.stream_id).where(self.head.id.in_(head_ids))
            ).scalars()
        )
        connection.execute(
            update(self.head).where(self.head.id.in_(head_ids)).values(stream_id=stream_id)
        )
        involved = [s for s in sources | {stream_id} if s is not None]
        names: dict[int | None, str | None] = {
            r.id: r.name
            for r in connection.execute(
                select(StreamRow.id, StreamRow.name).where(StreamRow.id.in_(involved))
            )
        }
        before = {"stream": sorted(str(names.get(s)) for s in sources)}
        for where in sources | {stream_id}:
            write_audit(
                connection,
                f"{self.noun}.move",
                label,
                stream_id=where,
                before=before,
                after={"stream": names.get(stream_id)},
            )

    def version(self, connection: Connection, head_id: int, version: int) -> Any:
        """The row (document, author, message, created_at) of one version, or None."""
        v = self.versions
        return connection.execute(
            select(v.document, v.author, v.message, v.created_at).where(
                self._of(head_id), v.version == version
            )
        ).one_or_none()

    def history(self, connection: Connection, head_id: int) -> list[Any]:
        """Every version's row, oldest first: version, document, author, message, created_at."""
        v = self.versions
        return list(
            connection.execute(
                select(v.version, v.document, v.author, v.message, v.created_at)
                .where(self._of(head_id))
                .order_by(v.version)
            ).all()
        )

    def changes(self, rows: Sequence[Any]) -> list[tuple[str, ...]]:
        """Per history row, the fields it changed from the one before (none for the first)."""
        out: list[tuple[str, ...]] = []
        before: dict[str, Any] | None = None
        for r in rows:
            flat = self.flat(json.loads(r.document))
            out.append(() if before is None else changed_fields(before, flat))
            before = flat
        return out

    def delete(self, connection: Connection, head_id: int, label: str) -> None:
        head = connection.execute(
            select(self.head.current_version, self.head.stream_id).where(self.head.id == head_id)
        ).one()
        last = self.version(connection, head_id, head.current_version)
        write_audit(
            connection,
            f"{self.noun}.delete",
            label,
            stream_id=head.stream_id,
            before=json.loads(last.document),
        )
        connection.execute(delete(self.versions).where(self._of(head_id)))
        connection.execute(delete(self.head).where(self.head.id == head_id))

    def stale(
        self,
        connection: Connection,
        identity: Mapping[str, Any],
        label: str,
        row: Any,
        expected: int,
    ) -> VersionConflict:
        kind = identity.get("kind", self.noun)
        key = identity.get("key") or "/".join(str(v) for v in identity.values())
        if row is None:
            return VersionConflict(
                f"{label} has not been saved yet, so it cannot be at version {expected}; "
                "save it without an expected version (or with 0)",
                kind=kind,
                key=key,
                expected=expected,
                current=0,
            )
        author, created_at = connection.execute(
            select(self.versions.author, self.versions.created_at).where(
                self._of(row.id), self.versions.version == row.current_version
            )
        ).one()
        when = utc(created_at).isoformat(timespec="seconds")
        return VersionConflict(
            f"{label} changed since version {expected} (now {row.current_version}) by "
            f"{author} at {when}; reload and apply your change again",
            kind=kind,
            key=key,
            expected=expected,
            current=row.current_version,
            author=author,
            at=when,
        )
