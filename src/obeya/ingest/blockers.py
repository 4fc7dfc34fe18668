"""Blockers files: when each item was blocked, until when, and why (docs/conventions.md,
"Blocked time").

A CSV with a header (gzipped or not) whose columns are, in any order, with any others ignored,
``item_id, blocked_at, unblocked_at, reason`` and optionally ``blocking_item`` (the item it
waits on) and ``team`` (the team it waits on). ``unblocked_at`` empty: still blocked. The file
is read as the delivery files are (:mod:`obeya.ingest.delivery`: the header is row 1, columns
matched loosely, timestamps as every reader accepts them, at most
:data:`~obeya.ingest.delivery.MAX_FILE_BYTES`), and all of it or nothing: every refusal is a
:class:`~obeya.errors.ParseError` naming the file, the row and the field — a missing column, an
empty ``item_id``, ``blocked_at`` or ``reason``, an unreadable timestamp, an ``unblocked_at``
before its ``blocked_at``, or one blocker given twice (same item, ``blocked_at`` and reason:
both rows named).
"""

from __future__ import annotations

from pathlib import Path

from obeya.core.blockers.model import Blocker, iso
from obeya.ingest.delivery import read_rows

BLOCKER_COLUMNS = ("item_id", "blocked_at", "unblocked_at", "reason")
BLOCKER_OPTIONAL = ("blocking_item", "team")


def read_blockers(path: Path) -> tuple[Blocker, ...]:
    """The blockers of a CSV file, in file order (times in microseconds UTC)."""
    rows = read_rows(Path(path), "blocker", BLOCKER_COLUMNS, BLOCKER_OPTIONAL)
    rows.require("item_id", "blocked_at", "reason")
    blocked = rows.times("blocked_at")
    unblocked = rows.times("unblocked_at")
    for index, (start, end) in enumerate(zip(blocked, unblocked, strict=True)):
        if end is not None and start is not None and end < start:
            raise rows.error(
                f"unblocked_at {iso(end)} is before blocked_at {iso(start)}; a blocker ends "
                "after it begins: check both times (and their zones)",
                index,
                "unblocked_at",
            )
    items = rows.strings("item_id")
    reasons = rows.strings("reason")
    optional = {
        f: rows.strings(f) if rows.has(f) else [None] * len(items) for f in BLOCKER_OPTIONAL
    }
    seen: dict[tuple[str, int, str], int] = {}
    found: list[Blocker] = []
    for index, item in enumerate(items):
        start = blocked[index]
        assert start is not None  # required values were checked first
        blocker = Blocker(
            item_id=item,
            blocked_at=start,
            unblocked_at=unblocked[index],
            reason=reasons[index],
            blocking_item=optional["blocking_item"][index] or None,
            team=optional["team"][index] or None,
        )
        first = seen.setdefault(blocker.key, index)
        if first != index:
            raise rows.error(
                f"item {item!r} blocked at {iso(start)} for {blocker.reason!r} is given twice: "
                f"rows {rows.row(first)} and {rows.row(index)}; remove one (a blocker is "
                "named by its item, its blocked_at and its reason)",
                index,
                "blocked_at",
            )
        found.append(blocker)
    return tuple(found)
