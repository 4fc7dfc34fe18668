"""Run the packaged Alembic migrations from code.

The Alembic configuration is built here rather than read from an ``alembic.ini``, so migrations
work from any working directory and from an installed wheel. To write a new revision, generate
it against a database at head::

    from alembic import command
    from obeya.store.migrate import alembic_config
    command.revision(alembic_config("sqlite:///dev.db"), "what changed", autogenerate=True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged migrations, on ``connection`` or ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser would read a '%' in the URL (e.g. an escaped option) as interpolation.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision in one transaction; a no-op when current.

    SQLite changes a table's constraints by building a new table and dropping the old one,
    and dropping a table with foreign keys on deletes what cascades from it (a record's
    versions, with the record). So, as SQLite's documentation prescribes for schema changes,
    foreign keys are off while migrating (outside the transaction: inside it, the pragma is
    ignored) and checked before the transaction commits."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        # On the driver's connection: through SQLAlchemy the pragma would run in the
        # transaction it begins first, where SQLite ignores it.
        driver: Any = connection.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                command.upgrade(alembic_config(connection=connection), "head")
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migrated store breaks foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")
