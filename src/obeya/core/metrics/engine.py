"""Where the analytics run: DuckDB in-process by default, or a PostgreSQL server.

DuckDB cannot download extensions here, so event logs are handed to it as Arrow tables.
"""

from __future__ import annotations

from typing import Any

import ibis

from obeya.core.events import EventLog
from obeya.core.metrics.analysis import FlowAnalysis
from obeya.core.metrics.filters import FlowFilter
from obeya.core.metrics.report import FlowReport
from obeya.core.workflow import Workflow


def duckdb_backend() -> Any:
    return ibis.duckdb.connect()


def analyse_log(
    log: EventLog,
    workflow: Workflow | None = None,
    flt: FlowFilter | None = None,
    *,
    detail: bool = False,
    backend: Any = None,
) -> FlowReport:
    """The full flow report of an event log, computed on ``backend`` (DuckDB by default).

    With another backend (e.g. ``ibis.postgres.connect(...)``) the log is uploaded to a
    temporary table there and the same expressions run on that server.
    """
    con = backend if backend is not None else duckdb_backend()
    name = f"obeya_log_{id(log):x}"
    in_process = con.name == "duckdb"
    if in_process:
        # DuckDB scans the Arrow table in place: no copy, no extra memory.
        con.con.register(name, log.table)
        events = con.table(name)
    else:
        events = con.create_table(name, log.table, temp=True)
    try:
        analysis = FlowAnalysis(con, events, workflow, flt, source=log.source)
        return analysis.report(detail=detail)
    finally:
        if in_process:
            con.con.unregister(name)
        else:
            con.drop_table(name, force=True)
        if backend is None:
            con.disconnect()
