"""Every metric test runs on DuckDB; when the suite runs against PostgreSQL it runs there too,
and the two backends must agree on every figure."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from obeya.core.events import EventLog
from obeya.core.metrics import FlowFilter, FlowReport
from obeya.core.metrics.engine import analyse_log
from obeya.core.workflow import Workflow

from support import POSTGRES_URL, on_postgres

Analyse = Callable[..., FlowReport]


def assert_same(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_same(u, v, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def postgres_backend() -> Any:
    import ibis
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)
    return ibis.postgres.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username,
        database=url.database,
    )


@pytest.fixture(scope="session")
def pg_backend() -> Any:
    if not on_postgres():
        yield None
        return
    con = postgres_backend()
    yield con
    con.disconnect()


@pytest.fixture
def analyse(pg_backend: Any) -> Analyse:
    def run(
        log: EventLog,
        workflow: Workflow | None = None,
        flt: FlowFilter | None = None,
        detail: bool = True,
    ) -> FlowReport:
        report = analyse_log(log, workflow, flt, detail=detail)
        if pg_backend is not None:
            other = analyse_log(log, workflow, flt, detail=detail, backend=pg_backend)
            assert_same(report.to_dict(detail), other.to_dict(detail))
        return report

    return run
