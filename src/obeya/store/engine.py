"""Engines for the two supported app-store backends, SQLite and PostgreSQL (psycopg 3).

SQLite needs some care to behave like a server database: foreign keys are off and Python's
``sqlite3`` module opens transactions lazily (and never around DDL), so the engine takes over
``BEGIN`` itself. A connection given the execution option ``obeya_write=True`` starts with
``BEGIN IMMEDIATE``: a writer takes the write lock before it reads what it will write from (such
as the stream's highest ``seq``), so two writers queue instead of one failing half-way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from obeya.errors import StoreError

#: Execution option that marks a connection whose transaction will write.
WRITE_OPTION = "obeya_write"

#: Seconds a SQLite writer waits for another to finish; a million-event import takes ~10 s.
SQLITE_BUSY_TIMEOUT = 60.0

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers never block the writer, nor it them
    "PRAGMA synchronous=NORMAL",  # durable at checkpoints; safe with WAL and much faster
    "PRAGMA foreign_keys=ON",
)


def parse_url(url: str) -> URL:
    """Parse ``url``; plain ``postgresql://`` means psycopg 3, the driver Obeya ships with."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r} ({exc})") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise StoreError(
            f"unsupported app store {parsed.drivername!r}: use a sqlite:///path/to/obeya.db "
            "or a postgresql+psycopg://user@host/database URL"
        )
    return parsed


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's directory is created if it does not exist."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    # Autocommit at the driver level: transactions are begun explicitly in _begin_sqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    writes = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
