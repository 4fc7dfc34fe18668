"""What the versioned documents of the store (maps, steering records) share: timestamps read
back as UTC, and which fields a new version changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc(moment: datetime) -> datetime:
    """SQLite keeps no offset and PostgreSQL answers in the session's zone; we write UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    """The keys of two flat documents whose values differ, in ``after``'s order, then the
    keys only ``before`` has."""
    keys = [*after, *(k for k in before if k not in after)]
    return tuple(k for k in keys if before.get(k) != after.get(k))


def flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    """A nested document as dotted keys (``key_results.0.target``); lists by position."""
    if isinstance(document, dict):
        items = list(document.items())
    elif isinstance(document, list):
        items = [(str(i), v) for i, v in enumerate(document)]
    else:
        return {prefix: document}
    if not items:
        return {prefix: document} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat
