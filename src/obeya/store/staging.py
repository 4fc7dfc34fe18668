"""Bulk import: load an event log into a temporary staging table, then merge it in one statement.

Row-by-row ORM inserts would take minutes for a million events; instead the log goes into a
temporary table by the driver's fastest path (``executemany`` on SQLite, ``COPY`` on PostgreSQL)
and a single ``INSERT … SELECT … WHERE NOT EXISTS`` adds the events the stream lacks. The whole
thing runs inside the caller's transaction, so a failure anywhere leaves nothing behind.

Rules of the merge, which make a re-import idempotent:

- an event is identified by ``(item_id, t, state, copy)`` within its stream, where ``copy``
  numbers repeats of ``(item_id, t, state)`` in file order (0 for the first); one already
  stored is skipped, so a file's repeats are kept and a re-import still adds nothing;
- the events added get ``seq`` values that continue after the stream's highest ``seq``, densely
  and in file order (the log's ``seq``, ties broken by row position).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, text

from obeya.core.events import ATTRIBUTE_COLUMNS

STAGING_TABLE = "obeya_staging"

#: The staged columns: ``pos`` is the row's place in file order, the rest come from the log.
STAGED_COLUMNS: tuple[str, ...] = (
    "pos",
    "item_id",
    "state",
    "t",
    "copy",
    "created",
    *ATTRIBUTE_COLUMNS,
)
_INTEGER_COLUMNS = frozenset({"pos", "t", "copy", "created"})

#: What identifies an event within a stream (the events table's unique key, less stream_id).
EVENT_KEY: tuple[str, ...] = ("item_id", "t", "state", "copy")

#: Rows per batch handed to the driver: bounds the Python objects alive at once.
BATCH_ROWS = 100_000

_MERGE = f"""
INSERT INTO events
    (stream_id, item_id, state, t, copy, seq, created, type, title, team, assignee)
SELECT :stream_id, s.item_id, s.state, s.t, s.copy,
       :last_seq + ROW_NUMBER() OVER (ORDER BY s.pos),
       s.created, s.type, s.title, s.team, s.assignee
FROM {STAGING_TABLE} AS s
WHERE NOT EXISTS (
    SELECT 1 FROM events AS e
    WHERE e.stream_id = :stream_id AND e.item_id = s.item_id AND e.t = s.t
      AND e.state = s.state AND e.copy = s.copy
)
"""


def prepare(table: pa.Table) -> pa.Table:
    """The staged columns of an event-log table: rows in file order, repeats numbered.

    ``pos`` numbers the rows in file order; ``copy`` numbers the repeats of one
    ``(item_id, t, state)`` (0 for the first). Repeats are rare, so a hash aggregate finds
    the first of each event and only the few others are numbered one by one.
    """
    seq = table.column("seq")
    if table.num_rows > 1 and not pc.all(pc.greater_equal(seq[1:], seq[:-1])).as_py():
        table = table.take(pc.sort_indices(seq))  # a stable sort: ties keep row order
    positions = pa.array(range(table.num_rows), pa.int64())
    copies = _copies(table, positions)
    columns = [positions, *(table.column(name) for name in STAGED_COLUMNS[1:4]), copies]
    columns += [table.column(name) for name in STAGED_COLUMNS[5:]]
    return pa.Table.from_arrays(columns, names=list(STAGED_COLUMNS))


def _copies(table: pa.Table, positions: pa.Array) -> pa.Array:
    key = ["item_id", "t", "state"]
    keyed = table.select(key).append_column("pos", positions)
    firsts = keyed.group_by(key).aggregate([("pos", "min")]).column("pos_min")
    copies = np.zeros(table.num_rows, dtype=np.int32)
    if len(firsts) < table.num_rows:
        repeats = keyed.filter(pc.invert(pc.is_in(positions, value_set=firsts)))
        seen: dict[tuple[Any, ...], int] = {}
        for row in repeats.to_pylist():  # the repeats only, in file order
            event = (row["item_id"], row["t"], row["state"])
            seen[event] = seen.get(event, 0) + 1
            copies[row["pos"]] = seen[event]
    return pa.array(copies)


def stage(connection: Connection, table: pa.Table) -> None:
    """Create the staging table in this transaction and load ``table`` into it."""
    staged = prepare(table)
    definitions = ", ".join(
        f"{name} {'BIGINT' if name in _INTEGER_COLUMNS else 'TEXT'}" for name in STAGED_COLUMNS
    )
    if connection.dialect.name == "sqlite":
        # As the rowid, pos costs nothing to store, and rows come out of a scan in pos
        # order, so the merge's ROW_NUMBER() OVER (ORDER BY pos) needs no sort.
        definitions = definitions.replace("pos BIGINT", "pos INTEGER PRIMARY KEY")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGING_TABLE} ({definitions})")
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        _copy_into_postgres(driver, staged)
        # Temporary tables are never auto-analysed; without statistics the planner may pick a
        # nested loop for the merge.
        connection.exec_driver_sql(f"ANALYZE {STAGING_TABLE}")
    else:
        _insert_into_sqlite(driver, staged)


def merge(connection: Connection, stream_id: int) -> int:
    """Add the staged events the stream lacks; return how many were added."""
    last_seq = connection.execute(
        text("SELECT COALESCE(MAX(seq), -1) FROM events WHERE stream_id = :stream_id"),
        {"stream_id": stream_id},
    ).scalar_one()
    result = connection.execute(text(_MERGE), {"stream_id": stream_id, "last_seq": last_seq})
    connection.exec_driver_sql(f"DROP TABLE {STAGING_TABLE}")
    return int(result.rowcount)


def _insert_into_sqlite(driver: Any, staged: pa.Table) -> None:
    placeholders = ", ".join("?" for _ in STAGED_COLUMNS)
    statement = f"INSERT INTO {STAGING_TABLE} VALUES ({placeholders})"
    cursor = driver.cursor()
    try:
        for rows in _python_rows(staged):
            cursor.executemany(statement, rows)
    finally:
        cursor.close()


def _python_rows(staged: pa.Table) -> Iterator[Iterator[tuple[Any, ...]]]:
    for batch in staged.to_batches(max_chunksize=BATCH_ROWS):
        yield zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _copy_into_postgres(driver: Any, staged: pa.Table) -> None:
    # Arrow writes the CSV in C++. Every non-null value is quoted, so PostgreSQL reads an
    # unquoted empty field as NULL and a quoted one ("") as the empty string.
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    columns = ", ".join(STAGED_COLUMNS)
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {STAGING_TABLE} ({columns}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for batch in staged.to_batches(max_chunksize=BATCH_ROWS):
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(batch, sink, options)
            copy.write(memoryview(sink.getvalue()))
