"""Paths and settings the tests share (importable from any test: ``from support import …``)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The real logs in ../shared/datasets (beside the checkout, here and in CI).
DATASETS = REPO.parent / "shared" / "datasets"
SAMPLES = REPO / "src" / "obeya" / "samples"

POSTGRES_URL = os.environ.get("OBEYA_TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    """True when the suite runs against PostgreSQL (the second half of `make test`)."""
    return POSTGRES_URL.startswith("postgresql")
