"""Shared fixtures. The app store is SQLite unless OBEYA_TEST_DATABASE_URL names PostgreSQL;
then every test that uses ``database_url`` gets its own schema on that server, so the whole
suite runs again, in parallel, on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import fresh_database, on_postgres

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 when its test client is first imported; httpx, the
    # project's test dependency, works the same. Imported here, before any test module (one
    # importing fastapi.testclient first would otherwise fail on the warning).
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    import starlette.testclient  # noqa: F401

# Passwords hashed at argon2id's least cost: a hash costs 1 ms instead of 0.2 s, in the many
# tests that add users (tests/auth/test_credentials.py checks the production defaults).
os.environ.setdefault("OBEYA_ARGON2_TIME_COST", "1")
os.environ.setdefault("OBEYA_ARGON2_MEMORY_KIB", "64")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite store migrated to the newest schema, once per test process: a test's
    store is a copy of it (milliseconds) instead of a run of every migration (0.2 s, which
    over the suite's thousand stores was minutes). tests/store/test_upgrade.py and the
    migration tests build their stores themselves."""
    from obeya.store import Store

    path = tmp_path_factory.mktemp("template") / "obeya.db"
    with Store(f"sqlite:///{path}") as store:
        store.initialise()
    return path


@pytest.fixture(scope="session")
def tiny_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store holding "Tiny", imported once per test process: the page and API tests'
    stores are copies of it (as ``database_url`` copies an empty one)."""
    from api.tiny import tiny_workspace

    directory = tmp_path_factory.mktemp("tiny")
    with tiny_workspace(f"sqlite:///{directory / 'obeya.db'}", directory):
        pass
    return directory / "obeya.db"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A store never migrated (no tables at all), for the tests of migrations themselves."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh app store with no data: a SQLite file (already at the newest schema), or a
    private schema on PostgreSQL (migrated when first opened)."""
    with fresh_database(tmp_path) as url:
        if not on_postgres():
            template: Path = request.getfixturevalue("migrated_sqlite")
            shutil.copyfile(template, tmp_path / "obeya.db")
        yield url


@pytest.fixture
def obeya_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """OBEYA_HOME and OBEYA_DATABASE_URL pointed at a fresh store, as a user would set them."""
    home = tmp_path / "home"
    monkeypatch.setenv("OBEYA_HOME", str(home))
    monkeypatch.setenv("OBEYA_DATABASE_URL", database_url)
    return home
