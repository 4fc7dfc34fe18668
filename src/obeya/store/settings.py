"""Where the app store lives.

One embedded SQLite file under ``OBEYA_HOME`` needs no set-up, which is what a single user wants;
a team points ``OBEYA_DATABASE_URL`` at a shared PostgreSQL instead. Both are read at call time,
not import time, so a test or a CLI option can change them with the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_VARIABLE = "OBEYA_HOME"
DATABASE_URL_VARIABLE = "OBEYA_DATABASE_URL"
DATABASE_FILE = "obeya.db"


def obeya_home() -> Path:
    """``$OBEYA_HOME``, else ``~/.local/share/obeya`` (the XDG data directory convention)."""
    configured = os.environ.get(HOME_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".local" / "share" / "obeya"


def default_database_url() -> str:
    """``$OBEYA_DATABASE_URL`` if set, else the SQLite file ``obeya.db`` in :func:`obeya_home`."""
    configured = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if configured:
        return configured
    return f"sqlite:///{obeya_home() / DATABASE_FILE}"
