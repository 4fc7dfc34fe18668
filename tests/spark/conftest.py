"""One Spark session for the Spark tests of a test process: ``local[1]``, started once (it
takes tens of seconds), stopped at the end. The tests run where Java is (CI has Java 17);
without it they skip, saying so. PySpark itself is installed by `make test` (the ``spark``
extra): missing, the tests fail rather than skip."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """An Ibis backend on a local Spark session of one core."""
    if shutil.which("java") is None:
        pytest.skip("the Spark engine needs Java 17 (java is not on the PATH)")
    from obeya.core.metrics.engine import spark_backend

    backend = spark_backend("local[1]")
    yield backend
    backend._session.stop()
