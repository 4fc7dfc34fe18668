"""Value stream maps: named variants of a map and their saved versions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "maps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["streams.id"],
            name="fk_maps_stream_id_streams",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_maps"),
        sa.UniqueConstraint("name", "variant", name="uq_maps_name_variant"),
    )
    op.create_table(
        "map_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("map_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["map_id"],
            ["maps.id"],
            name="fk_map_versions_map_id_maps",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_map_versions"),
        sa.UniqueConstraint("map_id", "version", name="uq_map_versions_map_id_version"),
    )


def downgrade() -> None:
    op.drop_table("map_versions")
    op.drop_table("maps")
