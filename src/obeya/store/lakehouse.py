"""A stream's events as a Parquet dataset partitioned by month (``month=2012-05/…``), for
engines that read them in place (docs/scale.md): ``obeya metrics DIR --engine duckdb|spark``
scans the files without passing the events through Python objects or the app store.

The files hold the columns a flow analysis reads (item id, state, time and sequence as the
store keeps them: times in integer microseconds UTC) plus the partition column. They are
written in batches straight from the store (:func:`obeya.store.archive.event_batches`), into a
directory that replaces the target only once complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from obeya.core.metrics.engines import ANALYSED_COLUMNS
from obeya.errors import InputError
from obeya.ingest.sources import Progress
from obeya.store.archive import STORED_EVENT_SCHEMA, count_events, event_batches
from obeya.store.store import Store

#: The partition column: the UTC month of the event, ``YYYY-MM``.
MONTH = "month"


def month_of(t: pa.Array) -> pa.Array:
    """``YYYY-MM`` of each time (integer microseconds since the epoch, UTC)."""
    stamps = pc.cast(t, pa.timestamp("us", tz="UTC"))
    return pc.strftime(stamps, format="%Y-%m")


def export_events_parquet(
    store: Store, stream: str, directory: str | Path, *, progress: Progress | None = None
) -> int:
    """Write ``stream``'s events under ``directory`` (replaced), one partition per month;
    the number of events. ``progress(events_done, events)``."""
    target = Path(directory)
    doing = f"exporting the events of {stream!r} to {target}"
    stream_id = store.stream_id(stream)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with store._errors(doing), store.engine.connect() as connection:
            total = count_events(connection, [stream_id])
            done = 0

            def batches() -> Iterator[pa.RecordBatch]:
                nonlocal done
                for batch in event_batches(connection, stream_id):
                    table = pa.Table.from_batches([batch]).select(list(ANALYSED_COLUMNS))
                    table = table.append_column(MONTH, month_of(table.column("t")))
                    yield from table.to_batches()
                    done += batch.num_rows
                    if progress is not None:
                        progress(done, total)

            schema = pa.schema(
                [*(STORED_EVENT_SCHEMA.field(c) for c in ANALYSED_COLUMNS), (MONTH, pa.string())]
            )
            ds.write_dataset(
                batches(),
                scratch,
                schema=schema,
                format="parquet",
                partitioning=[MONTH],
                partitioning_flavor="hive",
                existing_data_behavior="overwrite_or_ignore",
                file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
            )
        if target.exists():
            shutil.rmtree(target)
        os.replace(scratch, target)
    except OSError as error:
        raise InputError(f"cannot write the events to {target}: {error}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return done
