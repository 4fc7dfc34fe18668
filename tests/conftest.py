"""Shared fixtures. The app store is SQLite unless OBEYA_TEST_DATABASE_URL names PostgreSQL;
then every test that uses ``database_url`` gets its own schema on that server, so the whole
suite runs again, in parallel, on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import POSTGRES_URL, on_postgres


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty app store: a SQLite file, or a private schema on PostgreSQL."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'obeya.db'}"
        return
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def obeya_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """OBEYA_HOME and OBEYA_DATABASE_URL pointed at a fresh store, as a user would set them."""
    home = tmp_path / "home"
    monkeypatch.setenv("OBEYA_HOME", str(home))
    monkeypatch.setenv("OBEYA_DATABASE_URL", database_url)
    return home
