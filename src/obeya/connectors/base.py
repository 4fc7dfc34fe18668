"""What every connector's client gives a sync: the histories changed since the last one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from obeya.core.blockers.model import Blocker
from obeya.core.delivery.records import DeliveryHistory
from obeya.core.events import EventLog
from obeya.core.workflow import Workflow

#: Told what a long sync is doing ("page 3 of issues, 300 read"), for a progress line.
Progress = Callable[[str], None]


@dataclass(frozen=True)
class SyncBatch:
    """One pull from a tracker.

    ``events`` holds the *whole* status history of every item changed since the last sync
    (not only the new events), so storing it as an import would (duplicates ignored) makes a
    repeated or overlapping sync add nothing. ``checkpoint`` is the ``since`` of the next
    pull. ``state_names`` maps the tracker's immutable status ids to the names used in
    ``events`` (Jira), so a renamed status can be renamed in the stored history too.
    ``blockers`` are the changed items' blockers (Jira's Flagged field and "is blocked by"
    links; GitHub's and GitLab's ``blocked_label``), merged by their key like a blockers file.
    """

    events: EventLog
    checkpoint: datetime
    items: int
    delivery: DeliveryHistory = field(default_factory=DeliveryHistory)
    proposed_workflow: Workflow | None = None
    state_names: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    blockers: tuple[Blocker, ...] = ()


class Source(Protocol):
    """A tracker to pull from (:class:`~obeya.connectors.jira.JiraSource`, …)."""

    name: str

    def pull(self, since: datetime | None, progress: Progress | None = None) -> SyncBatch:
        """Every item changed at or after ``since`` (all items when None), with its whole
        history; raises :class:`~obeya.errors.ConnectorError` naming the connector."""
        ...
