"""The event log: one row per state entry of a work item, as an Arrow table.

Every reader (CSV, XES, Jira) produces this one shape and every metric consumes it, so the
formats and the metrics never meet. Timestamps are integer microseconds since the Unix epoch,
UTC: integer arithmetic gives the same answer on every backend (DuckDB, PostgreSQL, Spark) and
has no time-zone surprises. ``seq`` is the order in the source; it breaks timestamp ties so that
events of one item that tie on timestamp keep file order.

Times are supported from 1970-01-01 to 2099-12-31 (UTC), whole days: the readers refuse an event
time or ``created`` outside that span, and the API bounds query windows to the same days. Years
like 0001 or 9999 are typing slips, and they would stretch every calendar a stream lays out
across millennia, or past what dates can represent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

MICROS_PER_SECOND = 1_000_000
MICROS_PER_HOUR = 3_600 * MICROS_PER_SECOND
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND

#: Optional descriptive columns an event may carry.
ATTRIBUTE_COLUMNS: tuple[str, ...] = ("type", "title", "team", "assignee")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("state", pa.string(), nullable=False),
        pa.field("t", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("created", pa.int64()),
        *(pa.field(name, pa.string()) for name in ATTRIBUTE_COLUMNS),
    ]
)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROS_PER_SECOND + delta.microseconds


def from_micros(micros: int) -> datetime:
    """The UTC datetime ``micros`` microseconds after the epoch, exactly (no float on the
    way, so ``to_micros(from_micros(t)) == t``)."""
    return _EPOCH + timedelta(microseconds=int(micros))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


#: The first and last day of the supported span of times (UTC), both included.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2099, 12, 31)
#: The same span in microseconds since the epoch: the first and the last microsecond in it.
EARLIEST_MICROS = to_micros(datetime(1970, 1, 1, tzinfo=UTC))
LATEST_MICROS = to_micros(datetime(2100, 1, 1, tzinfo=UTC)) - 1
SUPPORTED_SPAN = "from 1970-01-01T00:00:00Z to 2099-12-31T23:59:59Z"


def unsupported_times(micros: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """True where an int64 time lies outside the supported span; null (a missing time) is
    false."""
    outside = pc.or_(pc.less(micros, EARLIEST_MICROS), pc.greater(micros, LATEST_MICROS))
    return pc.fill_null(outside, False)


@dataclass(frozen=True)
class Coded:
    """Items and states as integer codes (``int32``), and the values the codes stand for.

    Sorting, grouping and comparing tens of millions of events by integers is several times
    cheaper than by text; the in-process analytics work on these codes.
    """

    items: pa.Array
    item_labels: pa.Array
    states: pa.Array
    state_labels: pa.Array

    def table(self, events: pa.Table) -> pa.Table:
        """``events`` with ``item_id`` and ``state`` replaced by their codes."""
        for column, codes in (("item_id", self.items), ("state", self.states)):
            position = events.schema.get_field_index(column)
            events = events.set_column(position, pa.field(column, pa.int32()), codes)
        return events


def _encode(values: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    encoded = pc.dictionary_encode(values).combine_chunks()
    return encoded.indices, encoded.dictionary


@dataclass(frozen=True)
class LogWarning:
    """Something a reader kept but the user should know, e.g. events that go backwards in
    time (docs/conventions.md, "Backwards events"). ``count`` is how many events it concerns;
    ``rows`` the file rows of the first of them (``examples`` say what each one is)."""

    kind: str
    message: str
    count: int
    rows: tuple[int, ...] = ()
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "count": self.count,
            "rows": list(self.rows),
            "examples": list(self.examples),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogWarning:
        return cls(
            kind=str(data.get("kind", "")),
            message=str(data.get("message", "")),
            count=int(data.get("count", 0)),
            rows=tuple(int(r) for r in data.get("rows", ())),
            examples=tuple(str(e) for e in data.get("examples", ())),
        )


@dataclass(frozen=True)
class EventLog:
    """An immutable, validated event log (see the module docstring for the columns).

    ``warnings``: what the reader kept but flagged (an import stores them with the import)."""

    table: pa.Table
    source: str = "<memory>"
    warnings: tuple[LogWarning, ...] = dataclasses.field(default=(), compare=False)

    @classmethod
    def from_table(cls, table: pa.Table, source: str = "<memory>") -> EventLog:
        """Conform ``table`` to :data:`EVENT_SCHEMA`: missing optional columns become nulls."""
        columns = []
        for field in EVENT_SCHEMA:
            if field.name in table.column_names:
                column = table.column(field.name)
                columns.append(column if column.type == field.type else column.cast(field.type))
            elif field.nullable:
                columns.append(pa.nulls(table.num_rows, field.type))
            else:
                raise ValueError(f"event table lacks required column {field.name!r}")
        return cls(pa.Table.from_arrays(columns, schema=EVENT_SCHEMA), source)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[tuple[str, str, datetime | str] | dict[str, object]],
        source: str = "<memory>",
    ) -> EventLog:
        """Build a small log from Python rows; meant for tests and examples, not bulk data.

        Each row is ``(item_id, state, timestamp)`` or a dict with the schema's column names and
        a ``timestamp`` (datetime or ISO 8601 text; naive means UTC).
        """
        records: dict[str, list[object]] = {f.name: [] for f in EVENT_SCHEMA}
        for seq, row in enumerate(rows):
            if isinstance(row, dict):
                data = dict(row)
            else:
                item_id, state, timestamp = row
                data = {"item_id": item_id, "state": state, "timestamp": timestamp}
            stamp = data.pop("timestamp")
            moment = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
            assert isinstance(moment, datetime)
            data["t"] = to_micros(moment)
            data["seq"] = seq
            created = data.get("created")
            if isinstance(created, str):
                data["created"] = to_micros(datetime.fromisoformat(created))
            elif isinstance(created, datetime):
                data["created"] = to_micros(created)
            for name in records:
                records[name].append(data.get(name))
        return cls(pa.table(records, schema=EVENT_SCHEMA), source)

    @cached_property
    def coded(self) -> Coded:
        """Integer codes of items and states, computed once per log."""
        items, item_labels = _encode(self.table.column("item_id"))
        states, state_labels = _encode(self.table.column("state"))
        return Coded(items, item_labels, states, state_labels)

    @property
    def num_events(self) -> int:
        return int(self.table.num_rows)

    def states(self) -> list[str]:
        """Distinct states, in order of first appearance."""
        return [str(s) for s in pc.unique(self.table.column("state")).to_pylist()]

    def item_ids(self) -> list[str]:
        return [str(s) for s in pc.unique(self.table.column("item_id")).to_pylist()]

    def concat(self, other: EventLog) -> EventLog:
        shifted = other.table.set_column(
            other.table.schema.get_field_index("seq"),
            EVENT_SCHEMA.field("seq"),
            pc.add(other.table.column("seq"), self.num_events),
        )
        return EventLog(pa.concat_tables([self.table, shifted]), self.source)
