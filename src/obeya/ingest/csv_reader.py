"""CSV: one row per state entry of a work item, read by Arrow's multithreaded parser.

Required columns are ``item_id``, ``state`` and ``timestamp``; ``type``, ``title``, ``team``,
``assignee`` and ``created`` are optional, and every other column is ignored (never even
converted). :class:`~obeya.ingest.ColumnMap` renames them; a name that matches no column exactly
may match one that differs only in case or surrounding spaces. The delimiter is the most
frequent of ``,`` ``;`` tab and ``|`` in the header line. Empty optional values become null.

Row numbers in errors are 1-based with the header as row 1, so the first data row is row 2: the
line number in the file, unless a quoted value spans several lines (rows count CSV records).
Blank rows (blank lines, or a spreadsheet's trailing ``,,,`` rows) are skipped but counted.

Everything is columnar: Arrow parses all columns as strings in parallel, and each check (empty
values, timestamps, duplicates) works on whole columns, so no Python code runs per row. Only
when parsing fails does the reader go back, serially, to find the first malformed record.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from obeya.core.events import EventLog
from obeya.errors import ParseError
from obeya.ingest.arrays import first_failure, first_true
from obeya.ingest.columns import OPTIONAL, REQUIRED, ColumnMap
from obeya.ingest.common import Where, blank, event_log, parse_times, require_values
from obeya.ingest.limits import IngestLimits
from obeya.ingest.sources import Progress, open_input, peek

_DELIMITERS = ",;\t|"
_WHAT = {"item_id": "item ids", "state": "states", "timestamp": "timestamps"}


def read_csv(
    path: Path, file: str, columns: ColumnMap, progress: Progress | None, limits: IngestLimits
) -> EventLog:
    header, delimiter = _header(path, file)
    names = _resolve(header, columns, file)
    include = list(dict.fromkeys(names.values()))
    table = _read_table(path, file, include, delimiter, progress, limits.max_decompressed_bytes)
    table, row_numbers = _drop_blank_rows(table, names["item_id"], include)
    if table.num_rows == 0:
        raise ParseError("the file has a header but no data rows", file=file, row=2)

    def locate(index: int) -> Where:
        return Where(row=int(row_numbers[index]) if row_numbers is not None else index + 2)

    require_values({f: table.column(names[f]) for f in REQUIRED}, names, file=file, locate=locate)
    out: dict[str, Any] = {
        "item_id": table.column(names["item_id"]),
        "state": table.column(names["state"]),
        "t": parse_times(
            table.column(names["timestamp"]), file=file, field=names["timestamp"], locate=locate
        ),
        "seq": pa.array(np.arange(table.num_rows, dtype=np.int64)),
    }
    if "created" in names:
        out["created"] = parse_times(
            table.column(names["created"]), file=file, field=names["created"], locate=locate
        )
    for name in OPTIONAL:
        if name in names and name != "created":
            out[name] = table.column(names[name])
    return event_log(out, file=file, locate=locate, limits=limits)


def _drop_blank_rows(table: Any, item_id: str, include: list[str]) -> tuple[Any, Any]:
    """Drop rows whose columns are all empty; return the file row number of each kept row
    (None when nothing was dropped: row = index + 2)."""
    blank_rows = blank(table.column(item_id))
    if first_true(blank_rows) is None:  # most files: one look at one column suffices
        return table, None
    for column in include:
        blank_rows = pc.and_(blank_rows, blank(table.column(column)))
    if first_true(blank_rows) is None:
        return table, None
    keep = pc.invert(blank_rows)
    return table.filter(keep), np.flatnonzero(keep.to_numpy(zero_copy_only=False)) + 2


def _header(path: Path, file: str) -> tuple[list[str], str]:
    """The header's column names and the delimiter, read from the first line only."""
    head = peek(path).removeprefix(codecs.BOM_UTF8)
    line = head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    if not line.strip():
        raise ParseError(
            "the file is empty or starts with a blank line; the first line must be the header "
            "(item_id,state,timestamp,...)",
            file=file,
            row=1,
        )
    delimiter = max(_DELIMITERS, key=line.count)
    return next(csv.reader([line], delimiter=delimiter)), delimiter


def _resolve(header: list[str], columns: ColumnMap, file: str) -> dict[str, str]:
    """Map each field to its header name; refuse a missing required column, skip optional ones.

    An exact name wins; failing that, one that differs only in case or surrounding spaces
    (``Item_ID``, `` state``), as spreadsheets tend to produce.
    """
    names: dict[str, str] = {}
    for field in (*REQUIRED, *OPTIONAL):
        wanted = getattr(columns, field)
        found = _match(header, wanted)
        if found is not None:
            names[field] = found
        elif field in REQUIRED:
            # No state column at all: most likely one row per item, a date column per state.
            wide = (
                ". A file with one row per item and a date column per state is a wide CSV: "
                "{opt:format} wide"
                if _match(header, columns.state) is None
                else ""
            )
            raise ParseError(
                f"missing required column {wanted!r}; the columns are: "
                f"{', '.join(map(repr, header))}. If another column holds the {_WHAT[field]}, "
                f"name that column as the {{opt:{field.split('_')[0]}_column}}{wide}",
                file=file,
                row=1,
                field=wanted,
            )
    return names


def _match(header: list[str], wanted: str) -> str | None:
    """The header name for ``wanted``: exact, else the one name equal to it but for case and
    surrounding spaces."""
    if wanted in header:
        return wanted
    similar = [h for h in header if h.strip().casefold() == wanted.strip().casefold()]
    return similar[0] if len(similar) == 1 else None


def _read(
    path: Path,
    include: list[str],
    delimiter: str,
    *,
    progress: Progress | None = None,
    newlines: bool = False,
    threads: bool = True,
    handler: Any = None,
    kind: Any = None,
    max_bytes: int | None = None,
) -> Any:
    parse = pv.ParseOptions(
        delimiter=delimiter,
        newlines_in_values=newlines,
        ignore_empty_lines=False,  # keep blank lines as rows so that row numbers stay exact
        invalid_row_handler=handler,
    )
    convert = pv.ConvertOptions(
        include_columns=include,
        column_types={c: kind or pa.string() for c in include},
        strings_can_be_null=True,
        null_values=[""],
    )
    with open_input(path, progress, max_bytes=max_bytes) as stream:
        return pv.read_csv(
            stream,
            read_options=pv.ReadOptions(use_threads=threads),
            parse_options=parse,
            convert_options=convert,
        )


def _read_table(
    path: Path,
    file: str,
    include: list[str],
    delimiter: str,
    progress: Progress | None,
    max_bytes: int,
) -> Any:
    """Parse fast; on failure allow quoted newlines, then find and explain the bad record."""
    try:
        return _read(path, include, delimiter, progress=progress, max_bytes=max_bytes)
    except pa.ArrowInvalid as error:
        first_error = error
    try:
        return _read(path, include, delimiter, newlines=True, max_bytes=max_bytes)
    except pa.ArrowInvalid:
        pass
    _raise_malformed(path, file, include, delimiter, max_bytes)
    _raise_bad_utf8(path, file, include, delimiter, max_bytes)
    raise ParseError(f"cannot parse the CSV: {first_error}", file=file) from None


def _raise_malformed(
    path: Path, file: str, include: list[str], delimiter: str, max_bytes: int
) -> None:
    """Re-read serially (Arrow numbers rows only then) and refuse the first bad record."""
    bad: list[Any] = []

    def handler(row: Any) -> str:
        bad.append(row)
        return "error"

    with contextlib.suppress(pa.ArrowInvalid):
        _read(
            path,
            include,
            delimiter,
            newlines=True,
            threads=False,
            handler=handler,
            max_bytes=max_bytes,
        )
    if not bad:
        return
    row = bad[0]
    text = row.text if len(row.text) <= 80 else row.text[:77] + "..."
    shown = "tab" if delimiter == "\t" else repr(delimiter)
    raise ParseError(
        f"expected {row.expected_columns} fields like the header, found {row.actual_columns}: "
        f"{text!r}. Quote values that contain the delimiter {shown}, or fix the row",
        file=file,
        row=row.number,
    )


def _raise_bad_utf8(
    path: Path, file: str, include: list[str], delimiter: str, max_bytes: int
) -> None:
    """Read the columns as bytes and find the first value that is not UTF-8."""
    try:
        table = _read(
            path, include, delimiter, newlines=True, kind=pa.binary(), max_bytes=max_bytes
        )
    except pa.ArrowInvalid:
        return
    found: tuple[int, str] | None = None
    for column in include:
        index = first_failure(table.column(column), _is_utf8)
        if index is not None and (found is None or index < found[0]):
            found = (index, column)
    if found is not None:
        raise ParseError(
            "the text is not UTF-8; save the file as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet)",
            file=file,
            row=found[0] + 2,
            field=found[1],
        )


def _is_utf8(values: Any) -> bool:
    try:
        pc.cast(values, pa.string())
    except pa.ArrowInvalid:
        return False
    return True
