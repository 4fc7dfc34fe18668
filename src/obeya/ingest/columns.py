"""Which column (CSV) or attribute key (XES) holds each field of an event."""

from __future__ import annotations

import csv
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
    #: Wide CSV only: the state columns in flow order, comma-separated, each ``header`` or
    #: ``header=State`` (the state's name when it differs from the header). Empty: every
    #: column not taken by another field, left to right.
    state_columns: str = ""

    def is_default(self, name: str) -> bool:
        return bool(getattr(self, name) == _DEFAULTS[name])

    def states(self) -> list[tuple[str, str]]:
        """``state_columns`` as (header, state) pairs; a name with a comma may be quoted."""
        if not self.state_columns.strip():
            return []
        pairs = []
        for entry in next(csv.reader([self.state_columns], skipinitialspace=True)):
            header, _, state = entry.partition("=")
            if header.strip():
                pairs.append((header.strip(), state.strip() or header.strip()))
        return pairs


_DEFAULTS = {f.name: f.default for f in fields(ColumnMap)}

#: Fields every event must have, in the order errors are reported.
REQUIRED = ("item_id", "state", "timestamp")
#: Fields an event may have.
OPTIONAL = ("created", "type", "title", "team", "assignee")
