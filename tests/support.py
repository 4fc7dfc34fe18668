"""Paths and settings the tests share (importable from any test: ``from support import …``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The real third-party logs, copied byte for byte into the repo with their attribution
#: (tests/datasets/README.md): tests never read anything outside the checkout.
DATASETS = REPO / "tests" / "datasets"
SAMPLES = REPO / "src" / "obeya" / "samples"

POSTGRES_URL = os.environ.get("OBEYA_TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    """True when the suite runs against PostgreSQL (the second half of `make test`)."""
    return POSTGRES_URL.startswith("postgresql")


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """The URL of a fresh, empty app store: a SQLite file in ``directory``, or a private
    schema on PostgreSQL (dropped afterwards). For fixtures of any scope."""
    if not on_postgres():
        yield f"sqlite:///{directory / 'obeya.db'}"
        return
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
