"""Shared fixtures. The app store is SQLite unless OBEYA_TEST_DATABASE_URL names PostgreSQL;
then every test that uses ``database_url`` gets its own schema on that server, so the whole
suite runs again, in parallel, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import fresh_database


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty app store: a SQLite file, or a private schema on PostgreSQL."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def obeya_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """OBEYA_HOME and OBEYA_DATABASE_URL pointed at a fresh store, as a user would set them."""
    home = tmp_path / "home"
    monkeypatch.setenv("OBEYA_HOME", str(home))
    monkeypatch.setenv("OBEYA_DATABASE_URL", database_url)
    return home
