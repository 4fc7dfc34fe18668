"""Delivery records (deployments, changes, incidents) per stream, and live connectors.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

UTC_TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _stream_column(table: str) -> sa.Column[int]:
    return sa.Column(
        "stream_id",
        sa.Integer(),
        sa.ForeignKey("streams.id", name=f"fk_{table}_stream_id_streams", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", BIG_ID, nullable=False),
        _stream_column("deployments"),
        sa.Column("deployment_id", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.UniqueConstraint(
            "stream_id", "deployment_id", name="uq_deployments_stream_id_deployment_id"
        ),
    )
    op.create_table(
        "changes",
        sa.Column("id", BIG_ID, nullable=False),
        _stream_column("changes"),
        sa.Column("change_id", sa.Text(), nullable=False),
        sa.Column("committed_at", sa.BigInteger(), nullable=False),
        sa.Column("deployment_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sa.UniqueConstraint("stream_id", "change_id", name="uq_changes_stream_id_change_id"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", BIG_ID, nullable=False),
        _stream_column("incidents"),
        sa.Column("incident_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.Column("deployment_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("stream_id", "incident_id", name="uq_incidents_stream_id_incident_id"),
    )
    op.create_table(
        "connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _stream_column("connectors"),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("secret_env", sa.Text(), nullable=False),
        sa.Column("checkpoint", UTC_TIME, nullable=True),
        sa.Column("last_sync_at", UTC_TIME, nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_connectors"),
        sa.UniqueConstraint("name", name="uq_connectors_name"),
    )


def downgrade() -> None:
    for table in ("connectors", "incidents", "changes", "deployments"):
        op.drop_table(table)
