"""Where the analytics run: DuckDB in-process by default, a PostgreSQL server, or Apache Spark
(local, a cluster master or Spark Connect) for histories past one machine (docs/scale.md).

Every engine runs the same Ibis expressions; what differs is how an event log reaches it
(:func:`log_table`). DuckDB cannot download extensions here, so logs are handed to it as
Arrow tables it scans in place; Spark takes them through ``createDataFrame(arrow_table)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from obeya.core.events import EventLog
from obeya.core.metrics.analysis import FlowAnalysis
from obeya.core.metrics.engines import ANALYSED_COLUMNS, DEFAULT_SPARK_MASTER
from obeya.core.metrics.filters import FlowFilter
from obeya.core.metrics.report import FlowReport
from obeya.core.workflow import Workflow
from obeya.errors import InputError


def duckdb_backend() -> Any:
    """An in-process DuckDB connection, ready to run (its lazy imports already done)."""
    # Results are re-sorted where order matters; letting DuckDB drop insertion order makes
    # materialising the per-event table faster and lighter.
    con = ibis.duckdb.connect(preserve_insertion_order=False)
    con.con.register("obeya_ready", pa.table({"ready": [True]}))
    con.table("obeya_ready")  # the first table lookup loads the rest of the backend
    con.con.unregister("obeya_ready")
    return con


#: Rows per batch of Spark's in-memory column cache (its default is 10,000).
CACHE_BATCH = 100_000

#: The local driver's heap unless ``OBEYA_SPARK_DRIVER_MEMORY`` says otherwise (``8g``…).
DEFAULT_DRIVER_MEMORY = "4g"


#: The local driver JVM's options unless ``OBEYA_SPARK_JAVA_OPTIONS`` says otherwise (empty:
#: none, e.g. to keep a ``spark-defaults.conf``'s own).
LOCAL_JAVA_OPTIONS = "-XX:+UseParallelGC"


def spark_backend(master: str | None = None) -> Any:
    """An Ibis backend on a Spark session: ``local[2]`` by default, a cluster's master URL
    (``spark://host:7077``, ``yarn``) or Spark Connect (``sc://host:15002``). Times are
    integers of microseconds, so the session's time zone changes no figure; it is UTC for
    what Spark itself prints."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(
            "the Spark engine needs PySpark: pip install 'obeya[spark]' (and Java 17)",
            field="engine",
            value="spark",
        ) from None
    master = master or DEFAULT_SPARK_MASTER
    builder = SparkSession.builder.appName("obeya")
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = builder.master(master).config("spark.ui.enabled", "false")
        # The per-event table is cached column by column in batches; Spark's 10,000 rows a
        # batch make 3,000 batches of 30M events, and ten times larger ones build and scan
        # faster (one report in-process at 12M events: 55 → 47 s).
        builder = builder.config("spark.sql.inMemoryColumnarStorage.batchSize", str(CACHE_BATCH))
        if master.startswith("local"):
            # Spark's 200 shuffle partitions suit a cluster; on one machine each is a task to
            # schedule for a few rows: a few per core (Spark's own advice for local mode).
            builder = builder.config("spark.sql.shuffle.partitions", str(4 * local_cores(master)))
            # In local mode the driver's heap is the executors' too; Spark's 1 GiB runs out
            # at about 30M events.
            memory = os.environ.get("OBEYA_SPARK_DRIVER_MEMORY") or DEFAULT_DRIVER_MEMORY
            builder = builder.config("spark.driver.memory", memory)
            # Spark keeps sort and aggregation buffers in large arrays on the heap, which the
            # JVM's default collector (G1) handles as humongous objects; the throughput
            # collector does not (12M events, a process's first report and its second:
            # 46 → 40 s, 28 → 25 s).
            options = os.environ.get("OBEYA_SPARK_JAVA_OPTIONS", LOCAL_JAVA_OPTIONS)
            if options:
                builder = builder.config("spark.driver.extraJavaOptions", options)
    session = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    return ibis.pyspark.connect(session)


def release(backend: Any) -> None:
    """Done with ``backend``: a DuckDB connection is closed; a Spark session stays up for the
    next analysis (starting one takes tens of seconds)."""
    if backend.name != "pyspark":
        backend.disconnect()


@dataclass(frozen=True)
class LoadedLog:
    """An event log as a table of a backend, with what integer codes stand for, if coded."""

    events: Any
    item_labels: pa.Array | None = None
    state_labels: pa.Array | None = None


def local_cores(master: str) -> int:
    """The cores of ``local``, ``local[N]`` or ``local[*]`` (all of this machine's)."""
    inside = master.partition("[")[2].rstrip("]").split(",")[0]
    if inside == "*":
        return os.cpu_count() or 1
    return max(1, int(inside)) if inside.isdigit() else 1


@contextlib.contextmanager
def log_table(con: Any, log: EventLog, *, coded: bool = False) -> Iterator[LoadedLog]:
    """``log`` as a table of ``con`` for as long as the block runs.

    In DuckDB the Arrow table is scanned in place (``coded``: items and states as integer
    codes, which sort, group and compare faster than text); Spark receives it through
    ``createDataFrame``; another SQL server (PostgreSQL) as a temporary table."""
    name = f"obeya_log_{uuid.uuid4().hex[:12]}"
    if con.name == "duckdb":
        table, items, states = log.table, None, None
        if coded:
            codes = log.coded
            table, items, states = codes.table(log.table), codes.item_labels, codes.state_labels
        con.con.register(name, table)
        try:
            yield LoadedLog(con.table(name), items, states)
        finally:
            con.con.unregister(name)
    elif con.name == "pyspark":
        session = con._session
        session.createDataFrame(log.table).createOrReplaceTempView(name)
        try:
            yield LoadedLog(con.table(name))
        finally:
            session.catalog.dropTempView(name)
    else:
        events = con.create_table(name, log.table, temp=True)
        try:
            yield LoadedLog(events)
        finally:
            con.drop_table(name, force=True)


def analyse_log(
    log: EventLog,
    workflow: Workflow | None = None,
    flt: FlowFilter | None = None,
    *,
    detail: bool = False,
    spans: bool = False,
    backend: Any = None,
) -> FlowReport:
    """The full flow report of an event log, computed on ``backend`` (DuckDB by default:
    :func:`log_table` says how a log reaches each engine)."""
    con = backend if backend is not None else duckdb_backend()
    try:
        with log_table(con, log, coded=True) as loaded:
            report = _report(con, loaded, workflow, flt, log.source, detail, spans)
        return dataclasses.replace(report, warnings=[w.to_dict() for w in log.warnings])
    finally:
        if backend is None:
            con.disconnect()


@contextlib.contextmanager
def parquet_table(con: Any, directory: str | Path) -> Iterator[LoadedLog]:
    """The events of a Parquet dataset (a directory of ``month=YYYY-MM`` partitions, or of
    plain files) as a table of ``con``, read in place: DuckDB and Spark scan the files."""
    root = Path(directory)
    if not any(root.rglob("*.parquet")):
        raise InputError(f"{root}: no Parquet files in this directory", field="file")
    name = f"obeya_lake_{uuid.uuid4().hex[:12]}"
    if con.name == "pyspark":
        session = con._session
        session.read.parquet(str(root)).createOrReplaceTempView(name)
        try:
            yield LoadedLog(con.table(name).select(*ANALYSED_COLUMNS))
        finally:
            session.catalog.dropTempView(name)
    else:
        pattern = str(root / "**" / "*.parquet")
        table = con.read_parquet(pattern, table_name=name, hive_partitioning=True)
        try:
            yield LoadedLog(table.select(*ANALYSED_COLUMNS))
        finally:
            con.drop_view(name, force=True)


def analyse_parquet(
    directory: str | Path,
    workflow: Workflow | None = None,
    flt: FlowFilter | None = None,
    *,
    detail: bool = False,
    spans: bool = False,
    backend: Any = None,
) -> FlowReport:
    """The flow report of the events in a Parquet dataset, read in place by ``backend``
    (DuckDB by default): a history too large for Python objects never becomes them."""
    con = backend if backend is not None else duckdb_backend()
    try:
        with parquet_table(con, directory) as loaded:
            return _report(con, loaded, workflow, flt, str(directory), detail, spans)
    finally:
        if backend is None:
            con.disconnect()


def item_spans(
    log: EventLog,
    workflow: Workflow | None = None,
    flt: FlowFilter | None = None,
    *,
    backend: Any = None,
) -> pa.Table:
    """Each item's start and finish as the flow report counts them
    (:meth:`FlowAnalysis.item_spans`): what figures laid over items are clipped to."""
    con = backend if backend is not None else duckdb_backend()
    try:
        with log_table(con, log, coded=True) as loaded:
            return _analysis(con, loaded, workflow, flt, log.source).item_spans()
    finally:
        if backend is None:
            con.disconnect()


def _report(
    con: Any,
    loaded: LoadedLog,
    workflow: Workflow | None,
    flt: FlowFilter | None,
    source: str,
    detail: bool,
    spans: bool = False,
) -> FlowReport:
    return _analysis(con, loaded, workflow, flt, source).report(detail=detail, spans=spans)


def _analysis(
    con: Any, loaded: LoadedLog, workflow: Workflow | None, flt: FlowFilter | None, source: str
) -> FlowAnalysis:
    return FlowAnalysis(
        con,
        loaded.events,
        workflow,
        flt,
        source=source,
        item_labels=loaded.item_labels,
        state_labels=loaded.state_labels,
    )
