"""Readers that turn a user's file into an :class:`~obeya.core.events.EventLog`.

Four formats, each optionally gzipped (recognised by its magic bytes): CSV (one row per state
entry), wide CSV (one row per item, a time column per state; asked for, never detected), IEEE
XES, and Jira issue-search JSON with changelogs. Every reader ends with the same
checks (required values present, timestamps readable, no duplicate events), and every refusal is
a :class:`~obeya.errors.ParseError` naming the file and, as precisely as the format allows, the
row (a CSV record with the header as row 1; a line for XML and JSON), the element and the field.
What a file may grow into is bounded by :class:`~obeya.ingest.limits.IngestLimits`: the bytes a
gzip stream inflates to (counted while it streams), the events of one item, the copies of one
event, and the span of times (:data:`~obeya.core.events.SUPPORTED_SPAN`). Events that go
backwards in time are kept with a warning (``EventLog.warnings``), or refused with ``strict``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from obeya.errors import ParseError
from obeya.ingest.columns import ColumnMap

# The readers load pyarrow, DuckDB and numpy: imported by read_events, so that what needs
# only ColumnMap (every command's options, at `obeya --help`) starts fast.
if TYPE_CHECKING:
    from obeya.core.events import EventLog
    from obeya.ingest.limits import IngestLimits
    from obeya.ingest.sources import FORMATS, Progress, detect_format

__all__ = ["FORMATS", "ColumnMap", "IngestLimits", "detect_format", "read_events"]

_ALIASES = {"json": "jira", "xes.gz": "xes", "csv.gz": "csv"}


def read_events(
    path: str | Path,
    *,
    format: str | None = None,
    columns: ColumnMap | None = None,
    progress: Callable[[int, int], None] | None = None,
    limits: IngestLimits | None = None,
    strict: bool = False,
) -> EventLog:
    """Read ``path`` into an event log; ``format`` (csv, wide, xes, jira) is detected when
    omitted (a wide CSV must be asked for: it looks like any CSV).

    ``progress(done_bytes, total_bytes)`` is called at the start, now and then while a large
    file is read (possibly from a reader thread), and at the end. ``limits``: the limits in
    force (default: :func:`~obeya.ingest.limits.current_limits`). Events that go backwards in
    time are kept and listed in ``EventLog.warnings``; ``strict`` refuses them (ParseError).
    """
    import pyarrow as pa

    from obeya.ingest.common import BACKWARDS, refuse_backwards
    from obeya.ingest.csv_reader import read_csv
    from obeya.ingest.jira_reader import read_jira
    from obeya.ingest.limits import IngestLimits, TooLarge, current_limits, describe_bytes
    from obeya.ingest.sources import ACCEPTED, check_readable, detect_format
    from obeya.ingest.wide_reader import read_wide
    from obeya.ingest.xes_reader import read_xes

    readers = {"csv": read_csv, "wide": read_wide, "xes": read_xes, "jira": read_jira}
    limits = limits or current_limits()
    file = str(path)
    path = Path(path)
    check_readable(path, file)
    if format is None:
        kind = detect_format(path)
    else:
        kind = _ALIASES.get(format.lower(), format.lower())
        if kind not in readers:
            raise ParseError(f"unknown format {format!r}; {ACCEPTED}", file=file)
    if columns is not None and columns.state_columns.strip() and kind != "wide":
        raise ParseError(
            "state columns are for a wide CSV ({opt:format} wide); a "
            f"{kind} file has its states in its events",
            file=file,
        )
    total = path.stat().st_size
    _report(progress, 0, total)
    try:
        log = readers[kind](path, file, columns or ColumnMap(), progress, limits)
    except TooLarge as error:
        pa.default_memory_pool().release_unused()  # give back what the partial read took
        raise ParseError(
            f"the file decompresses to more than {describe_bytes(error.limit)}, the limit on "
            f"decompressed content ({IngestLimits.variable('max_decompressed_bytes')}); "
            "import it in parts, or raise the limit if the file is genuine",
            file=file,
        ) from None
    except (OSError, pa.ArrowException) as error:  # I/O or decompression, not content
        raise ParseError(
            f"cannot read the file ({error}); if it is gzipped, it may be truncated or damaged",
            file=file,
        ) from error
    _report(progress, total, total)
    if strict:
        for warning in log.warnings:
            if warning.kind == BACKWARDS:
                raise refuse_backwards(warning, file=file)
    return log


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def __getattr__(name: str) -> Any:
    """``FORMATS``, ``IngestLimits`` and ``detect_format``, imported on first use (above)."""
    if name in ("FORMATS", "detect_format"):
        from obeya.ingest import sources

        return getattr(sources, name)
    if name == "IngestLimits":
        from obeya.ingest.limits import IngestLimits

        return IngestLimits
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
