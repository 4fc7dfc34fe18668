"""Paths and settings the tests share (importable from any test: ``from support import …``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from obeya.core.events import EventLog
    from obeya.core.workflow import Workflow

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


def twin_fit_on(backend: Any, log: EventLog, workflow: Workflow, share: float) -> list[str]:
    """Fit a twin to ``log`` as of the moment ``share`` of its events have happened, once in
    numpy and once with ``backend`` ordering the visits; what differs (nothing when the
    engine's visits and twin are numpy's exactly)."""
    import numpy as np

    from obeya.core.twin.fit import engine_visits, fit_twin, log_visits

    t = log.table.column("t").to_numpy()
    as_of = int(np.quantile(t, share))
    mine, theirs = log_visits(log, t <= as_of), engine_visits(log, as_of, backend)
    differing = [
        name
        for name in ("item", "state", "start", "end", "next_state", "last", "arrived")
        if not np.array_equal(getattr(mine, name), getattr(theirs, name), equal_nan=name == "end")
    ]
    moment = datetime.fromtimestamp(as_of / 1e6, tz=UTC)
    engine_twin = fit_twin(log, workflow, as_of=moment, backend=backend)
    if repr(engine_twin) != repr(fit_twin(log, workflow, as_of=moment)):
        differing.append("twin")
    return differing
