"""Blockers per stream: when an item was blocked, until when, why, and on whom it waited.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "blockers",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column(
            "stream_id",
            sa.Integer(),
            sa.ForeignKey("streams.id", name="fk_blockers_stream_id_streams", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("blocked_at", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("unblocked_at", sa.BigInteger(), nullable=True),
        sa.Column("blocking_item", sa.Text(), nullable=True),
        sa.Column("team", sa.Text(), nullable=True),
        sa.Column("saved_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_blockers"),
        sa.UniqueConstraint(
            "stream_id",
            "item_id",
            "blocked_at",
            "reason",
            name="uq_blockers_stream_id_item_id_blocked_at_reason",
        ),
    )


def downgrade() -> None:
    op.drop_table("blockers")
