from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from obeya.core.events import EVENT_SCHEMA, to_micros
from obeya.errors import ParseError
from obeya.ingest import detect_format, read_events

Write = Callable[..., Path]


def micros(text: str) -> int:
    return to_micros(datetime.fromisoformat(text))


def change(ident: str, created: str, source: str, target: str) -> dict[str, Any]:
    return {
        "id": ident,
        "created": created,
        "author": {"displayName": "Someone"},
        "items": [
            {"field": "assignee", "fromString": None, "toString": "Ann"},
            {
                "field": "status",
                "fieldtype": "jira",
                "from": "1",
                "fromString": source,
                "to": "3",
                "toString": target,
            },
        ],
    }


def issue(
    key: str, created: str, status: str, histories: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    return {
        "id": "1" + key[-1],
        "key": key,
        "fields": {
            "created": created,
            "issuetype": {"name": fields.get("type", "Story")},
            "summary": fields.get("summary", f"Summary of {key}"),
            "status": {"name": status},
            "assignee": fields.get("assignee", {"displayName": "Ann Smith"}),
        },
        "changelog": {
            "startAt": 0,
            "maxResults": 100,
            "total": len(histories),
            "histories": histories,
        },
    }


def page(*issues: dict[str, Any]) -> dict[str, Any]:
    return {"startAt": 0, "maxResults": 50, "total": len(issues), "issues": list(issues)}


NEWEST_FIRST = issue(
    "PRJ-1",
    "2024-01-15T10:20:30.000+0100",
    "Done",
    [
        change("10003", "2024-01-18T09:00:00.000+0100", "In Progress", "Done"),
        change("10002", "2024-01-16T09:00:00.000+0100", "To Do", "In Progress"),
    ],
)
UNCHANGED = issue("PRJ-2", "2024-01-17T08:00:00.000+0000", "To Do", [], assignee=None, type="Bug")


def test_reads_issues_and_sorts_changelog(write: Write) -> None:
    path = write("search.json", json.dumps(page(NEWEST_FIRST, UNCHANGED)))
    assert detect_format(path) == "jira"
    log = read_events(path)
    assert log.table.schema == EVENT_SCHEMA
    rows = log.table.to_pylist()
    assert [(r["item_id"], r["state"], r["seq"]) for r in rows] == [
        ("PRJ-1", "To Do", 0),
        ("PRJ-1", "In Progress", 1),
        ("PRJ-1", "Done", 2),
        ("PRJ-2", "To Do", 3),
    ]
    assert [r["t"] for r in rows] == [
        micros("2024-01-15T09:20:30+00:00"),
        micros("2024-01-16T08:00:00+00:00"),
        micros("2024-01-18T08:00:00+00:00"),
        micros("2024-01-17T08:00:00+00:00"),
    ]
    assert [r["created"] for r in rows] == [micros("2024-01-15T09:20:30+00:00")] * 3 + [
        micros("2024-01-17T08:00:00+00:00")
    ]
    assert [r["type"] for r in rows] == ["Story", "Story", "Story", "Bug"]
    assert [r["title"] for r in rows] == ["Summary of PRJ-1"] * 3 + ["Summary of PRJ-2"]
    assert [r["assignee"] for r in rows] == ["Ann Smith"] * 3 + [None]


def test_list_of_pages_and_gzip(write: Write) -> None:
    text = json.dumps([page(NEWEST_FIRST), page(UNCHANGED)], indent=2)
    log = read_events(write("pages.json.gz", text, gz=True))
    assert log.item_ids() == ["PRJ-1", "PRJ-2"]
    assert log.num_events == 4


def test_changes_at_the_same_time_sort_by_history_id(write: Write) -> None:
    at = "2024-01-16T09:00:00.000+0000"
    histories = [change("10010", at, "Review", "Done"), change("9999", at, "To Do", "Review")]
    text = json.dumps(page(issue("PRJ-3", "2024-01-15T00:00:00.000+0000", "Done", histories)))
    log = read_events(write("tie.json", text))
    assert log.states() == ["To Do", "Review", "Done"]
    assert log.table.column("seq").to_pylist() == [0, 1, 2]


# --- bad input ---------------------------------------------------------------------------


def test_malformed_json_names_line(write: Write) -> None:
    text = json.dumps(page(NEWEST_FIRST), indent=2)
    broken = text.replace('"key": "PRJ-1",', '"key": "PRJ-1"', 1)
    path = write("broken.json", broken)
    with pytest.raises(ParseError) as caught:
        read_events(path)
    error = caught.value
    assert error.file == str(path)
    line = next(i for i, s in enumerate(broken.splitlines(), 1) if '"key": "PRJ-1"' in s)
    assert error.row == line + 1
    assert f"line {line + 1}, column" in str(error)


def test_issue_without_key(write: Write) -> None:
    bad = dict(UNCHANGED)
    del bad["key"]
    with pytest.raises(ParseError) as caught:
        read_events(write("nokey.json", json.dumps(page(NEWEST_FIRST, bad))))
    assert (caught.value.element, caught.value.field) == ("issue #2", "key")


def test_issue_without_created(write: Write) -> None:
    bad = json.loads(json.dumps(UNCHANGED))
    del bad["fields"]["created"]
    with pytest.raises(ParseError) as caught:
        read_events(write("nocreated.json", json.dumps(page(bad))))
    assert (caught.value.element, caught.value.field) == ("issue PRJ-2", "fields.created")


def test_bad_history_timestamp(write: Write) -> None:
    bad = issue("PRJ-9", "2024-01-15T00:00:00.000+0000", "Done", [change("7", "soon", "A", "B")])
    with pytest.raises(ParseError) as caught:
        read_events(write("badts.json", json.dumps(page(bad))))
    assert (caught.value.element, caught.value.field) == ("issue PRJ-9 history 7", "created")
    assert "'soon'" in str(caught.value)


def test_not_a_search_result(write: Write) -> None:
    with pytest.raises(ParseError, match="rest/api/2/search"):
        read_events(write("other.json", json.dumps({"values": []})))


def test_no_issues(write: Write) -> None:
    with pytest.raises(ParseError, match="no issues"):
        read_events(write("none.json", json.dumps(page())))


def test_duplicate_events(write: Write) -> None:
    at = "2024-01-16T09:00:00.000+0000"
    histories = [change("1", at, "To Do", "Done"), change("2", at, "Done", "Done")]
    text = json.dumps(page(issue("PRJ-5", "2024-01-15T00:00:00.000+0000", "Done", histories)))
    with pytest.raises(ParseError) as caught:
        read_events(write("dup.json", text))
    assert caught.value.element == "issue PRJ-5 history 2"
    assert "issue PRJ-5 history 1" in str(caught.value)


def test_plain_list_of_issues(write: Write) -> None:
    log = read_events(write("issues.json", json.dumps([NEWEST_FIRST, UNCHANGED])))
    assert log.num_events == 4
