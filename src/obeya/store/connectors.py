"""Live connectors in the app store, and a sync stored all or nothing.

A connector row keeps the tracker's settings (never its secret: ``secret_env`` names the
environment variable that holds the token), the stream it fills, the checkpoint the next pull
starts from and the last sync's result. :meth:`Connectors.save_sync` writes a pull's
events, its delivery records, its blockers, the renames of statuses and the new checkpoint in
one transaction: an interrupted sync leaves the store as it was, and since the checkpoint moves
only with the data, the next sync pulls the same again; what is stored already is skipped.
:class:`Connectors` is the ``connectors`` part of :class:`~obeya.store.store.Store`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from obeya.connectors.base import SyncBatch
from obeya.core.workflow import Workflow
from obeya.errors import InputError, StoreError, named_missing
from obeya.store.audit import write_audit
from obeya.store.blockers import BlockerCounts, merge_blockers
from obeya.store.delivery import DeliveryCounts, merge_delivery
from obeya.store.models import ConnectorRow, EventRow, StreamRow
from obeya.store.versioning import utc

if TYPE_CHECKING:
    from obeya.store.store import ImportResult, Store

#: The trackers a connector may read.
KINDS = ("jira", "github", "gitlab")


@dataclass(frozen=True)
class ConnectorInfo:
    """A connector as stored; ``settings`` holds no secret."""

    name: str
    kind: str
    stream: str
    settings: dict[str, Any]
    secret_env: str
    created_at: datetime
    checkpoint: datetime | None = None
    last_sync_at: datetime | None = None
    last_result: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "stream": self.stream,
            "settings": {k: v for k, v in self.settings.items() if k != "state_names"},
            "secret_env": self.secret_env,
            "created_at": self.created_at.isoformat(),
            "checkpoint": None if self.checkpoint is None else self.checkpoint.isoformat(),
            "last_sync_at": None if self.last_sync_at is None else self.last_sync_at.isoformat(),
            "last_result": self.last_result,
        }


@dataclass(frozen=True)
class SyncStored:
    """What storing a pull did."""

    events: ImportResult
    delivery: tuple[DeliveryCounts, ...]
    renamed: dict[str, str]
    blockers: BlockerCounts


class Connectors:
    """The live connectors and their syncs (``store.connectors``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(
        self,
        name: str,
        kind: str,
        stream: str,
        settings: dict[str, Any],
        secret_env: str,
        workflow: Workflow | None = None,
    ) -> ConnectorInfo:
        """Add a connector filling ``stream`` (created, with ``workflow``, when it does not
        exist); StoreError if one of that name exists."""
        if not name.strip():
            raise InputError("a connector needs a name that is not blank")
        if kind not in KINDS:
            raise InputError(f"connector {name!r}: kind {kind!r} is none of {', '.join(KINDS)}")
        with (
            self._store._errors(f"adding connector {name!r}", writing=True),
            self._store._write() as connection,
        ):
            if connection.execute(select(ConnectorRow.id).where(ConnectorRow.name == name)).first():
                raise StoreError(f"connector {name!r} already exists")
            stream_id = self._store._lock_id(connection, stream)
            if stream_id is None:
                stream_id = self._store._insert_stream(connection, stream, workflow)
            elif workflow is not None:
                connection.execute(
                    update(StreamRow)
                    .where(StreamRow.id == stream_id)
                    .values(workflow_toml=workflow.to_toml())
                )
            connection.execute(
                insert(ConnectorRow).values(
                    name=name,
                    kind=kind,
                    stream_id=stream_id,
                    settings=json.dumps(settings, sort_keys=True),
                    secret_env=secret_env,
                    created_at=datetime.now(UTC),
                )
            )
            write_audit(
                connection,
                "connector.add",
                name,
                stream=stream,
                after={"kind": kind, "settings": settings, "secret_env": secret_env},
            )
            return _connector(connection, name)

    def get(self, name: str) -> ConnectorInfo:
        with (
            self._store._errors(f"reading connector {name!r}"),
            self._store.engine.connect() as connection,
        ):
            return _connector(connection, name)

    def all(self) -> list[ConnectorInfo]:
        with self._store._errors("listing connectors"), self._store.engine.connect() as connection:
            names = connection.execute(select(ConnectorRow.name).order_by(ConnectorRow.name))
            return [_connector(connection, n) for n in names.scalars().all()]

    def delete(self, name: str) -> None:
        """Forget the connector; the stream and what it synced stay."""
        with (
            self._store._errors(f"deleting connector {name!r}", writing=True),
            self._store._write() as connection,
        ):
            info = _connector(connection, name)
            connection.execute(delete(ConnectorRow).where(ConnectorRow.name == name))
            write_audit(
                connection, "connector.delete", name, stream=info.stream, before=info.to_dict()
            )

    def save_sync(self, name: str, batch: SyncBatch, *, started: datetime) -> SyncStored:
        """Store a pull of connector ``name`` and move its checkpoint, in one transaction."""
        with (
            self._store._errors(f"storing the sync of connector {name!r}", writing=True),
            self._store._write() as connection,
        ):
            info = _connector(connection, name)
            stream_id = self._store._lock_id(connection, info.stream)
            assert stream_id is not None
            before = dict(info.settings.get("state_names", {}))
            renamed = {
                before[key]: new
                for key, new in batch.state_names.items()
                if key in before and before[key] != new
            }
            if renamed:
                _rename_states(connection, stream_id, renamed)
            source = f"connector {name!r}"
            has_workflow = connection.execute(
                select(StreamRow.workflow_toml.is_not(None)).where(StreamRow.id == stream_id)
            ).scalar_one()
            # A stream without a workflow takes the one the tracker's categories propose.
            proposed = None if has_workflow else batch.proposed_workflow
            events = self._store._append(
                connection, info.stream, batch.events, source, create=False, workflow=proposed
            )
            delivery = merge_delivery(connection, info.stream, stream_id, batch.delivery, source)
            blockers = merge_blockers(connection, info.stream, stream_id, batch.blockers, source)
            settings = {**info.settings, "state_names": {**before, **batch.state_names}}
            result = {
                "ok": True,
                "items": batch.items,
                "events_read": batch.events.num_events,
                "events_added": events.events_added,
                "delivery": {c.kind: c.to_dict() for c in delivery},
                "blockers": blockers.to_dict(),
                "renamed_states": renamed,
                "workflow_proposed": proposed is not None,
                "notes": list(batch.notes),
                "seconds": (datetime.now(UTC) - started).total_seconds(),
            }
            connection.execute(
                update(ConnectorRow)
                .where(ConnectorRow.name == name)
                .values(
                    settings=json.dumps(settings, sort_keys=True),
                    checkpoint=batch.checkpoint,
                    last_sync_at=started,
                    last_result=json.dumps(result),
                )
            )
            return SyncStored(events, delivery, renamed, blockers)

    def save_failure(self, name: str, message: str, *, started: datetime) -> None:
        """Keep a failed sync's message as the last result; the checkpoint stays."""
        with (
            self._store._errors(f"recording the sync of connector {name!r}", writing=True),
            self._store._write() as connection,
        ):
            _connector(connection, name)
            connection.execute(
                update(ConnectorRow)
                .where(ConnectorRow.name == name)
                .values(
                    last_sync_at=started,
                    last_result=json.dumps({"ok": False, "error": message}),
                )
            )


def _connector(connection: Connection, name: str) -> ConnectorInfo:
    found = connection.execute(
        select(*ConnectorRow.__table__.c, StreamRow.name.label("stream"))
        .join(StreamRow, StreamRow.id == ConnectorRow.stream_id)
        .where(ConnectorRow.name == name)
    ).first()
    if found is None:
        names = connection.execute(select(ConnectorRow.name).order_by(ConnectorRow.name))
        raise named_missing("connector", name, list(names.scalars()), "connectors")
    return ConnectorInfo(
        name=found.name,
        kind=found.kind,
        stream=found.stream,
        settings=json.loads(found.settings),
        secret_env=found.secret_env,
        created_at=utc(found.created_at),
        checkpoint=None if found.checkpoint is None else utc(found.checkpoint),
        last_sync_at=None if found.last_sync_at is None else utc(found.last_sync_at),
        last_result=None if found.last_result is None else json.loads(found.last_result),
    )


def _rename_states(connection: Connection, stream_id: int, renamed: dict[str, str]) -> None:
    """A status renamed in the tracker: its stored events and the stream's workflow take the
    new name, so the history stays one state."""
    for old, new in renamed.items():
        connection.execute(
            update(EventRow)
            .where(and_(EventRow.stream_id == stream_id, EventRow.state == old))
            .values(state=new)
        )
    text = connection.execute(
        select(StreamRow.workflow_toml).where(StreamRow.id == stream_id)
    ).scalar_one()
    if text is None:
        return
    workflow = Workflow.from_toml_text(text)
    connection.execute(
        update(StreamRow)
        .where(StreamRow.id == stream_id)
        .values(workflow_toml=renamed_workflow(workflow, renamed).to_toml())
    )


def renamed_workflow(workflow: Workflow, renamed: dict[str, str]) -> Workflow:
    """``workflow`` with states renamed (``renamed``: old → new)."""

    def names(states: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(renamed.get(s, s) for s in states)

    return replace(
        workflow,
        backlog=names(workflow.backlog),
        active=names(workflow.active),
        waiting=names(workflow.waiting),
        done=names(workflow.done),
        order=names(workflow.order),
        stages=tuple((stage, names(states)) for stage, states in workflow.stages),
    )
