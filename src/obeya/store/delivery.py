"""A stream's delivery records in the app store: deployments, changes and incidents.

Each is keyed by its own id within the stream. Saving a file (or a connector's pull) inserts
the records the stream lacks and updates those whose fields changed (an incident resolved
since, a deployment that failed after all), all in one transaction; saving the same records
again changes nothing. :class:`Delivery` is the ``delivery`` part of
:class:`~obeya.store.store.Store`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, insert, select, update

from obeya.core.delivery.records import Change, DeliveryHistory, Deployment, Incident
from obeya.core.events import from_micros, to_micros
from obeya.store.audit import write_audit
from obeya.store.models import ChangeRow, DeploymentRow, IncidentRow

if TYPE_CHECKING:
    from obeya.store.models import Base
    from obeya.store.store import Store


@dataclass(frozen=True)
class DeliveryCounts:
    """What saving one kind of record did: ``given`` records, ``added`` new, ``updated``
    changed; the rest were stored already as they are."""

    kind: str
    given: int
    added: int
    updated: int

    def to_dict(self) -> dict[str, Any]:
        return {"given": self.given, "added": self.added, "updated": self.updated}


@dataclass(frozen=True)
class _Kind:
    """How one record type maps to its table: the id column and the other columns' values."""

    name: str
    row: type[Base]
    key: str
    columns: tuple[str, ...]
    values: Callable[[Any], tuple[Any, ...]]
    build: Callable[[str, tuple[Any, ...]], Any]


def _maybe(micros: int | None) -> Any:
    return None if micros is None else from_micros(micros)


_KINDS = (
    _Kind(
        "deployments",
        DeploymentRow,
        "deployment_id",
        ("environment", "finished_at", "result"),
        lambda d: (d.environment, to_micros(d.finished_at), d.result),
        lambda key, v: Deployment(key, v[0], from_micros(v[1]), v[2]),
    ),
    _Kind(
        "changes",
        ChangeRow,
        "change_id",
        ("committed_at", "deployment_id"),
        lambda c: (to_micros(c.committed_at), c.deployment_id),
        lambda key, v: Change(key, from_micros(v[0]), v[1]),
    ),
    _Kind(
        "incidents",
        IncidentRow,
        "incident_id",
        ("created_at", "resolved_at", "deployment_id"),
        lambda i: (
            to_micros(i.created_at),
            None if i.resolved_at is None else to_micros(i.resolved_at),
            i.deployment_id,
        ),
        lambda key, v: Incident(key, from_micros(v[0]), _maybe(v[1]), v[2]),
    ),
)


class Delivery:
    """A stream's deployments, changes and incidents (``store.delivery``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(
        self, stream: str, history: DeliveryHistory, *, source: str
    ) -> tuple[DeliveryCounts, ...]:
        """Add and update the stream's delivery records from ``history`` (the stream created
        if new), all or nothing."""
        with (
            self._store._errors(f"saving {source} into value stream {stream!r}", writing=True),
            self._store._write() as connection,
        ):
            stream_id = self._store._lock_id(connection, stream)
            if stream_id is None:
                stream_id = self._store._insert_stream(connection, stream, None)
            return merge_delivery(connection, stream, stream_id, history, source)

    def load(self, stream: str) -> DeliveryHistory:
        """Every delivery record of the stream, each kind ordered by its id."""
        with (
            self._store._errors(f"reading the delivery records of {stream!r}"),
            self._store.engine.connect() as connection,
        ):
            stream_id = self._store._require_id(connection, stream)
            found = [_read(connection, kind, stream_id) for kind in _KINDS]
        deployments, changes, incidents = (
            tuple(kind.build(key, values) for key, values in sorted(rows.items()))
            for kind, rows in zip(_KINDS, found, strict=True)
        )
        return DeliveryHistory(deployments, changes, incidents)


def merge_delivery(
    connection: Connection, stream: str, stream_id: int, history: DeliveryHistory, source: str
) -> tuple[DeliveryCounts, ...]:
    """Insert and update in ``connection``'s transaction (a sync stores events beside)."""
    given: Sequence[Sequence[Any]] = (history.deployments, history.changes, history.incidents)
    counts = tuple(
        _merge(connection, kind, stream_id, records)
        for kind, records in zip(_KINDS, given, strict=True)
    )
    if any(c.added or c.updated for c in counts):
        write_audit(
            connection,
            "stream.delivery",
            stream,
            stream=stream,
            after={"source": source, **{c.kind: c.to_dict() for c in counts}},
        )
    return counts


def _read(connection: Connection, kind: _Kind, stream_id: int) -> dict[str, tuple[Any, ...]]:
    table = cast(Table, kind.row.__table__)
    rows = connection.execute(
        select(table.c[kind.key], *(table.c[c] for c in kind.columns)).where(
            table.c.stream_id == stream_id
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def _merge(
    connection: Connection, kind: _Kind, stream_id: int, records: Sequence[Any]
) -> DeliveryCounts:
    table = cast(Table, kind.row.__table__)
    stored = _read(connection, kind, stream_id)
    latest = {getattr(r, kind.key): kind.values(r) for r in records}  # a repeat: the last wins
    new = [
        {"stream_id": stream_id, kind.key: key, **dict(zip(kind.columns, values, strict=True))}
        for key, values in latest.items()
        if key not in stored
    ]
    changed = [
        (key, values) for key, values in latest.items() if key in stored and stored[key] != values
    ]
    if new:
        connection.execute(insert(table), new)
    for key, values in changed:
        connection.execute(
            update(table)
            .where(table.c.stream_id == stream_id, table.c[kind.key] == key)
            .values(dict(zip(kind.columns, values, strict=True)))
        )
    return DeliveryCounts(kind.name, len(records), len(new), len(changed))
