"""Grants follow the stream's identity: deleting a stream deletes its grants, so a new stream
of the same name starts with none; callers still name streams."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest
import sqlalchemy as sa

from obeya.core.access import Grant, Role
from obeya.errors import NotFoundError
from obeya.store.models import GrantRow, StreamRow
from obeya.workspace import Workspace

from support import on_postgres


@pytest.fixture
def ws(database_url: str) -> Iterator[Workspace]:
    with Workspace(database_url) as workspace:
        workspace.initialise()
        workspace.store.create_stream("Payments")
        workspace.store.create_stream("Support")
        yield workspace


def stored(ws: Workspace) -> list[tuple[str | None, str]]:
    """The grants as rows: the stream's name by its id (None: the workspace), and the role."""
    with ws.store.engine.connect() as c:
        return list(
            c.execute(
                sa.select(StreamRow.name, GrantRow.role)
                .select_from(GrantRow)
                .outerjoin(StreamRow, StreamRow.id == GrantRow.stream_id)
                .order_by(GrantRow.id)
            ).tuples()
        )


def test_a_deleted_streams_grants_do_not_apply_to_a_new_stream_of_its_name(
    ws: Workspace,
) -> None:
    ws.access.add_user("mallory", Role.ADMIN, "Payments")
    ws.access.add_user("mallory", Role.VIEWER, "Support")
    ws.access.add_user("root", Role.ADMIN)
    assert ws.store.users.get("mallory").grants == (
        Grant("Payments", Role.ADMIN),
        Grant("Support", Role.VIEWER),
    )
    ws.store.delete_stream("Payments")
    assert ws.store.users.get("mallory").grants == (Grant("Support", Role.VIEWER),)
    ws.store.create_stream("Payments")  # another team's, later
    principal = ws.access.token_principal(ws.access.create_token("mallory")[0])
    assert principal.role_on("Payments") is None
    assert not principal.allows(Role.VIEWER, "Payments")
    assert stored(ws) == [("Support", "viewer"), (None, "admin")]
    assert ws.store.users.get("root").grants == (Grant(None, Role.ADMIN),)


def test_grants_are_kept_by_stream_id_and_read_by_name(ws: Workspace) -> None:
    user = ws.access.add_user("ana", Role.EDITOR, "Support")
    assert user.grants == (Grant("Support", Role.EDITOR),)
    with ws.store.engine.connect() as c:
        support = c.execute(sa.select(StreamRow.id).where(StreamRow.name == "Support")).scalar()
        assert c.execute(sa.select(GrantRow.stream_id)).scalars().all() == [support]
    user = ws.access.add_user("ana", Role.ADMIN, "Support")  # replaces the role there
    assert user.grants == (Grant("Support", Role.ADMIN),)
    assert ws.store.users.revoke("ana", "Support").grants == ()
    with pytest.raises(NotFoundError):
        ws.store.users.grant("ana", Role.VIEWER, "Nope")
    with pytest.raises(NotFoundError):
        ws.store.users.revoke("ana", "Nope")


@pytest.mark.skipif(on_postgres(), reason="PostgreSQL always enforces foreign keys")
def test_a_grant_whose_stream_vanished_behind_the_stores_back_is_no_grant(
    ws: Workspace,
) -> None:
    """A SQLite connection opened elsewhere (foreign keys are off by default) may delete a
    stream and leave its grants: they must not read as grants on the whole workspace."""
    ws.access.add_user("ana", Role.ADMIN, "Support")
    database = ws.store.engine.url.database
    assert database
    with closing(sqlite3.connect(database)) as raw:
        raw.execute("DELETE FROM streams WHERE name = 'Support'")
        raw.commit()
    assert stored(ws) == [(None, "admin")]  # the orphan row, joined to no stream
    assert ws.store.users.get("ana").grants == ()
