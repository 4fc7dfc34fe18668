"""Which column (CSV) or attribute key (XES) holds each field of an event."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ColumnMap:
    """Names of the source columns; a field left at its default means "the standard name".

    For CSV these are header names. For XES they are attribute keys, and a field left at its
    default means the XES standard key instead: ``concept:name`` of the trace (item) and of the
    event (state), ``time:timestamp``, ``org:resource`` (assignee) and ``org:group`` (team).
    """

    item_id: str = "item_id"
    state: str = "state"
    timestamp: str = "timestamp"
    type: str = "type"
    title: str = "title"
    team: str = "team"
    assignee: str = "assignee"
    created: str = "created"

    def is_default(self, name: str) -> bool:
        return bool(getattr(self, name) == _DEFAULTS[name])


_DEFAULTS = {f.name: f.default for f in fields(ColumnMap)}

#: Fields every event must have, in the order errors are reported.
REQUIRED = ("item_id", "state", "timestamp")
#: Fields an event may have.
OPTIONAL = ("created", "type", "title", "team", "assignee")
