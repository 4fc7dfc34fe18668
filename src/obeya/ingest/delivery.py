"""Delivery files: deployments, changes and incidents as CSV, for the DORA metrics.

Each file is a CSV with a header (gzipped or not: recognised by its magic bytes) whose columns
are, in any order, with any others ignored:

- deployments: ``deployment_id, environment, finished_at, result``;
- changes: ``change_id, committed_at, deployment_id`` (the deployment that shipped it);
- incidents: ``incident_id, created_at, resolved_at`` and optionally ``deployment_id`` (the
  deployment that caused it); ``resolved_at`` and ``deployment_id`` may be empty.

A column name matches exactly, or else when it differs only in case or surrounding spaces. The
delimiter is the most frequent of ``,`` ``;`` tab and ``|`` in the header line. Timestamps are
ISO 8601; no zone means UTC and a date alone is midnight UTC (docs/conventions.md).

Rows are numbered as :mod:`obeya.ingest.csv_reader` numbers them: the header is row 1, so the
first data row is row 2; blank rows are skipped but counted; a record whose quoted value spans
lines is one row. Every refusal is a :class:`~obeya.errors.ParseError` naming the file, the row
and the field: a missing column (the message lists the columns found), an empty required
value, an unreadable timestamp, an id given twice (both rows named), an incident resolved
before it was created. A change shipped before it was committed is data, not an error, and a
change naming a deployment the deployments file lacks is reported by the DORA report
(``unmatched_changes``), not refused here.

A file may hold at most :data:`MAX_FILE_BYTES` (decompressed): a plain file is refused by its
size, a gzipped one as soon as its content grows past the limit.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from obeya.core.delivery.records import Change, DeliveryHistory, Deployment, Incident
from obeya.core.events import from_micros
from obeya.errors import ParseError
from obeya.ingest.arrays import first_true
from obeya.ingest.common import Where, blank, parse_times
from obeya.ingest.csv_reader import _drop_blank_rows, _read_table
from obeya.ingest.limits import MIB, TooLarge, describe_bytes
from obeya.ingest.sources import check_readable, is_gzip, peek

#: The most a delivery file may hold, decompressed: far beyond any real history.
MAX_FILE_BYTES = 512 * MIB

DEPLOYMENT_COLUMNS = ("deployment_id", "environment", "finished_at", "result")
CHANGE_COLUMNS = ("change_id", "committed_at", "deployment_id")
INCIDENT_COLUMNS = ("incident_id", "created_at", "resolved_at")
INCIDENT_OPTIONAL = ("deployment_id",)

_DELIMITERS = ",;\t|"


def read_deployments(path: Path) -> tuple[Deployment, ...]:
    """The deployments of a CSV file (``deployment_id, environment, finished_at, result``)."""
    rows = read_rows(path, "deployment", DEPLOYMENT_COLUMNS)
    rows.require("deployment_id", "environment", "finished_at", "result")
    finished = rows.times("finished_at")
    ids = rows.strings("deployment_id")
    rows.unique("deployment_id", ids)
    environments = rows.strings("environment")
    results = rows.strings("result")
    return tuple(
        Deployment(deployment_id=i, environment=e, finished_at=_moment(f), result=r)
        for i, e, f, r in zip(ids, environments, finished, results, strict=True)
    )


def read_changes(path: Path) -> tuple[Change, ...]:
    """The changes of a CSV file (``change_id, committed_at, deployment_id``)."""
    rows = read_rows(path, "change", CHANGE_COLUMNS)
    rows.require("change_id", "committed_at", "deployment_id")
    committed = rows.times("committed_at")
    ids = rows.strings("change_id")
    rows.unique("change_id", ids)
    deployments = rows.strings("deployment_id")
    return tuple(
        Change(change_id=i, committed_at=_moment(c), deployment_id=d)
        for i, c, d in zip(ids, committed, deployments, strict=True)
    )


def read_incidents(path: Path) -> tuple[Incident, ...]:
    """The incidents of a CSV file (``incident_id, created_at, resolved_at[, deployment_id]``);
    an empty ``resolved_at`` is an unresolved incident, an empty ``deployment_id`` one whose
    deployment is not known."""
    rows = read_rows(path, "incident", INCIDENT_COLUMNS, INCIDENT_OPTIONAL)
    rows.require("incident_id", "created_at")
    created = rows.times("created_at")
    resolved = rows.times("resolved_at")
    ids = rows.strings("incident_id")
    rows.unique("incident_id", ids)
    for index, (start, end) in enumerate(zip(created, resolved, strict=True)):
        if end is not None and start is not None and end < start:
            raise rows.error(
                f"resolved_at {_iso(end)} is before created_at {_iso(start)}; an incident is "
                "resolved after it is created: check both times (and their zones)",
                index,
                "resolved_at",
            )
    causes = rows.strings("deployment_id") if rows.has("deployment_id") else [None] * len(ids)
    return tuple(
        Incident(
            incident_id=i,
            created_at=_moment(c),
            resolved_at=None if r is None else _moment(r),
            deployment_id=d or None,
        )
        for i, c, r, d in zip(ids, created, resolved, causes, strict=True)
    )


def read_delivery(
    deployments: Path | None, changes: Path | None, incidents: Path | None
) -> DeliveryHistory:
    """The history of the files given; a file not given contributes nothing."""
    return DeliveryHistory(
        deployments=read_deployments(deployments) if deployments is not None else (),
        changes=read_changes(changes) if changes is not None else (),
        incidents=read_incidents(incidents) if incidents is not None else (),
    )


@dataclass(frozen=True)
class CsvRows:
    """The columns of one delivery file, with what it takes to name a row in an error."""

    file: str
    what: str
    table: Any
    names: dict[str, str]  # field -> the header's name for it
    row_numbers: Any  # file row of each table row, or None: index + 2

    def has(self, field: str) -> bool:
        return field in self.names

    def column(self, field: str) -> Any:
        return self.table.column(self.names[field])

    def row(self, index: int) -> int:
        return int(self.row_numbers[index]) if self.row_numbers is not None else index + 2

    def locate(self, index: int) -> Where:
        return Where(row=self.row(index))

    def error(self, message: str, index: int, field: str) -> ParseError:
        return ParseError(message, file=self.file, row=self.row(index), field=self.names[field])

    def require(self, *fields: str) -> None:
        """Refuse the first row (in file order) with one of ``fields`` empty."""
        found: tuple[int, str] | None = None
        for field in fields:
            index = first_true(blank(self.column(field)))
            if index is not None and (found is None or index < found[0]):
                found = (index, field)
        if found is not None:
            index, field = found
            raise self.error(
                f"{self.names[field]!r} is empty; every {self.what} needs a {field}: fill it "
                "in or remove the row",
                index,
                field,
            )

    def strings(self, field: str) -> list[Any]:
        values: list[Any] = self.column(field).to_pylist()
        return values

    def times(self, field: str) -> list[int | None]:
        """A column of timestamps as microseconds since the epoch, UTC (None where empty)."""
        micros = parse_times(
            self.column(field), file=self.file, field=self.names[field], locate=self.locate
        )
        values: list[int | None] = micros.to_pylist()
        return values

    def unique(self, field: str, ids: Sequence[str]) -> None:
        """Refuse an id given twice, naming both rows."""
        seen: dict[str, int] = {}
        for index, value in enumerate(ids):
            first = seen.setdefault(value, index)
            if first != index:
                raise self.error(
                    f"duplicate {field} {value!r}: rows {self.row(first)} and {self.row(index)} "
                    f"both have it; each {self.what} needs its own id, so remove or renumber one",
                    index,
                    field,
                )


def read_rows(
    path: Path, what: str, required: Sequence[str], optional: Sequence[str] = ()
) -> CsvRows:
    """The columns of a CSV of records (``what``: one record, for messages), read whole and
    bounded by :data:`MAX_FILE_BYTES`; blockers files share it (ingest/blockers.py)."""
    file = str(path)
    path = Path(path)
    check_readable(path, file)
    gzipped = is_gzip(path)
    if not gzipped and path.stat().st_size > MAX_FILE_BYTES:
        raise _too_large(file, what)
    header, delimiter = _header(path, file, required)
    names = _resolve(header, required, optional, file, what)
    include = list(dict.fromkeys(names.values()))
    try:
        table = _read_table(path, file, include, delimiter, None, MAX_FILE_BYTES)
    except TooLarge:
        pa.default_memory_pool().release_unused()
        raise _too_large(file, what) from None
    except (OSError, pa.ArrowException) as error:  # I/O or decompression, not content
        raise ParseError(
            f"cannot read the file ({error}); if it is gzipped, it may be truncated or damaged",
            file=file,
        ) from error
    table, row_numbers = _drop_blank_rows(table, names[required[0]], include)
    return CsvRows(file=file, what=what, table=table, names=names, row_numbers=row_numbers)


def _too_large(file: str, what: str) -> ParseError:
    return ParseError(
        f"the file holds more than {describe_bytes(MAX_FILE_BYTES)}, the most a {what}s file "
        "may hold (decompressed); split it by date and report on each part",
        file=file,
    )


def _header(path: Path, file: str, required: Sequence[str]) -> tuple[list[str], str]:
    """The header's column names and the delimiter, read from the first line only."""
    try:
        head = peek(path).removeprefix(codecs.BOM_UTF8)
    except (OSError, pa.ArrowException) as error:
        raise ParseError(
            f"cannot read the file ({error}); if it is gzipped, it may be truncated or damaged",
            file=file,
        ) from None
    line = head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    if not line.strip():
        raise ParseError(
            "the file is empty or starts with a blank line; the first line must be the header "
            f"({','.join(required)})",
            file=file,
            row=1,
        )
    delimiter = max(_DELIMITERS, key=line.count)
    return next(csv.reader([line], delimiter=delimiter)), delimiter


def _resolve(
    header: list[str], required: Sequence[str], optional: Sequence[str], file: str, what: str
) -> dict[str, str]:
    """Map each field to its header name: an exact name, else the one name that differs only
    in case or surrounding spaces. A missing required column is refused, listing the columns
    found; a missing optional one is left out."""
    loose: dict[str, list[str]] = {}
    for name in header:
        loose.setdefault(name.strip().casefold(), []).append(name)
    names: dict[str, str] = {}
    for field in (*required, *optional):
        similar = loose.get(field, [])
        if field in header:
            names[field] = field
        elif len(similar) == 1:
            names[field] = similar[0]
        elif field in required:
            raise ParseError(
                f"missing required column {field!r}; the columns are: "
                f"{', '.join(map(repr, header))}. A {what}s file needs the columns "
                f"{', '.join(required)}",
                file=file,
                row=1,
                field=field,
            )
    return names


def _moment(micros: int | None) -> datetime:
    assert micros is not None  # required columns were checked for empty values first
    return from_micros(micros)


def _iso(micros: int) -> str:
    return from_micros(micros).isoformat().replace("+00:00", "Z")
