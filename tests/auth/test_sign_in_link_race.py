"""A one-time sign-in link signs in once, even when many uses race: threads with their own
connections, spread over four workspaces (as four server processes would be), all use the
same link at the same moment; exactly one gets a user."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from obeya.auth.credentials import LINK_PREFIX, digest, new_secret
from obeya.core.access import Role
from obeya.errors import AuthError
from obeya.workspace import Workspace

USES = 16
PROCESSES = 4


@pytest.mark.parametrize("round_", range(3))
def test_racing_uses_of_one_link_sign_in_exactly_once(database_url: str, round_: int) -> None:
    workspaces = [Workspace(database_url) for _ in range(PROCESSES)]
    try:
        workspaces[0].initialise()
        workspaces[0].access.add_user("root", Role.ADMIN)
        secret = workspaces[0].access.sign_in_link("root")
        start = threading.Barrier(USES)
        signed_in: list[str] = []
        refused: list[str] = []

        def use(ws: Workspace) -> None:
            start.wait()
            try:
                signed_in.append(ws.access.use_sign_in_link(secret).name)
            except AuthError as error:
                refused.append(error.error_type)

        threads = [
            threading.Thread(target=use, args=(workspaces[i % PROCESSES],)) for i in range(USES)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert signed_in == ["root"]
        assert refused == ["AuthError"] * (USES - 1)
        with pytest.raises(AuthError):  # and it stays used
            workspaces[1].access.use_sign_in_link(secret)
    finally:
        for ws in workspaces:
            ws.close()


def test_an_expired_link_is_refused_and_used_up(database_url: str) -> None:
    with Workspace(database_url) as ws:
        ws.initialise()
        ws.access.add_user("root", Role.ADMIN)
        secret = new_secret(LINK_PREFIX)
        ws.store.tokens.add(
            "root",
            kind="link",
            label="old",
            digest=digest(secret),
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
        )
        with pytest.raises(AuthError):
            ws.access.use_sign_in_link(secret)
        assert ws.store.tokens.use(digest(secret), "link") is None
