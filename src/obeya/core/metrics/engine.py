"""Where the analytics run: DuckDB in-process by default, or a PostgreSQL server.

DuckDB cannot download extensions here, so event logs are handed to it as Arrow tables.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ibis
import pyarrow as pa

from obeya.core.events import EventLog
from obeya.core.metrics.analysis import FlowAnalysis
from obeya.core.metrics.filters import FlowFilter
from obeya.core.metrics.report import FlowReport
from obeya.core.workflow import Workflow


def duckdb_backend() -> Any:
    """An in-process DuckDB connection, ready to run (its lazy imports already done)."""
    # Results are re-sorted where order matters; letting DuckDB drop insertion order makes
    # materialising the per-event table faster and lighter.
    con = ibis.duckdb.connect(preserve_insertion_order=False)
    con.con.register("obeya_ready", pa.table({"ready": [True]}))
    con.table("obeya_ready")  # the first table lookup loads the rest of the backend
    con.con.unregister("obeya_ready")
    return con


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
    item_labels = state_labels = None
    if in_process:
        # Items and states as integer codes: sorting, grouping and comparing 10M events by
        # integers is much cheaper than by text. DuckDB then scans the Arrow table in place.
        coded = log.coded
        item_labels, state_labels = coded.item_labels, coded.state_labels
        con.con.register(name, coded.table(log.table))
        events = con.table(name)
    else:
        events = con.create_table(name, log.table, temp=True)
    try:
        analysis = FlowAnalysis(
            con,
            events,
            workflow,
            flt,
            source=log.source,
            item_labels=item_labels,
            state_labels=state_labels,
        )
        report = analysis.report(detail=detail)
        return dataclasses.replace(report, warnings=[w.to_dict() for w in log.warnings])
    finally:
        if in_process:
            con.con.unregister(name)
        else:
            con.drop_table(name, force=True)
        if backend is None:
            con.disconnect()
