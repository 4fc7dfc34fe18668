"""The app store's tables, as SQLAlchemy typed declarative models.

These models are the schema's source of truth: the Alembic migrations must produce exactly these
tables, and a test compares the two. Events keep the event log's integer-microsecond timestamps
(``t``, ``created``) as BIGINT so that every backend does the same integer arithmetic.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Deterministic constraint and index names, so that migrations can refer to them by name on
#: every backend (SQLite would otherwise leave them unnamed).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL gets the wider type.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StreamRow(Base):
    """A value stream: a named event history with an optional workflow (stored as TOML)."""

    __tablename__ = "streams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    workflow_toml: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EventRow(Base):
    """One state entry of one work item; the columns mirror :data:`obeya.core.events.EVENT_SCHEMA`.

    The unique key ``(stream_id, item_id, t, state, copy)`` is what makes re-imports
    idempotent. ``copy`` numbers repeats of one event in file order (0 for the first): an XES
    log may record one activity twice at the same instant, and both are kept.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    t: Mapped[int] = mapped_column(BigInteger)
    copy: Mapped[int] = mapped_column(Integer, server_default="0")
    seq: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("stream_id", "item_id", "t", "state", "copy"),
        Index("ix_events_stream_id_item_id_t_seq", "stream_id", "item_id", "t", "seq"),
    )


class ImportRow(Base):
    """One import into a stream, kept as an audit trail (re-imports included, adding 0)."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    events_in_file: Mapped[int] = mapped_column(BigInteger)
    events_added: Mapped[int] = mapped_column(BigInteger)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: JSON list of the reader's warnings (``LogWarning.to_dict``); null: none.
    warnings: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_imports_stream_id", "stream_id"),)


class MapRow(Base):
    """A value stream map variant (``name``/``variant``): its newest version number and the
    stream it maps, if any. The map itself lives in its versions."""

    __tablename__ = "maps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    variant: Mapped[str] = mapped_column(Text)
    stream_id: Mapped[int | None] = mapped_column(ForeignKey("streams.id", ondelete="SET NULL"))
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("name", "variant"),)


class MapVersionRow(Base):
    """One saved version of a map: the whole map as JSON (``map_to_dict``), who saved it,
    why and when. Versions are never changed; a save adds the next one."""

    __tablename__ = "map_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    map_id: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("map_id", "version"),)


#: The records unique by kind and key alone: the kinds of no stream (obeya.core.steering.kinds,
#: ``per_stream=False``; a test checks the two agree).
NO_STREAM_KINDS = "stream_id IS NULL AND kind IN ('team', 'person', 'stream-profile')"


class RecordRow(Base):
    """A steering record (a risk, an objective, a team, an improvement...): its kind, key,
    newest version and the stream it belongs to, if any. The record lives in its versions."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    stream_id: Mapped[int | None] = mapped_column(ForeignKey("streams.id", ondelete="SET NULL"))
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # A key is unique per kind in its stream (R-1 of one stream and R-1 of another are two
    # risks). SQL treats NULLs as distinct, so the kinds that belong to no stream (teams,
    # people, stream profiles) have their own partial index; a deleted stream's risks are left
    # with no stream and may share keys.
    __table_args__ = (
        Index("ix_records_kind", "kind"),
        Index("uq_records_kind_stream_id_key", "kind", "stream_id", "key", unique=True),
        Index(
            "uq_records_kind_key_of_no_stream",
            "kind",
            "key",
            unique=True,
            sqlite_where=text(NO_STREAM_KINDS),
            postgresql_where=text(NO_STREAM_KINDS),
        ),
    )


class RecordVersionRow(Base):
    """One saved version of a record: the whole record as JSON, who saved it, why and when.
    Versions are never changed; a save adds the next one, so they are the record's history."""

    __tablename__ = "record_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("record_id", "version"),)


class UserRow(Base):
    """A person who signs in. ``password_hash`` is argon2 (None: sign-in by link only);
    ``session_epoch`` grows when the password changes, which ends every open session."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    session_epoch: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GrantRow(Base):
    """A user's role on one stream, or on the whole workspace (``stream_id`` NULL). The stream
    is kept by its identity: deleting the stream deletes its grants, and a new stream of the
    same name starts with none (callers still name streams; the store resolves them)."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stream_id: Mapped[int | None] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("user_id", "stream_id"),)


class TokenRow(Base):
    """A secret that stands for its user: an API token (``kind`` 'api') or a one-time sign-in
    link ('link'). Only the SHA-256 of the secret is kept; the secret is shown once."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(Text)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """One change: who (``actor``), when, what (``action`` on ``target``, in ``stream``) and the
    documents before and after, as JSON. Written in the change's own transaction; never
    changed. The stream is kept by name so the entry outlives the stream."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    stream: Mapped[str | None] = mapped_column(Text)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_stream", "stream"),)


class SettingRow(Base):
    """A workspace setting, e.g. the key that signs session cookies (made on first use)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SignInFailureRow(Base):
    """A sign-in attempt of a user name from an address, counted as a wrong password until it
    succeeds (then the pair's rows go). Kept in the store so that every server process counts
    the same failures; rows older than the window are deleted as new ones come."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_sign_in_failures_name_address_at", "name", "address", "at"),
        Index("ix_sign_in_failures_at", "at"),
    )


class DeploymentRow(Base):
    """A deployment of a stream's software (delivery metrics): counted when in production
    and successful. Times are integer microseconds since the epoch, UTC, as events'."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(Text)
    environment: Mapped[str] = mapped_column(Text)
    finished_at: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("stream_id", "deployment_id"),)


class ChangeRow(Base):
    """A change (commit, merge request) and the production deployment that first shipped it."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    change_id: Mapped[str] = mapped_column(Text)
    committed_at: Mapped[int] = mapped_column(BigInteger)
    deployment_id: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("stream_id", "change_id"),)


class IncidentRow(Base):
    """An incident in production: when it began, when it was resolved (None: still open) and
    the deployment that caused it, where known."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    incident_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    resolved_at: Mapped[int | None] = mapped_column(BigInteger)
    deployment_id: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("stream_id", "incident_id"),)


class BlockerRow(Base):
    """A span of time an item was blocked, and why (docs/conventions.md, "Blocked time"):
    named by item, ``blocked_at`` and reason within its stream; ``unblocked_at`` None: still
    blocked. ``saved_at`` (microseconds) is when the row was last written, so that the
    stream's stamp, and with it its cached reports, change when its blockers do."""

    __tablename__ = "blockers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(Text)
    blocked_at: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    unblocked_at: Mapped[int | None] = mapped_column(BigInteger)
    blocking_item: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(Text)
    saved_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("stream_id", "item_id", "blocked_at", "reason"),)


class ConnectorRow(Base):
    """A live connector: the tracker it reads (``kind``: jira, github, gitlab), its settings as
    JSON (never a secret: ``secret_env`` names the environment variable holding the token),
    the stream it fills, where the next sync starts (``checkpoint``) and how the last went."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    settings: Mapped[str] = mapped_column(Text)
    secret_env: Mapped[str] = mapped_column(Text)
    checkpoint: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
