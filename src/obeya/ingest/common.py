"""Checks every reader shares, so CSV, XES and Jira refuse bad input in the same words.

Each check is set-wise: it computes a mask or a grouped query over whole columns and only then
looks up the first offending index, which a reader-supplied ``locate`` turns into a row number
(CSV) or an element description (XES, Jira).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from obeya.core.events import (
    SUPPORTED_SPAN,
    EventLog,
    LogWarning,
    from_micros,
    unsupported_times,
)
from obeya.errors import ParseError
from obeya.ingest.arrays import first_true
from obeya.ingest.limits import IngestLimits, current_limits
from obeya.ingest.timestamps import BadTimestamp, parse_timestamps

TIMESTAMP_HELP = (
    "write ISO 8601, e.g. 2024-01-15T10:20:30Z, 2024-01-15 10:20:30+01:00 or 2024-01-15 "
    "(no zone means UTC)"
)


@dataclass(frozen=True)
class Where:
    """Where an event came from: a row (CSV record, or a line of XML/JSON) and/or an element."""

    row: int | None = None
    element: str | None = None

    def describe(self) -> str:
        parts = [f"row {self.row}"] if self.row is not None else []
        if self.element:
            parts.append(self.element)
        return " ".join(parts) or "an unknown place"


Locate = Callable[[int], Where]


def fail(message: str, *, file: str, where: Where, field: str | None = None) -> ParseError:
    return ParseError(message, file=file, row=where.row, field=field, element=where.element)


def blank(values: Any) -> Any:
    """True where a string is null or empty (by length: four times faster than comparing)."""
    return pc.fill_null(pc.equal(pc.binary_length(values), 0), True)


def require_values(
    columns: Mapping[str, Any], labels: Mapping[str, str], *, file: str, locate: Locate
) -> None:
    """Refuse the first event (in source order) that lacks one of ``columns``."""
    found: tuple[int, str] | None = None
    for name, values in columns.items():
        index = first_true(blank(values))
        if index is not None and (found is None or index < found[0]):
            found = (index, name)
    if found is not None:
        index, name = found
        raise fail(
            f"{labels[name]!r} is missing or empty; every event needs an item id, a state and "
            "a timestamp: fill it in or remove the event",
            file=file,
            where=locate(index),
            field=labels[name],
        )


def parse_times(values: Any, *, file: str, field: str, locate: Locate, hint: str = "") -> Any:
    """Parse a string column into int64 microseconds UTC, or name the first bad value (one
    that is no timestamp, or one outside the supported span); ``hint`` ends the message of
    a value that is no timestamp."""
    try:
        micros = parse_timestamps(values)
    except BadTimestamp as error:
        raise fail(
            f"cannot read timestamp {error.value!r}; {TIMESTAMP_HELP}{hint}",
            file=file,
            where=locate(error.index),
            field=field,
        ) from None
    index = first_true(unsupported_times(micros))
    if index is not None:
        raise fail(out_of_span(values[index].as_py()), file=file, where=locate(index), field=field)
    return micros


def out_of_span(value: str) -> str:
    """Why a readable time is refused: beyond the span every figure and page can handle."""
    return (
        f"timestamp {value!r} is outside the supported range, {SUPPORTED_SPAN}; "
        "check the year (a placeholder such as 9999-12-31 or 0001-01-01 stands for no date: "
        "leave the value empty instead where the field may be empty)"
    )


# Distinct 64-bit hashes prove distinct events; only when some hash repeats (a duplicate, or a
# one-in-billions collision) does the exact, slower query run.
_MAYBE_DUPLICATES = "SELECT count(*) > count(DISTINCT hash(item_id, state, t)) FROM events"
_DUPLICATES = """
WITH repeated AS (
    SELECT item_id, state, t, min(seq) AS first_seq
    FROM events GROUP BY item_id, state, t HAVING count(*) > 1
)
SELECT r.first_seq, e.seq, e.item_id, e.state, e.t
FROM events AS e JOIN repeated AS r USING (item_id, state, t)
WHERE e.seq > r.first_seq
ORDER BY e.seq
LIMIT 1
"""


def check_duplicates(log: EventLog, *, file: str, locate: Locate) -> None:
    """Refuse two events of one item with the same state and timestamp (docs/conventions.md).

    DuckDB's parallel hash aggregation is the cheapest test on tens of millions of rows; the
    exact query runs only when some hash repeats.
    """
    events = log.table.select(["item_id", "state", "t", "seq"])
    with duckdb.connect() as con:
        con.register("events", events)
        found = None
        if con.execute(_MAYBE_DUPLICATES).fetchall()[0][0]:
            found = con.execute(_DUPLICATES).fetchone()
    if found is None:
        return
    first_seq, seq, item_id, state, micros = found
    first, second = locate(int(first_seq)), locate(int(seq))
    moment = from_micros(int(micros)).isoformat().replace("+00:00", "Z")
    raise fail(
        f"duplicate event: item {item_id!r} entered state {state!r} at {moment} twice "
        f"({first.describe()} and {second.describe()}); remove one of the two",
        file=file,
        where=second,
    )


def check_item_sizes(
    con: Any, *, file: str, locate: Locate, limits: IngestLimits, copies: bool
) -> None:
    """Refuse an item with more events than the limit and, when ``copies``, an event recorded
    more times than the limit (every field equal but the file position).

    A log of one item with millions of identical events compresses to almost nothing, then
    fills the store and stalls every page of the stream; real items have a few hundred events.
    """
    most = limits.max_events_per_item
    found = con.execute(
        "SELECT item_id, count(*) FROM events GROUP BY item_id HAVING count(*) > ? "
        "ORDER BY min(seq) LIMIT 1",
        [most],
    ).fetchone()
    if found is not None:
        item_id, count = found
        [(seq,)] = con.execute(
            "SELECT seq FROM events WHERE item_id = ? ORDER BY seq LIMIT 1 OFFSET ?",
            [item_id, most],
        ).fetchall()
        raise fail(
            f"item {item_id!r} has {count:,} events, more than the limit of {most:,} events "
            f"per item ({IngestLimits.variable('max_events_per_item')}); this is the first "
            "event over it. Split the log, or raise the limit if the item is real",
            file=file,
            where=locate(int(seq)),
        )
    if not copies:
        return
    most = limits.max_event_copies
    found = con.execute(
        f"SELECT min(seq), count(*) FROM events GROUP BY {_ALL_BUT_SEQ} HAVING count(*) > ? "
        "ORDER BY min(seq) LIMIT 1",
        [most],
    ).fetchone()
    if found is not None:
        first_seq, count = found
        first = locate(int(first_seq))
        raise fail(
            f"the event at {first.describe()} is recorded {count:,} times, every field equal; "
            f"at most {most:,} copies of one event are kept "
            f"({IngestLimits.variable('max_event_copies')}). Remove the copies",
            file=file,
            where=first,
        )


_ALL_BUT_SEQ = "item_id, state, t, created, type, title, team, assignee"


#: Backwards events a warning (or a --strict refusal) lists; the rest are counted.
SHOWN_BACKWARDS = 10
BACKWARDS = "backwards"


@dataclass(frozen=True)
class Backwards:
    """Events a reader found going backwards by its own rule (a wide CSV: a state entered
    before a state to its left): their ``seq`` values, and what to say of one."""

    seqs: Any  # int64 numpy array, ascending
    describe: Callable[[int], str]


def moment(micros: int) -> str:
    """A time as the user wrote it most likely: a date alone when it is midnight UTC."""
    text = from_micros(int(micros)).isoformat().replace("+00:00", "Z")
    return text.removesuffix("T00:00:00Z")


def backwards_warning(
    log: EventLog, *, locate: Locate, found: Backwards | None = None
) -> LogWarning | None:
    """The events of ``log`` that go backwards (docs/conventions.md, "Backwards events"):
    entered before their item was created (``t < created``), plus what the reader ``found``.
    None when there are none. Set-wise: one mask over the table."""
    table = log.table
    mask = pc.fill_null(pc.less(table.column("t"), table.column("created")), False)
    early = table.filter(mask).select(["seq", "item_id", "state", "t", "created"])
    seqs = early.column("seq").to_numpy()
    if found is not None:
        seqs = np.union1d(seqs, found.seqs)
    if seqs.size == 0:
        return None
    shown = np.sort(seqs)[:SHOWN_BACKWARDS]
    picked = early.filter(pc.is_in(early.column("seq"), pa.array(shown, pa.int64())))
    by_seq = {int(r["seq"]): r for r in picked.to_pylist()}
    rows: list[int] = []
    examples: list[str] = []
    for seq in (int(s) for s in shown):
        where = locate(seq)
        if where.row is not None:
            rows.append(where.row)
        if seq in by_seq:
            r = by_seq[seq]
            what = (
                f"item {r['item_id']!r} entered {r['state']!r} at {moment(r['t'])}, before "
                f"it was created ({moment(r['created'])})"
            )
        else:
            assert found is not None
            what = found.describe(seq)
        examples.append(f"{where.describe()}: {what}")
    count = int(seqs.size)
    listed = ", ".join(map(str, rows)) + (" …" if count > len(rows) else "")
    place = f", row{'s' if len(rows) > 1 else ''} {listed}" if rows else ""
    message = (
        f"{count:,} event{'s' if count != 1 else ''} go{'es' if count == 1 else ''} backwards "
        "in time (a state entered before the item was created, or before a state that comes "
        f"earlier in the flow order){place}; e.g. {examples[0]}. They are kept and ordered by "
        "time: with a workflow, an item whose last event is then not a done state counts as in "
        "progress; without one, every item runs from its first event to its last"
    )
    return LogWarning(BACKWARDS, message, count, tuple(rows), tuple(examples))


def refuse_backwards(warning: LogWarning, *, file: str) -> ParseError:
    """The --strict refusal of a log with backwards events: the count and the first rows."""
    more = warning.count - len(warning.examples)
    listed = "; ".join(warning.examples) + (f"; and {more:,} more" if more > 0 else "")
    return ParseError(
        f"{warning.count:,} event{'s' if warning.count != 1 else ''} go"
        f"{'es' if warning.count == 1 else ''} backwards in time (a state entered before the "
        f"item was created, or before a state that comes earlier in the flow order): {listed}. "
        "Fix them, or import without {opt:strict} to keep them with a warning",
        file=file,
        row=warning.rows[0] if warning.rows else None,
    )


def event_log(
    columns: Mapping[str, Any],
    *,
    file: str,
    locate: Locate,
    repeats: str = "refuse",
    limits: IngestLimits | None = None,
    backwards: Backwards | None = None,
) -> EventLog:
    """Assemble the checked event table: ``columns`` holds ``item_id``, ``state``, ``t``, ``seq``
    and any of ``created``, ``type``, ``title``, ``team``, ``assignee``.

    ``repeats``: "refuse" duplicate events (state-change logs: CSV, Jira) or "keep" them
    (activity logs: XES, which may record one activity twice at an instant), see
    docs/conventions.md; kept copies are bounded by ``limits.max_event_copies``, and every
    item by ``limits.max_events_per_item``. Backwards events (``backwards``: those the
    reader found by its own rule) are kept and flagged in ``EventLog.warnings``.
    """
    limits = limits or current_limits()
    table = pa.table(dict(columns))
    if table.num_rows == 0:
        raise ParseError("the file contains no events", file=file)
    log = EventLog.from_table(table, source=file)
    if repeats == "refuse":
        check_duplicates(log, file=file, locate=locate)
    with duckdb.connect() as con:
        con.register("events", log.table)
        check_item_sizes(con, file=file, locate=locate, limits=limits, copies=repeats == "keep")
    warning = backwards_warning(log, locate=locate, found=backwards)
    return log if warning is None else dataclasses.replace(log, warnings=(warning,))
