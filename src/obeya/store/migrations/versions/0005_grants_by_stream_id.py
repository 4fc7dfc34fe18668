"""Grants follow the stream's identity, API tokens expire, wrong passwords are counted in the
store.

- ``grants.stream`` (a name) becomes ``grants.stream_id`` (ON DELETE CASCADE): a deleted
  stream's grants no longer apply to a new stream of the same name. A grant naming a stream
  that no longer exists is dropped, and logged (user, stream, role).
- API tokens that never expired get an expiry 365 days from the upgrade (logged with their
  count): a token lives at most that long by default now.
- ``sign_in_failures`` holds the wrong passwords per user name and address.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

log = logging.getLogger("obeya.store.migrations")
UTC_TIME = sa.DateTime(timezone=True)
#: The expiry given to tokens that had none (the default maximum lifetime).
TOKEN_DAYS = 365

_streams = sa.table("streams", sa.column("id", sa.Integer()), sa.column("name", sa.Text()))
_users = sa.table("users", sa.column("id", sa.Integer()), sa.column("name", sa.Text()))


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("stream_id", sa.Integer(), nullable=True))
    grants = sa.table(
        "grants",
        sa.column("id", sa.Integer()),
        sa.column("user_id", sa.Integer()),
        sa.column("stream", sa.Text()),
        sa.column("stream_id", sa.Integer()),
        sa.column("role", sa.String(16)),
    )
    stream_id = sa.select(_streams.c.id).where(_streams.c.name == grants.c.stream).scalar_subquery()
    connection.execute(
        grants.update().where(grants.c.stream.is_not(None)).values(stream_id=stream_id)
    )
    orphans = connection.execute(
        sa.select(grants.c.id, _users.c.name, grants.c.stream, grants.c.role)
        .join(_users, _users.c.id == grants.c.user_id)
        .where(grants.c.stream.is_not(None), grants.c.stream_id.is_(None))
        .order_by(grants.c.id)
    ).all()
    for _, user, stream, role in orphans:
        log.warning(
            "dropped the grant of %s as %s on stream %r: no stream has that name any more",
            user,
            role,
            stream,
        )
    if orphans:
        connection.execute(grants.delete().where(grants.c.id.in_([o.id for o in orphans])))
    with op.batch_alter_table("grants") as batch:
        batch.drop_constraint("uq_grants_user_id_stream", type_="unique")
        batch.drop_column("stream")
        batch.create_unique_constraint("uq_grants_user_id_stream_id", ["user_id", "stream_id"])
        batch.create_foreign_key(
            "fk_grants_stream_id_streams", "streams", ["stream_id"], ["id"], ondelete="CASCADE"
        )

    tokens = sa.table(
        "tokens",
        sa.column("kind", sa.String(8)),
        sa.column("expires_at", UTC_TIME),
        sa.column("revoked_at", UTC_TIME),
    )
    capped = connection.execute(
        tokens.update()
        .where(tokens.c.kind == "api", tokens.c.expires_at.is_(None), tokens.c.revoked_at.is_(None))
        .values(expires_at=datetime.now(UTC) + timedelta(days=TOKEN_DAYS))
    ).rowcount
    if capped:
        log.warning("%d API tokens that never expired now expire in %d days", capped, TOKEN_DAYS)

    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_failures"),
    )
    op.create_index(
        "ix_sign_in_failures_name_address_at", "sign_in_failures", ["name", "address", "at"]
    )
    op.create_index("ix_sign_in_failures_at", "sign_in_failures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_name_address_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    connection = op.get_bind()
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("stream", sa.Text(), nullable=True))
    grants = sa.table(
        "grants", sa.column("stream", sa.Text()), sa.column("stream_id", sa.Integer())
    )
    name = sa.select(_streams.c.name).where(_streams.c.id == grants.c.stream_id).scalar_subquery()
    connection.execute(grants.update().where(grants.c.stream_id.is_not(None)).values(stream=name))
    with op.batch_alter_table("grants") as batch:
        batch.drop_constraint("fk_grants_stream_id_streams", type_="foreignkey")
        batch.drop_constraint("uq_grants_user_id_stream_id", type_="unique")
        batch.drop_column("stream_id")
        batch.create_unique_constraint("uq_grants_user_id_stream", ["user_id", "stream"])
