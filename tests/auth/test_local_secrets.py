"""Local secrets: a SQLite store's home is 0700 and its files 0600 whatever the umask (and an
existing, more open one is tightened, with a log line); with ``OBEYA_SECRET_KEY`` the cookie
signing key is derived from the operator's secret and nothing secret is kept in the database."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from obeya.auth.sessions import SECRET_KEY_VARIABLE, Session, SessionCodec
from obeya.core.access import Role
from obeya.errors import InputError
from obeya.store import Store
from obeya.store.models import SettingRow
from obeya.workspace import Workspace
from obeya.workspace_access import SESSION_KEY_SETTING

from support import on_postgres

OPERATOR_SECRET = "an operator's secret of more than thirty-two characters"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away: permissions must not rely on the user's umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("open_umask")
def test_a_new_home_and_database_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "share" / "obeya"
    monkeypatch.setenv("OBEYA_HOME", str(home))
    monkeypatch.delenv("OBEYA_DATABASE_URL", raising=False)
    with Workspace() as ws:
        ws.initialise()
        ws.access.add_user("root", Role.ADMIN)
        ws.access.session_key()
        database = home / "obeya.db"
        side = [database.with_name(database.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in side)  # WAL mode: SQLite made them while open
        assert mode(home) == 0o700
        assert mode(database) == 0o600
        assert [mode(p) for p in side] == [0o600, 0o600]


def test_an_existing_open_home_and_database_are_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("OBEYA_HOME", str(home))
    monkeypatch.delenv("OBEYA_DATABASE_URL", raising=False)
    with Store() as store:
        store.initialise()
    database = home / "obeya.db"
    wal = database.with_name("obeya.db-wal")
    wal.write_bytes(b"")
    for path, loose in ((home, 0o755), (database, 0o644), (wal, 0o664)):
        os.chmod(path, loose)  # as an older release left them
    with caplog.at_level(logging.WARNING, logger="obeya.store"), Store() as store:
        assert (mode(home), mode(database), mode(wal)) == (0o700, 0o600, 0o600)
        assert store.schema_revision() is not None
    tightened = [r.args for r in caplog.records if r.name == "obeya.store"]
    assert [(Path(str(a[0])), a[1], a[2]) for a in tightened] == [  # type: ignore[index]
        (home, 0o755, 0o700),
        (database, 0o644, 0o600),
        (wal, 0o664, 0o600),
    ]


def test_a_database_elsewhere_leaves_its_existing_directory_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    with Store(f"sqlite:///{shared / 'team.db'}") as store:
        store.initialise()
    assert mode(shared) == 0o755  # not ours to change
    assert mode(shared / "team.db") == 0o600


@pytest.fixture
def ws(database_url: str) -> Iterator[Workspace]:
    with Workspace(database_url) as workspace:
        workspace.initialise()
        yield workspace


def settings(ws: Workspace) -> dict[str, str]:
    with ws.store.engine.connect() as c:
        return dict(c.execute(sa.select(SettingRow.key, SettingRow.value)).tuples().all())


def test_without_an_operator_secret_the_key_is_kept_in_the_store(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_VARIABLE, raising=False)
    key = ws.access.session_key()
    assert settings(ws) == {SESSION_KEY_SETTING: key}
    assert ws.access.session_key() == key


def test_an_operator_secret_keeps_the_key_out_of_the_store(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_KEY_VARIABLE, OPERATOR_SECRET)
    key = ws.access.session_key()
    assert settings(ws) == {}  # nothing secret in the database
    assert OPERATOR_SECRET not in key  # derived, not the secret itself
    with Workspace(ws.store.url) as other:  # another process with the same secret agrees
        assert other.access.session_key() == key
    # A cookie signed by whoever reads the database's old key is no session.
    monkeypatch.delenv(SECRET_KEY_VARIABLE)
    stored = ws.access.session_key()
    forged = SessionCodec(stored).dump(Session.of_user(1, 0))
    assert SessionCodec(key).load(forged) is None
    monkeypatch.setenv(SECRET_KEY_VARIABLE, OPERATOR_SECRET + "!")
    assert ws.access.session_key() != key


def test_a_short_operator_secret_is_refused(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_KEY_VARIABLE, "short")
    with pytest.raises(InputError):
        ws.access.session_key()
    assert settings(ws) == {}


@pytest.mark.skipif(on_postgres(), reason="file permissions are SQLite's")
def test_the_suites_database_is_private_too(database_url: str) -> None:
    with Store(database_url) as store:
        store.initialise()
        assert store.engine.url.database
        assert mode(Path(store.engine.url.database)) == 0o600
