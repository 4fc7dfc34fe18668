"""Fixtures of the app-store tests: an initialised store on the suite's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from obeya.core.events import EventLog
from obeya.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        opened.initialise()
        yield opened


@pytest.fixture
def small_log() -> EventLog:
    """Two items, every column used once, a null and an empty string among them."""
    return EventLog.from_rows(
        [
            {
                "item_id": "A-1",
                "state": "Backlog",
                "timestamp": "2024-03-01T09:00:00",
                "created": "2024-02-28T08:30:00",
                "type": "Story",
                "title": "Ünïcode title — ✓",
                "team": "Red",
                "assignee": "Zoë",
            },
            {"item_id": "A-1", "state": "Doing", "timestamp": "2024-03-02T10:00:00"},
            {"item_id": "B-2", "state": "Backlog", "timestamp": "2024-03-01T11:00:00", "type": ""},
            {"item_id": "A-1", "state": "Done", "timestamp": "2024-03-05T17:45:00.123456"},
        ],
        source="small.csv",
    )
