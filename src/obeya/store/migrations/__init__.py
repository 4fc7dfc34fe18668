"""Alembic migrations of the app store, shipped inside the package and run by
:func:`obeya.store.migrate.upgrade`; no ``alembic.ini`` is needed."""
