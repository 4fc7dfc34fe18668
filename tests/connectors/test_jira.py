"""The Jira connector's client against the fake Jira and hand-written recordings.

Times in the expectations are UTC; the fake writes them in the account's zone (Jira's
``2024-01-05T10:00:00.000+0100``), so each expectation also checks the zone arithmetic.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from connectors import jira_recordings as rec
from connectors.fake_jira import Change, Edit, FakeJira, Issue, Status, micros, serve
from obeya.connectors.base import SyncBatch
from obeya.connectors.jira import JiraConfig, JiraSource, jql_time, search_jql, strip_order_by
from obeya.core.events import EVENT_SCHEMA, EventLog, from_micros
from obeya.core.metrics.engine import analyse_log
from obeya.errors import ConnectorError, InputError
from obeya.ingest import read_events

TOKEN = "s3cret-T0KEN-never-shown"
EMAIL = "ann@example.com"
URL = "https://example.atlassian.net"
SEARCH = "/rest/api/3/search/jql"
NOW = datetime(2024, 12, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fake_jira(issues: list[Issue], **options: Any) -> FakeJira:
    options.setdefault("time_zone", "Europe/Berlin")
    return FakeJira(issues, token=TOKEN, email=EMAIL, **options)


def source(
    fake: FakeJira | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    waits: list[float] | None = None,
    clock: datetime = NOW,
    **settings: Any,
) -> JiraSource:
    cloud = fake.cloud if fake is not None else True
    values: dict[str, Any] = {
        "name": "pay",
        "url": URL,
        "jql": "project = PAY",
        "email": EMAIL if cloud else None,
        "token": TOKEN,
    }
    values.update(settings)
    sleep: Callable[[float], None] = waits.append if waits is not None else _no_sleep
    return JiraSource(
        JiraConfig(**values),
        transport=transport or (fake.transport() if fake else None),
        sleep=sleep,
        clock=lambda: clock,
    )


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected wait of {seconds} s")


def rows(batch: SyncBatch) -> list[tuple[str, str, str]]:
    """(item, state, UTC time to the minute) per event, in the log's order."""
    table = batch.events.table
    return [
        (item, state, from_micros(t).strftime("%Y-%m-%d %H:%M"))
        for item, state, t in zip(
            table.column("item_id").to_pylist(),
            table.column("state").to_pylist(),
            table.column("t").to_pylist(),
            strict=True,
        )
    ]


def searches(fake: FakeJira, path: str = SEARCH) -> list[dict[str, str]]:
    return [seen.params for seen in fake.requests if seen.path == path]


# -- events ---------------------------------------------------------------------------------------


def test_an_issue_becomes_its_creation_then_each_status_change() -> None:
    fake = fake_jira(
        [
            Issue(
                "PAY-1",
                "2024-01-05T09:00",
                [Change("2024-01-06T10:00", "In Progress"), Change("2024-01-08T16:30", "Done")],
                summary="Pay the invoices",
                type="Bug",
            ),
            # summer time: the fake writes +0200; milliseconds survive
            Issue("PAY-2", "2024-07-01T07:15:30.250", [], assignee=None),
        ]
    )
    batch = source(fake).pull(None)
    assert rows(batch) == [
        ("10000", "To Do", "2024-01-05 09:00"),
        ("10000", "In Progress", "2024-01-06 10:00"),
        ("10000", "Done", "2024-01-08 16:30"),
        ("10001", "To Do", "2024-07-01 07:15"),
    ]
    table = batch.events.table
    assert table.schema == EVENT_SCHEMA
    assert table.column("t").to_pylist()[3] == micros("2024-07-01T07:15:30.250")
    assert table.column("seq").to_pylist() == [0, 1, 2, 3]
    assert table.column("created").to_pylist() == [micros("2024-01-05T09:00")] * 3 + [
        micros("2024-07-01T07:15:30.250")
    ]
    assert table.column("title").to_pylist() == ["PAY-1 Pay the invoices"] * 3 + [
        "PAY-2 Summary of PAY-2"
    ]
    assert table.column("type").to_pylist() == ["Bug"] * 3 + ["Story"]
    assert table.column("assignee").to_pylist() == ["Ann Smith"] * 3 + [None]
    assert batch.items == 2
    assert batch.state_names == {"1": "To Do", "3": "In Progress", "10001": "Done"}
    assert batch.notes == ()
    # what was asked: the zone, the statuses, then one search with explicit fields
    assert [seen.path for seen in fake.requests] == [
        "/rest/api/3/myself",
        "/rest/api/3/status",
        SEARCH,
    ]
    assert searches(fake) == [
        {
            "jql": "(project = PAY) ORDER BY updated ASC",
            "maxResults": "100",
            "fields": "summary,status,issuetype,created,updated,assignee,project,"
            "statuscategorychangedate,issuelinks",
            "expand": "changelog",
        }
    ]


def test_a_recorded_page_histories_sorted_by_time_then_id() -> None:
    """A page written out as Jira sends it: histories newest first, a non-status item, a
    history changing two fields, and two status changes in the same second (ids decide)."""
    author = rec.user("Bob Jones", cloud=True, base=URL, time_zone="UTC")
    status = rec.status("10001", "Done", "done", cloud=True, base=URL)
    histories = [
        rec.history(
            "20003",
            "2024-02-03T12:00:00.000+0000",
            [rec.status_item("3", "In Progress", "10001", "Done", cloud=True)],
            author,
        ),
        rec.history(
            "20002",
            "2024-02-02T08:00:00.000+0000",
            [rec.status_item("10001", "Done", "3", "In Progress", cloud=True)],
            author,
        ),
        rec.history(
            "20001",
            "2024-02-02T08:00:00.000+0000",
            [
                rec.field_item("resolution", None, "Done", cloud=True),
                rec.status_item("3", "In Progress", "10001", "Done", cloud=True),
            ],
            author,
        ),
        rec.history(
            "20000",
            "2024-02-01T09:30:00.000+0000",
            [rec.field_item("assignee", None, "Bob Jones", cloud=True)],
            author,
        ),
        rec.history(
            "19999",
            "2024-02-01T09:00:00.000+0000",
            [rec.status_item("1", "To Do", "3", "In Progress", cloud=True)],
            author,
        ),
    ]
    fields = {
        "summary": "Refund twice",
        "status": status,
        "issuetype": rec.issue_type("Bug", cloud=True, base=URL),
        "created": "2024-01-31T17:00:00.000+0000",
        "updated": "2024-02-03T12:00:00.000+0000",
        "statuscategorychangedate": "2024-02-03T12:00:00.000+0000",
        "assignee": author,
        "project": rec.project("PAY", cloud=True, base=URL),
    }
    page = rec.search_page_cloud(
        [
            rec.issue(
                "10042",
                "PAY-42",
                fields,
                cloud=True,
                base=URL,
                changelog=rec.embedded_changelog(histories, len(histories)),
            )
        ],
        None,
    )
    answers = {
        "/rest/api/3/myself": rec.myself("Bob", EMAIL, cloud=True, base=URL, time_zone="UTC"),
        "/rest/api/3/status": [
            rec.status("1", "To Do", "new", cloud=True, base=URL),
            rec.status("3", "In Progress", "indeterminate", cloud=True, base=URL),
            status,
        ],
        SEARCH: page,
    }

    def replay(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.path])

    batch = source(transport=httpx.MockTransport(replay)).pull(None)
    assert rows(batch) == [
        ("10042", "To Do", "2024-01-31 17:00"),
        ("10042", "In Progress", "2024-02-01 09:00"),
        ("10042", "Done", "2024-02-02 08:00"),  # history 20001 before 20002: same second
        ("10042", "In Progress", "2024-02-02 08:00"),
        ("10042", "Done", "2024-02-03 12:00"),
    ]
    assert batch.events.table.column("assignee").to_pylist() == ["Bob Jones"] * 5


def test_an_issue_met_twice_counts_once_with_its_later_copy() -> None:
    """Updated while the sync paged, an issue comes again on a later page: the last wins."""
    fake = fake_jira([Issue("PAY-1", "2024-01-01T09:00"), Issue("PAY-2", "2024-01-02T09:00")])
    first = fake.document(fake.issues[0], None)
    fake.issues[0].changes.append(Change("2024-01-03T09:00", "In Progress"))
    again = fake.document(fake.issues[0], None)
    second = fake.document(fake.issues[1], None)
    pages = {
        "": rec.search_page_cloud([first, second], "next"),
        "next": rec.search_page_cloud([again], None),
    }

    def replay(request: httpx.Request) -> httpx.Response:
        if request.url.path == SEARCH:
            return httpx.Response(200, json=pages[request.url.params.get("nextPageToken", "")])
        return fake.handle(request)

    batch = source(transport=httpx.MockTransport(replay)).pull(None)
    assert batch.items == 2
    assert rows(batch) == [
        ("10001", "To Do", "2024-01-02 09:00"),
        ("10000", "To Do", "2024-01-01 09:00"),
        ("10000", "In Progress", "2024-01-03 09:00"),
    ]


# -- paging ----------------------------------------------------------------------------------------


def five_issues() -> list[Issue]:
    """PAY-1..5 created on January 1..5 at 09:00, each moved to In Progress a day later."""
    return [
        Issue(f"PAY-{n}", f"2024-01-0{n}T09:00", [Change(f"2024-01-0{n + 1}T09:00", "3")])
        for n in range(1, 6)
    ]


def test_cloud_pages_follow_next_page_token() -> None:
    fake = fake_jira(five_issues())
    told: list[str] = []
    batch = source(fake, page_size=2).pull(None, told.append)
    asked = searches(fake)
    assert [p.get("nextPageToken") for p in asked] == [
        None,
        base64.urlsafe_b64encode(b"2").decode(),
        base64.urlsafe_b64encode(b"4").decode(),
    ]
    assert {p["maxResults"] for p in asked} == {"2"}
    assert told == ["2 issues read", "4 issues read", "5 issues read"]
    assert batch.items == 5
    assert batch.events.item_ids() == ["10000", "10001", "10002", "10003", "10004"]
    assert batch.events.num_events == 10


def test_data_center_pages_by_start_at_and_uses_a_bearer_token() -> None:
    fake = fake_jira(five_issues(), cloud=False, max_results=2)
    batch = source(fake, page_size=3).pull(None)  # Jira gives 2 a page, whatever is asked
    assert [seen.path for seen in fake.requests][:2] == ["/rest/api/2/myself", "/rest/api/2/status"]
    asked = searches(fake, "/rest/api/2/search")
    assert [p["startAt"] for p in asked] == ["0", "2", "4"]
    assert {p["expand"] for p in asked} == {"changelog"}
    assert batch.items == 5
    assert batch.events.num_events == 10


def test_a_truncated_cloud_changelog_is_fetched_whole() -> None:
    # 150 changes, one an hour: odd ones to In Progress, even ones back to To Do. The search
    # embeds 40 of them; the changelog resource gives 100, then 50.
    changes: list[Change | Edit] = [
        Change(micros("2024-03-01T00:00") + k * 3_600_000_000, "3" if k % 2 else "1")
        for k in range(1, 151)
    ]
    fake = fake_jira([Issue("PAY-1", "2024-03-01T00:00", changes)])
    batch = source(fake).pull(None)
    assert searches(fake, "/rest/api/3/issue/10000/changelog") == [
        {"startAt": "0", "maxResults": "100"},
        {"startAt": "100", "maxResults": "100"},
    ]
    events = rows(batch)
    assert len(events) == 151
    assert events[:3] == [
        ("10000", "To Do", "2024-03-01 00:00"),
        ("10000", "In Progress", "2024-03-01 01:00"),
        ("10000", "To Do", "2024-03-01 02:00"),
    ]
    # change 150 is at hour 150 = 6 days 6 hours later, back to To Do (even)
    assert events[-1] == ("10000", "To Do", "2024-03-07 06:00")
    assert batch.notes == (  # the history is whole: no note of missing changes
        "no issue reached a status of Jira's done category, so no workflow is proposed; write one",
    )


def test_a_truncated_data_center_changelog_comes_with_the_issue() -> None:
    changes: list[Change | Edit] = [
        Change(f"2024-03-0{k}T12:00", "3" if k % 2 else "1") for k in range(2, 9)
    ]
    fake = fake_jira(
        [Issue("PAY-1", "2024-03-01T12:00", changes)], cloud=False, embedded_histories=5
    )
    batch = source(fake).pull(None)
    assert searches(fake, "/rest/api/2/issue/10000") == [
        {"expand": "changelog", "fields": "status"}
    ]
    # created in To Do; then March 2 (even) To Do, 3 In Progress, 4 To Do, … 8 To Do
    assert [state for _, state, _ in rows(batch)] == ["To Do", "To Do"] + [
        "In Progress",
        "To Do",
    ] * 3


def test_a_search_without_changelogs_has_them_fetched() -> None:
    fake = fake_jira([Issue("PAY-1", "2024-01-01T09:00", [Change("2024-01-02T09:00", "3")])])

    def without(request: httpx.Request) -> httpx.Response:
        answer = fake.handle(request)
        if request.url.path != SEARCH:
            return answer
        page = answer.json()
        for issue in page["issues"]:
            del issue["changelog"]
        return httpx.Response(200, json=page)

    batch = source(transport=httpx.MockTransport(without)).pull(None)
    assert searches(fake, "/rest/api/3/issue/10000/changelog") == [
        {"startAt": "0", "maxResults": "100"}
    ]
    assert rows(batch) == [
        ("10000", "To Do", "2024-01-01 09:00"),
        ("10000", "In Progress", "2024-01-02 09:00"),
    ]


def test_a_first_change_without_from_starts_in_its_target() -> None:
    fake = fake_jira([Issue("PAY-1", "2024-01-01T09:00", [Change("2024-01-02T09:00", "3")])])

    def fromless(request: httpx.Request) -> httpx.Response:
        answer = fake.handle(request)
        if request.url.path != SEARCH:
            return answer
        page = answer.json()
        item = page["issues"][0]["changelog"]["histories"][0]["items"][0]
        item["from"] = item["fromString"] = None
        return httpx.Response(200, json=page)

    batch = source(transport=httpx.MockTransport(fromless)).pull(None)
    assert rows(batch) == [
        ("10000", "In Progress", "2024-01-01 09:00"),
        ("10000", "In Progress", "2024-01-02 09:00"),
    ]
    assert batch.notes[0] == (
        "PAY-1: its first status change names no 'from' status, so its history starts in "
        "In Progress at its creation"
    )


# -- statuses --------------------------------------------------------------------------------------


def test_a_renamed_status_keeps_todays_name_and_a_deleted_one_its_changelog_name() -> None:
    statuses = [
        Status("1", "Backlog", "new"),  # was "To Do"
        Status("3", "Doing", "indeterminate"),  # was "In Progress"
        Status("10001", "Done", "done"),
    ]
    fake = fake_jira(
        [
            Issue(
                "PAY-1",
                "2024-01-01T09:00",
                [
                    Change("2024-01-02T09:00", "3", from_name="To Do", to_name="In Progress"),
                    Change("2024-01-03T09:00", "10050", to_name="QA"),  # since deleted
                    Change("2024-01-04T09:00", "10001"),
                ],
            )
        ],
        statuses=statuses,
    )
    batch = source(fake).pull(None)
    assert [state for _, state, _ in rows(batch)] == ["Backlog", "Doing", "QA", "Done"]
    assert batch.state_names == {"1": "Backlog", "3": "Doing", "10050": "QA", "10001": "Done"}
    workflow = batch.proposed_workflow
    assert workflow is not None
    assert (workflow.backlog, workflow.active, workflow.done) == (
        ("Backlog",),
        ("Doing",),
        ("Done",),
    )
    assert batch.notes == (
        "status 'QA' has no known category in Jira, so the proposed workflow leaves it out; "
        "give it one in the workflow",
    )


def test_a_moved_issue_stays_one_item_under_its_new_key() -> None:
    issue = Issue(
        "PAY-7",
        "2024-01-01T09:00",
        [Change("2024-01-02T09:00", "In Progress")],
        id="10007",
        summary="Fix the invoice total",
    )
    fake = fake_jira([issue])
    pull = source(fake, jql="project in (PAY, OPS)")
    before = pull.pull(None)
    issue.key = "OPS-3"
    issue.changes += [
        Edit("2024-01-05T09:00", "Key", "PAY-7", "OPS-3"),
        Edit("2024-01-05T09:00", "project", "Payments", "Operations"),
        Change("2024-01-06T09:00", "Done"),
    ]
    after = pull.pull(before.checkpoint)
    assert rows(before) == [
        ("10007", "To Do", "2024-01-01 09:00"),
        ("10007", "In Progress", "2024-01-02 09:00"),
    ]
    assert rows(after) == [*rows(before), ("10007", "Done", "2024-01-06 09:00")]
    assert set(before.events.table.column("title").to_pylist()) == {"PAY-7 Fix the invoice total"}
    assert set(after.events.table.column("title").to_pylist()) == {"OPS-3 Fix the invoice total"}
    assert after.items == 1


def test_the_status_of_the_issue_closes_a_history_that_ends_elsewhere() -> None:
    fake = fake_jira(
        [
            # at statuscategorychangedate
            Issue(
                "PAY-1",
                "2024-01-01T09:00",
                [Change("2024-01-02T09:00", "In Progress")],
                status="Done",
                status_changed="2024-01-09T15:00",
                updated="2024-01-10T08:00",
            ),
            # no statuscategorychangedate: at updated
            Issue(
                "PAY-2",
                "2024-01-01T09:00",
                [Change("2024-01-02T09:00", "In Progress")],
                status="To Do",
                updated="2024-01-04T12:00",
            ),
            # a date before the last change: at the last change, so the history ends right
            Issue(
                "PAY-3",
                "2024-01-01T09:00",
                [Change("2024-01-05T10:00", "In Progress")],
                status="Done",
                status_changed="2024-01-03T00:00",
            ),
        ]
    )
    batch = source(fake).pull(None)
    assert rows(batch) == [  # in the order asked: by updated
        ("10001", "To Do", "2024-01-01 09:00"),
        ("10001", "In Progress", "2024-01-02 09:00"),
        ("10001", "To Do", "2024-01-04 12:00"),
        ("10002", "To Do", "2024-01-01 09:00"),
        ("10002", "In Progress", "2024-01-05 10:00"),
        ("10002", "Done", "2024-01-05 10:00"),
        ("10000", "To Do", "2024-01-01 09:00"),
        ("10000", "In Progress", "2024-01-02 09:00"),
        ("10000", "Done", "2024-01-09 15:00"),
    ]
    assert batch.notes == (
        "PAY-2: history ended in In Progress but the issue is in To Do; an event in To Do was "
        "added at 2024-01-04 12:00 UTC",
        "PAY-3: history ended in In Progress but the issue is in Done; an event in Done was "
        "added at 2024-01-05 10:00 UTC",
        "PAY-1: history ended in In Progress but the issue is in Done; an event in Done was "
        "added at 2024-01-09 15:00 UTC",
    )


def test_notes_are_capped() -> None:
    # 25 issues whose history ends in In Progress while they are Done: 25 notes
    fake = fake_jira(
        [
            Issue(f"PAY-{n}", "2024-01-01T09:00", [Change("2024-01-02T09:00", "3")], status="Done")
            for n in range(1, 26)
        ]
    )
    notes = source(fake).pull(None).notes
    assert len(notes) == 21
    assert notes[0].startswith("PAY-1: history ended in In Progress")
    assert notes[19].startswith("PAY-20: ")
    assert notes[-1] == "… and 5 more notes"


def test_the_proposed_workflow_by_category_then_first_appearance() -> None:
    statuses = [
        Status("1", "To Do", "new"),
        Status("3", "In Progress", "indeterminate"),
        Status("4", "In Review", "indeterminate"),
        Status("5", "Blocked", "indeterminate"),  # never reached: not proposed
        Status("10001", "Done", "done"),
        Status("10002", "Won't Do", "done"),
    ]
    fake = fake_jira(
        [
            Issue(
                "PAY-1",
                "2024-01-01T09:00",
                [
                    Change("2024-01-02T09:00", "Won't Do"),
                ],
            ),
            Issue(
                "PAY-2",
                "2024-01-01T10:00",
                [
                    Change("2024-01-02T09:00", "In Review"),
                    Change("2024-01-03T09:00", "In Progress"),
                    Change("2024-01-04T09:00", "Done"),
                ],
            ),
        ],
        statuses=statuses,
    )
    workflow = source(fake).pull(None).proposed_workflow
    assert workflow is not None
    assert workflow.backlog == ("To Do",)
    assert workflow.active == ("In Review", "In Progress")
    assert workflow.waiting == ()
    assert workflow.done == ("Won't Do", "Done")
    assert workflow.order == ("To Do", "In Review", "In Progress", "Won't Do", "Done")


def test_no_workflow_without_statuses_or_without_a_done_one() -> None:
    empty = source(fake_jira([])).pull(None)
    assert empty.proposed_workflow is None
    assert empty.items == 0 and empty.events.num_events == 0
    undone = source(fake_jira([Issue("PAY-1", "2024-01-01T09:00")])).pull(None)
    assert undone.proposed_workflow is None
    assert undone.notes == (
        "no issue reached a status of Jira's done category, so no workflow is proposed; write one",
    )


# -- incremental pulls and the time zone -----------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "literal"),
    [
        # 12:00Z less 10 minutes = 11:50Z; Kolkata is UTC+05:30
        ("Asia/Kolkata", "2024/03/10 17:20"),
        # Los Angeles moved to PDT (UTC-7) at 10:00Z that very day: 11:50Z is 04:50 PDT
        ("America/Los_Angeles", "2024/03/10 04:50"),
    ],
)
def test_since_is_written_in_the_accounts_time_zone(zone: str, literal: str) -> None:
    fake = fake_jira(
        [
            Issue("PAY-1", "2024-03-01T09:00", updated="2024-03-10T11:45"),  # before: skipped
            Issue("PAY-2", "2024-03-01T09:00", updated="2024-03-10T11:55"),  # in the overlap
            Issue("PAY-3", "2024-03-01T09:00", updated="2024-03-10T12:30"),
        ],
        time_zone=zone,
    )
    batch = source(fake, jql="project = PAY ORDER BY created DESC").pull(at("2024-03-10T12:00"))
    assert [p["jql"] for p in searches(fake)] == [
        f'(project = PAY) AND updated >= "{literal}" ORDER BY updated ASC'
    ]
    assert batch.events.item_ids() == ["10001", "10002"]
    assert batch.checkpoint == at("2024-03-10T12:30")


def test_jql_time_in_the_hour_a_clock_goes_back() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 00:30Z is 02:30 CEST; "02:30" could be read as 02:30 CET (01:30Z), later than asked,
    # and so could "02:00" (01:00Z): the first safe minute is 01:30 CEST (23:30Z)
    assert jql_time(at("2024-10-27T00:30"), berlin) == "2024/10/27 01:30"
    # 01:30Z is 02:30 CET, the second 02:30: either reading is at or before it
    assert jql_time(at("2024-10-27T01:30"), berlin) == "2024/10/27 02:30"
    # seconds are floored to the minute
    assert jql_time(at("2024-01-15T08:59:59"), berlin) == "2024/01/15 09:59"
    # a zone /myself does not give: UTC 12 hours early, safe in any zone
    assert jql_time(at("2024-03-10T11:50"), None) == "2024/03/09 23:50"


def test_an_unknown_account_zone_reads_twelve_hours_early() -> None:
    fake = fake_jira([Issue("PAY-1", "2024-03-01T09:00", updated="2024-03-10T03:00")])
    answers = fake.handle

    def no_zone(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/myself"):
            return httpx.Response(200, json={"accountId": "x", "timeZone": None})
        return answers(request)

    batch = source(transport=httpx.MockTransport(no_zone)).pull(at("2024-03-10T12:00"))
    assert [p["jql"] for p in searches(fake)] == [
        '(project = PAY) AND updated >= "2024/03/09 23:50" ORDER BY updated ASC'
    ]
    assert batch.items == 1
    assert batch.notes[0].startswith("the account's time zone (None) is unknown here")


def test_the_users_order_by_is_dropped() -> None:
    assert strip_order_by("project = PAY ORDER BY created DESC") == "project = PAY"
    assert strip_order_by('summary ~ "order by" AND project = PAY order by rank') == (
        'summary ~ "order by" AND project = PAY'
    )
    assert strip_order_by("project = BORDER") == "project = BORDER"
    assert search_jql("ORDER BY rank", None, 10, None) == "ORDER BY updated ASC"


def test_the_checkpoint() -> None:
    issues = [
        Issue("PAY-1", "2024-01-05T09:00", [Change("2024-01-08T16:30", "In Progress")]),
        Issue("PAY-2", "2024-01-05T09:00", updated="2024-01-09T10:00"),
    ]
    # the latest updated seen
    assert source(fake_jira(issues)).pull(None).checkpoint == at("2024-01-09T10:00")
    # never later than the start of the pull (Jira's clock ahead of ours)
    early = at("2024-01-09T09:00")
    assert source(fake_jira(issues), clock=early).pull(None).checkpoint == early
    # nothing changed since: since itself
    since = at("2024-02-01T00:00")
    assert source(fake_jira(issues)).pull(since).checkpoint == since
    # only issues in the overlap: since, not earlier
    since = at("2024-01-09T10:05")
    batch = source(fake_jira(issues)).pull(since)
    assert batch.items == 1
    assert batch.checkpoint == since
    # nothing at all, ever: the start of the pull
    assert source(fake_jira([])).pull(None).checkpoint == NOW


# -- errors ----------------------------------------------------------------------------------------


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    fake = fake_jira(five_issues())
    fake.fail(SEARCH, 429, headers={"Retry-After": "3"}, body=rec.error("Rate limit exceeded."))
    waits: list[float] = []
    batch = source(fake, waits=waits).pull(None)
    assert waits == [3.0]
    assert batch.items == 5


def test_a_5xx_mid_paging_is_retried() -> None:
    fake = fake_jira(five_issues())
    fake.fail(SEARCH, 503, after=1, times=2)  # the second page fails twice, then answers
    waits: list[float] = []
    batch = source(fake, page_size=2, waits=waits).pull(None)
    assert waits == [1.0, 2.0]  # exponential backoff
    assert [seen.status for seen in fake.requests if seen.path == SEARCH] == [
        200,
        503,
        503,
        200,
        200,
    ]
    assert batch.items == 5


def test_a_5xx_that_persists_fails_the_whole_pull() -> None:
    fake = fake_jira(five_issues())
    fake.fail(SEARCH, 503, after=1, times=100)
    waits: list[float] = []
    with pytest.raises(ConnectorError) as caught:
        source(fake, page_size=2, waits=waits).pull(None)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert caught.value.status == 503
    assert str(caught.value) == (
        "connector 'pay': GET /rest/api/3/search/jql: HTTP 503, the tracker failed: "
        "Internal server error"
    )


def test_a_bad_token_is_one_error_that_never_shows_it() -> None:
    fake = FakeJira([], token="the-right-one", email=EMAIL)
    pull = source(fake)
    with pytest.raises(ConnectorError) as caught:
        pull.pull(None)
    error = caught.value
    assert error.status == 401
    assert str(error) == (
        "connector 'pay': GET /rest/api/3/myself: HTTP 401, the tracker refused the "
        "credentials (check the token and, for Jira Cloud, the e-mail)"
    )
    basic = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    for text in (str(error), repr(error), error.reason, repr(pull), repr(pull.config)):
        assert TOKEN not in text and basic not in text
    assert "token='***'" in repr(pull.config)


def test_a_bad_query_is_refused_in_jiras_words() -> None:
    fake = fake_jira([])
    fake.fail(SEARCH, 400, body=rec.BAD_JQL)
    with pytest.raises(ConnectorError) as caught:
        source(fake, jql="status = In Progress Done").pull(None)
    assert caught.value.status == 400
    assert str(caught.value) == (
        "connector 'pay': GET /rest/api/3/search/jql: HTTP 400, the tracker refused the query: "
        "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'Done'. "
        "(line 1, character 21)"
    )


def test_a_time_out_of_range_or_unreadable_names_the_issue_and_field() -> None:
    fake = fake_jira([Issue("PAY-1", "1960-01-01T00:00")])
    with pytest.raises(ConnectorError) as caught:
        source(fake).pull(None)
    assert str(caught.value) == (
        "connector 'pay': issue PAY-1, fields.created: the time "
        "'1960-01-01T01:00:00.000+0100' is out of range"
    )
    fake = fake_jira([Issue("PAY-1", "2024-01-01T09:00", [Change("2024-01-02T09:00", "3")])])

    def garbled(request: httpx.Request) -> httpx.Response:
        answer = fake.handle(request)
        text = answer.text.replace("2024-01-02T10:00:00.000+0100", "yesterday")
        return httpx.Response(
            answer.status_code, text=text, headers={"content-type": "application/json"}
        )

    with pytest.raises(ConnectorError) as caught:
        source(transport=httpx.MockTransport(garbled)).pull(None)
    assert str(caught.value) == (
        "connector 'pay': issue PAY-1, changelog 'created': cannot read the time 'yesterday'"
    )


def test_an_answer_that_is_not_jiras_is_refused() -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"hello": "world"})

    with pytest.raises(ConnectorError, match=r"GET /rest/api/3/status: expected a list"):
        source(transport=httpx.MockTransport(html)).pull(None)


def test_the_settings_are_checked() -> None:
    with pytest.raises(InputError, match="must start with https://"):
        JiraConfig("pay", "acme.atlassian.net", "project = PAY", EMAIL, TOKEN)
    with pytest.raises(InputError, match="page size"):
        JiraConfig("pay", URL, "project = PAY", EMAIL, TOKEN, page_size=0)


# -- over HTTP ----------------------------------------------------------------------------------


def test_over_http_the_token_is_in_no_log(caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_jira(five_issues())
    fake.fail(SEARCH, 503, after=1)
    in_process = source(fake_jira(five_issues()), page_size=2).pull(None)
    caplog.set_level(logging.DEBUG)
    with serve(fake) as url:
        waits: list[float] = []
        batch = source(fake, url=url, page_size=2, waits=waits).pull(None)
        with pytest.raises(ConnectorError):
            source(fake, url=url, token="a-wrong-token").pull(None)
    assert waits == [1.0]
    assert rows(batch) == rows(in_process)
    basic = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    assert "GET" in caplog.text or "HTTP Request" in caplog.text  # the log was captured
    assert TOKEN not in caplog.text and basic not in caplog.text
    assert "a-wrong-token" not in caplog.text


# -- the same figures as a file --------------------------------------------------------------------

#: The history of the fake below, as a user would export it: UTC times.
CSV = """\
item_id,state,timestamp,created,type,title,assignee
10000,To Do,2024-01-01T09:00:00Z,2024-01-01T09:00:00Z,Story,PAY-1 Checkout,Ann Smith
10000,In Progress,2024-01-02T10:00:00Z,2024-01-01T09:00:00Z,Story,PAY-1 Checkout,Ann Smith
10000,In Review,2024-01-04T16:00:00Z,2024-01-01T09:00:00Z,Story,PAY-1 Checkout,Ann Smith
10000,Done,2024-01-05T11:00:00Z,2024-01-01T09:00:00Z,Story,PAY-1 Checkout,Ann Smith
10001,To Do,2024-01-02T08:00:00Z,2024-01-02T08:00:00Z,Bug,PAY-2 Refunds,Bob Jones
10001,In Progress,2024-01-03T09:00:00Z,2024-01-02T08:00:00Z,Bug,PAY-2 Refunds,Bob Jones
10001,To Do,2024-01-03T17:00:00Z,2024-01-02T08:00:00Z,Bug,PAY-2 Refunds,Bob Jones
10001,In Progress,2024-01-06T09:30:00Z,2024-01-02T08:00:00Z,Bug,PAY-2 Refunds,Bob Jones
10002,To Do,2024-01-03T12:00:00Z,2024-01-03T12:00:00Z,Story,PAY-3 Invoices,
10002,Done,2024-01-08T10:00:00Z,2024-01-03T12:00:00Z,Story,PAY-3 Invoices,
"""


def test_the_same_flow_figures_as_the_same_history_in_a_file(tmp_path: Path) -> None:
    statuses = [
        Status("1", "To Do", "new"),
        Status("3", "In Progress", "indeterminate"),
        Status("4", "In Review", "indeterminate"),
        Status("10001", "Done", "done"),
    ]
    fake = fake_jira(
        [
            Issue(
                "PAY-1",
                "2024-01-01T09:00",
                [
                    Change("2024-01-02T10:00", "In Progress"),
                    Change("2024-01-04T16:00", "In Review"),
                    Change("2024-01-05T11:00", "Done"),
                ],
                summary="Checkout",
            ),
            Issue(
                "PAY-2",
                "2024-01-02T08:00",
                [
                    Change("2024-01-03T09:00", "In Progress"),
                    Change("2024-01-03T17:00", "To Do"),
                    Change("2024-01-06T09:30", "In Progress"),
                ],
                summary="Refunds",
                type="Bug",
                assignee="Bob Jones",
            ),
            Issue(
                "PAY-3",
                "2024-01-03T12:00",
                [Change("2024-01-08T10:00", "Done")],
                summary="Invoices",
                assignee=None,
            ),
        ],
        statuses=statuses,
        time_zone="America/New_York",
    )
    batch = source(fake).pull(None)
    path = tmp_path / "pay.csv"
    path.write_text(CSV)
    from_file = read_events(path)
    assert batch.events.table.equals(from_file.table)
    workflow = batch.proposed_workflow
    assert workflow is not None
    assert workflow.active == ("In Progress", "In Review")

    def figures(log: EventLog) -> dict[str, Any]:
        document = analyse_log(log, workflow).to_dict()
        del document["source"]
        return json.loads(json.dumps(document))

    connector, file = figures(batch.events), figures(from_file)
    assert connector == file
    assert connector["items"]["finished"] == 2  # PAY-1 and PAY-3
