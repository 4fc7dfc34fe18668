"""Record keys are unique per stream: R-1 of one value stream and R-1 of another are two
risks. ``uq_records_kind_key`` gives way to a unique index on ``(kind, stream_id, key)`` and,
since SQL treats NULLs as distinct, a partial unique index on ``(kind, key)`` for the kinds of
no stream (teams, people, stream profiles). A downgrade restores the old constraint, and fails
when two streams share a key by then.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

#: As obeya.store.models.NO_STREAM_KINDS at this revision (a migration never imports models).
NO_STREAM_KINDS = "stream_id IS NULL AND kind IN ('team', 'person', 'stream-profile')"


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_constraint("uq_records_kind_key", type_="unique")
    op.create_index(
        "uq_records_kind_stream_id_key", "records", ["kind", "stream_id", "key"], unique=True
    )
    op.create_index(
        "uq_records_kind_key_of_no_stream",
        "records",
        ["kind", "key"],
        unique=True,
        sqlite_where=sa.text(NO_STREAM_KINDS),
        postgresql_where=sa.text(NO_STREAM_KINDS),
    )


def downgrade() -> None:
    op.drop_index("uq_records_kind_key_of_no_stream", table_name="records")
    op.drop_index("uq_records_kind_stream_id_key", table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.create_unique_constraint("uq_records_kind_key", ["kind", "key"])
