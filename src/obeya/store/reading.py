"""Read a stream's events back as an Arrow table, column-wise and without ORM objects.

SQLite rows are fetched in batches straight from the driver and transposed into Arrow arrays;
PostgreSQL streams the rows out with ``COPY … TO STDOUT`` as CSV, which Arrow parses in C++.
The rows are then sorted by Arrow rather than by SQL: Arrow compares strings by code point on
every backend, whereas PostgreSQL's ``ORDER BY`` follows the database's collation.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

from obeya.core.events import EVENT_SCHEMA

#: The order :meth:`obeya.store.Store.load_events` promises.
EVENT_ORDER = [("item_id", "ascending"), ("t", "ascending"), ("seq", "ascending")]

FETCH_ROWS = 100_000

_COLUMNS = ", ".join(EVENT_SCHEMA.names)
_STRING_COLUMNS = [f.name for f in EVENT_SCHEMA if pa.types.is_string(f.type)]


def fetch_events(
    connection: Connection, stream_id: int, types: Sequence[str] | None = None
) -> pa.Table:
    """The events of stream ``stream_id`` (only those of ``types`` if given), in EVENT_ORDER."""
    if types is not None and not types:
        return EVENT_SCHEMA.empty_table()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        table = _copy_from_postgres(driver, stream_id, types)
    else:
        table = _select_from_sqlite(driver, stream_id, types)
    return table.sort_by(EVENT_ORDER)


def _select_from_sqlite(driver: Any, stream_id: int, types: Sequence[str] | None) -> pa.Table:
    query = f"SELECT {_COLUMNS} FROM events WHERE stream_id = ?"
    parameters: list[object] = [stream_id]
    if types is not None:
        query += f" AND type IN ({', '.join('?' for _ in types)})"
        parameters.extend(types)
    batches = []
    cursor = driver.cursor()
    try:
        cursor.execute(query, parameters)
        while rows := cursor.fetchmany(FETCH_ROWS):
            columns = zip(*rows, strict=True)
            arrays = [
                pa.array(values, f.type) for values, f in zip(columns, EVENT_SCHEMA, strict=True)
            ]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=EVENT_SCHEMA))
    finally:
        cursor.close()
    return pa.Table.from_batches(batches, schema=EVENT_SCHEMA)


def _copy_from_postgres(driver: Any, stream_id: int, types: Sequence[str] | None) -> pa.Table:
    from psycopg import sql  # only installed deployments on PostgreSQL need it

    condition = sql.SQL("stream_id = {}").format(sql.Literal(stream_id))
    if types is not None:
        condition = sql.SQL("{} AND type = ANY({}::text[])").format(
            condition, sql.Literal(list(types))
        )
    # Quoting every string lets the reader tell NULL (unquoted, empty) from "" (quoted).
    statement = sql.SQL(
        "COPY (SELECT {columns} FROM events WHERE {condition}) TO STDOUT "
        "(FORMAT csv, FORCE_QUOTE ({strings}))"
    ).format(
        columns=sql.SQL(_COLUMNS),
        condition=condition,
        strings=sql.SQL(", ".join(_STRING_COLUMNS)),
    )
    buffer = io.BytesIO()
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in copy:
            buffer.write(chunk)
    if buffer.tell() == 0:
        return EVENT_SCHEMA.empty_table()
    buffer.seek(0)
    return pa_csv.read_csv(
        buffer,
        read_options=pa_csv.ReadOptions(column_names=EVENT_SCHEMA.names),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=EVENT_SCHEMA,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    ).cast(EVENT_SCHEMA)
