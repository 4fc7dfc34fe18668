"""Wide CSV: one row per work item, one timestamp column per state (``--format wide``).

This is how Jira's CSV export and most spreadsheets give a history (``id, created_date,
finished_date``). The item id column is required (``item_id``, or as mapped); ``type``,
``title``, ``team``, ``assignee`` and ``created`` are optional, as in the long CSV. Every other
column is a state, its header the state's name, and the columns' left-to-right order is the
flow order; ``ColumnMap.state_columns`` (``--state-columns a,b=B,c``) names the state columns
instead (``b=B``: column ``b`` holds the times of state ``B``). Each non-empty cell is one event
(item, state, time); an empty cell is a state the item did not visit.

Rows are numbered as in the long CSV (and as a spreadsheet shows them): the header is row 1,
the first item row 2; errors also name the column. Everything is read and checked before an
event is made, so a file is taken whole or not at all.

Backwards (docs/conventions.md): a cell whose time is earlier than a cell to its left in the
same row (a state entered before one the flow order puts first, e.g. finished before created)
is kept and flagged, like an event before the item's ``created`` time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from obeya.core.events import EventLog
from obeya.errors import ParseError
from obeya.ingest.columns import OPTIONAL, ColumnMap
from obeya.ingest.common import (
    Backwards,
    Where,
    blank,
    event_log,
    moment,
    parse_times,
    require_values,
)
from obeya.ingest.csv_reader import _drop_blank_rows, _header, _match, _read_table
from obeya.ingest.limits import IngestLimits
from obeya.ingest.sources import Progress

#: A missing time, for the running maximum along a row (below every supported time).
_NONE = np.iinfo(np.int64).min


def read_wide(
    path: Path, file: str, columns: ColumnMap, progress: Progress | None, limits: IngestLimits
) -> EventLog:
    header, delimiter = _header(path, file)
    fields = _fields(header, columns, file)
    states = _states(header, fields, columns, file)
    include = list(dict.fromkeys([*fields.values(), *(h for h, _ in states)]))
    table = _read_table(path, file, include, delimiter, progress, limits.max_decompressed_bytes)
    table, row_numbers = _drop_blank_rows(table, fields["item_id"], include)
    if table.num_rows == 0:
        raise ParseError("the file has a header but no data rows", file=file, row=2)

    def row_of(index: int) -> int:
        return int(row_numbers[index]) if row_numbers is not None else index + 2

    def at_row(index: int) -> Where:
        return Where(row=row_of(index))

    require_values({"item_id": table.column(fields["item_id"])}, fields, file=file, locate=at_row)
    times = np.full((table.num_rows, len(states)), _NONE, dtype=np.int64)
    for j, (column, _) in enumerate(states):
        parsed = parse_times(
            _blank_as_null(table.column(column)),
            file=file,
            field=column,
            locate=at_row,
            hint="" if columns.state_columns.strip() else _state_hint(states, column),
        )
        times[:, j] = pc.fill_null(parsed, _NONE).to_numpy()
    present = times != _NONE
    if not present.any():
        raise ParseError(
            "no state column has a time: every cell of "
            f"{', '.join(repr(h) for h, _ in states)} is empty",
            file=file,
            row=2,
        )
    # Events row by row, left to right: ties on time keep the flow order (seq).
    event_row, event_col = np.nonzero(present)
    names = pa.array([state for _, state in states], pa.string())

    def locate(seq: int) -> Where:
        return Where(
            row=row_of(int(event_row[seq])),
            element=f"column {states[int(event_col[seq])][0]!r}",
        )

    rows = pa.array(event_row)
    out: dict[str, Any] = {
        "item_id": table.column(fields["item_id"]).take(rows),
        "state": names.take(pa.array(event_col)),
        "t": pa.array(times[event_row, event_col]),
        "seq": pa.array(np.arange(event_row.size, dtype=np.int64)),
    }
    if "created" in fields:
        created = parse_times(
            _blank_as_null(table.column(fields["created"])),
            file=file,
            field=fields["created"],
            locate=at_row,
        )
        out["created"] = created.take(rows)
    for name in OPTIONAL:
        if name in fields and name != "created":
            out[name] = table.column(fields[name]).take(rows)
    found = _backwards(times, present, event_row, event_col, states, table, fields["item_id"])
    return event_log(out, file=file, locate=locate, limits=limits, backwards=found)


def _backwards(
    times: Any,
    present: Any,
    event_row: Any,
    event_col: Any,
    states: list[tuple[str, str]],
    table: Any,
    item_column: str,
) -> Backwards:
    """The cells earlier than some cell to their left in their row, as event seqs."""
    # latest[:, j]: the latest time among columns 0..j (none: _NONE); a cell is early when it
    # is earlier than the latest of the columns to its left.
    latest = np.maximum.accumulate(times, axis=1)
    early = np.zeros_like(present)  # the first column has nothing to its left
    early[:, 1:] = present[:, 1:] & (times[:, 1:] < latest[:, :-1])
    seqs = np.flatnonzero(early[event_row, event_col])

    def describe(seq: int) -> str:
        row, col = int(event_row[seq]), int(event_col[seq])
        left = int(np.argmax(times[row, :col]))  # the (first) latest cell to the left
        item = table.column(item_column)[row].as_py()
        return (
            f"item {item!r} entered {states[col][1]!r} at {moment(times[row, col])}, before "
            f"{states[left][1]!r} ({moment(times[row, left])}), a state to its left"
        )

    return Backwards(seqs=seqs, describe=describe)


def _blank_as_null(values: Any) -> Any:
    """Cells of spaces only are empty cells."""
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(blank(trimmed), pa.scalar(None, pa.string()), trimmed)


def _fields(header: list[str], columns: ColumnMap, file: str) -> dict[str, str]:
    """Header names of the item id (required) and of the optional fields found; a column
    listed as a state column is a state, not an optional field of the standard name."""
    listed = {h for h, _ in columns.states()}
    item = _match(header, columns.item_id)
    if item is None:
        raise ParseError(
            f"missing the item id column {columns.item_id!r}; the columns are: "
            f"{', '.join(map(repr, header))}. Name the column that holds the item ids as the "
            "{opt:item_column}",
            file=file,
            row=1,
            field=columns.item_id,
        )
    fields = {"item_id": item}
    for name in OPTIONAL:
        found = _match(header, getattr(columns, name))
        if found is not None and not (found in listed and columns.is_default(name)):
            fields[name] = found
    return fields


def _states(
    header: list[str], fields: dict[str, str], columns: ColumnMap, file: str
) -> list[tuple[str, str]]:
    """(header, state) of each state column, in flow order."""
    taken = set(fields.values())
    given = columns.states()
    if not given:
        states = [(h, h.strip()) for h in header if h not in taken and h.strip()]
        if not states:
            raise ParseError(
                "no state column: a wide CSV has one time column per state beside the item "
                f"id; the columns are: {', '.join(map(repr, header))}",
                file=file,
                row=1,
            )
        return states
    states = []
    for wanted, state in given:
        found = _match(header, wanted)
        if found is None:
            raise ParseError(
                f"no column {wanted!r}, named as a state column; the columns are: "
                f"{', '.join(map(repr, header))}",
                file=file,
                row=1,
                field=wanted,
            )
        if found in taken:
            raise ParseError(
                f"column {found!r} is both a state column and the "
                f"{next(f for f, h in fields.items() if h == found)} column; choose one",
                file=file,
                row=1,
                field=found,
            )
        states.append((found, state))
    if len({h for h, _ in states}) < len(states) or len({s for _, s in states}) < len(states):
        raise ParseError(
            "a column or a state is named twice in the state columns: each state has one column",
            file=file,
            row=1,
        )
    return states


def _state_hint(states: list[tuple[str, str]], column: str) -> str:
    """What to do when a column taken for a state by default holds no times."""
    others = ",".join(h for h, _ in states if h != column) or "A,B"
    return (
        ". Without {opt:state_columns} every column but the item id and the optional fields "
        f"is read as a state's times: if {column!r} holds something else, give the "
        f"{{opt:state_columns}} in flow order, e.g. {others}"
    )
