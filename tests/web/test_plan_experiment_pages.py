"""The dependency plan pages (create a plan, add, change and remove tasks on a version, the
drawing, the CPM table, need-by misses, the cross-team matrix, dependencies at risk) and the
experiment page (evaluate, save, the verdict and its chart) on the "Tiny" stream.

Expected figures are worked out by hand here (CPM) or with scipy and the Tiny data of
tests/api/tiny.py (A, B and C finish on 4, 9 and 12 January with cycle times 2, 6 and 4 days),
not read back from the views the pages use.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from datetime import date, timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy.stats import mannwhitneyu

from api.tiny import TINY_CSV
from app_fixtures import bearer
from obeya.core.access import Role
from obeya.core.steering.dependencies import plan_from_dict, schedule
from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap
from obeya.workspace import Workspace

PLANS = "/streams/Tiny/dependencies"
PLAN = f"{PLANS}/P-1"
EXPERIMENTS = "/streams/Tiny/experiments"


def alerts(page: str) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", m))
        for m in re.findall(r'role="alert"[^>]*>(.*?)</div>', page, re.S)
    ]


def value_of(page: str, ident: str) -> str:
    """What the input with this id shows."""
    tag = re.search(rf'<input id="{ident}"[^>]*>', page)
    assert tag is not None, ident
    found = re.search(r'value="([^"]*)"', tag[0])
    return html.unescape(found[1]) if found else ""


def invalid(page: str) -> list[str]:
    """The ids of the inputs marked aria-invalid."""
    return re.findall(r'<input id="([^"]+)"[^>]*\baria-invalid="true"', page)


def selected(page: str, ident: str) -> str:
    found = re.search(rf'<select id="{ident}".*?<option value="([^"]*)" selected', page, re.S)
    assert found is not None, ident
    return found[1]


def versions(workspace: Workspace, kind: str, key: str) -> int:
    return len(workspace.steering.record_history(kind, key))


# -- plans ------------------------------------------------------------------------------------

#: The hand-worked plan: A (Alpha, 3 d); B (Beta, 2 d) and C (Alpha, 4 d) wait for A;
#: D (Beta, 1 d) waits for B and C; D is needed by 10 March.
#:
#:   forward pass   A 0 → 3, B 3 → 5, C 3 → 7, D max(5, 7) = 7 → 8; duration 8 days
#:   backward pass  D 7 ← 8, C 3 ← 7, B 5 ← 7 (LF = LS of D), A 0 ← 3 (LF = min(5, 3))
#:   slack          A 0, B 5 − 3 = 2, C 0, D 0; free slack of B: ES(D) 7 − EF 5 = 2
#:   critical path  A → C → D
#:   dates          day 0 = 4 March: D done by 4 March + ⌈8⌉ − 1 = 11 March, 1 day late
#:   matrix         Alpha waits on Alpha once (C on A); Beta on Alpha twice (B on A, D on C)
#:                  and on Beta once (D on B)
HAND = {
    "A": {"early_start": 0, "early_finish": 3, "late_start": 0, "late_finish": 3,
          "total_slack": 0, "free_slack": 0, "critical": True},
    "B": {"early_start": 3, "early_finish": 5, "late_start": 5, "late_finish": 7,
          "total_slack": 2, "free_slack": 2, "critical": False},
    "C": {"early_start": 3, "early_finish": 7, "late_start": 3, "late_finish": 7,
          "total_slack": 0, "free_slack": 0, "critical": True},
    "D": {"early_start": 7, "early_finish": 8, "late_start": 7, "late_finish": 8,
          "total_slack": 0, "free_slack": 0, "critical": True},
}  # fmt: skip
TASKS = [
    {"task_id": "A", "task_name": "API", "task_team": "Alpha", "task_duration_days": "3"},
    {"task_id": "B", "task_team": "Beta", "task_duration_days": "2", "task_depends_on": "A"},
    {"task_id": "C", "task_team": "Alpha", "task_duration_days": "4", "task_depends_on": "A"},
    {
        "task_id": "D",
        "task_name": "Launch",
        "task_team": "Beta",
        "task_duration_days": "1",
        "task_depends_on": "B, C",
        "task_need_by": "2024-03-10",
        "task_items": "2",
    },
]


def saved_task(**fields: Any) -> dict[str, Any]:
    """A task as the store keeps it: every field of its declaration, blanks as None."""
    return {"name": None, "depends_on": [], "need_by": None, "items": None, **fields}


def create_plan(client: TestClient, **fields: str) -> Any:
    form = {"key": "P-1", "name": "Release", "start": "2024-03-04", **TASKS[0]}
    return client.post(PLANS, data={**form, **fields}, follow_redirects=False)


def add_task(
    client: TestClient, version: int, headers: dict[str, str] | None = None, **fields: str
) -> Any:
    """Post a task on ``version``; ``headers`` sign in someone else than the client's user."""
    form = {"expected_version": str(version), **fields}
    return client.post(f"{PLAN}/tasks", data=form, headers=headers, follow_redirects=False)


def build_plan(client: TestClient) -> None:
    assert create_plan(client).status_code == 303
    for version, task in enumerate(TASKS[1:], start=1):
        assert add_task(client, version, **task).status_code == 303


def cpm_rows(page: str) -> dict[str, dict[str, str]]:
    """The CPM table: per task id, each cell's data-value by its data-field."""
    table = page[page.index('class="mini cpm-table"') :]
    table = table[: table.index("</table>")]
    rows = {}
    for task, body in re.findall(r'<tr data-task="([^"]+)"[^>]*>(.*?)</tr>', table, re.S):
        cells = re.findall(r'data-field="([^"]+)" data-value="([^"]*)"', body)
        rows[html.unescape(task)] = dict(cells)
    return rows


def test_creating_a_plan_and_adding_tasks_saves_what_was_posted(
    client: TestClient, workspace: Workspace
) -> None:
    response = create_plan(client)
    assert response.status_code == 303
    assert response.headers["location"] == f"{PLAN}?saved=1"
    stored = workspace.steering.record("plan", "P-1")
    assert stored.stream == "Tiny" and stored.version.version == 1
    assert stored.version.author == "tester"  # the signed-in user
    first = saved_task(id="A", team="Alpha", name="API", duration_days=3)
    assert stored.document == {"key": "P-1", "name": "Release", "start": "2024-03-04",
                               "task": [first]}  # fmt: skip
    for version, task in enumerate(TASKS[1:], start=1):
        assert add_task(client, version, **task).status_code == 303
    stored = workspace.steering.record("plan", "P-1")
    assert stored.version.version == 4
    assert stored.document["task"] == [
        first,
        saved_task(id="B", team="Beta", duration_days=2, depends_on=["A"]),
        saved_task(id="C", team="Alpha", duration_days=4, depends_on=["A"]),
        saved_task(id="D", team="Beta", name="Launch", duration_days=1,
                   depends_on=["B", "C"], need_by="2024-03-10", items=2),
    ]  # fmt: skip
    assert workspace.steering.record_history("plan", "P-1")[-1][0].message == "task D added"
    page = client.get(f"{PLAN}?saved=1").text
    assert "Saved as version 4." in page
    listing = client.get(PLANS).text
    row = listing[listing.index('data-plan="P-1"') :]
    assert "Release" in row[: row.index("</tr>")] and "A → C → D" in row[: row.index("</tr>")]


def test_the_cpm_table_is_the_schedule(client: TestClient, workspace: Workspace) -> None:
    build_plan(client)
    page = client.get(PLAN).text
    rows = cpm_rows(page)
    expected = schedule(
        plan_from_dict(
            {
                "start": date(2024, 3, 4),
                "task": [
                    {"id": "A", "team": "Alpha", "duration_days": 3},
                    {"id": "B", "team": "Beta", "duration_days": 2, "depends_on": ["A"]},
                    {"id": "C", "team": "Alpha", "duration_days": 4, "depends_on": ["A"]},
                    {"id": "D", "team": "Beta", "duration_days": 1, "depends_on": ["B", "C"]},
                ],
            }
        )
    ).to_dict()
    assert list(rows) == [t["id"] for t in expected["tasks"]] == ["A", "B", "C", "D"]
    for task in expected["tasks"]:
        row = rows[task["id"]]
        for field, value in HAND[task["id"]].items():
            if field == "critical":
                assert row[field] == ("true" if value else "false")
                assert task[field] is value
            else:
                assert float(row[field]) == task[field] == value, (task["id"], field)
        assert float(row["duration_days"]) == task["duration_days"]
        assert row["depends_on"] == ",".join(task["depends_on"])
    # Critical rows say so in words, not colour alone.
    assert re.search(r'data-task="C" class="is-critical">.*?Critical</span>', page, re.S)
    assert 'data-critical-path="A,C,D"' in page and 'data-duration="8.0"' in page
    assert "2024-03-04 to 2024-03-11" in page
    assert "D misses its need-by date 2024-03-10: done by 2024-03-11, 1 day late" in page
    matrix = dict(re.findall(r'<tr data-team="([^"]+)">(.*?)</tr>', page, re.S))
    counts = {t: re.findall(r'data-value="(\d+)"', row) for t, row in matrix.items()}
    assert counts == {"Alpha": ["1", "0"], "Beta": ["2", "1"]}
    # Tiny's events name no team: no forecast, and the page says why.
    assert 'id="at-risk-note"' in page and "no history of team 'Beta'" in html.unescape(page)
    # The drawing is inline, the critical tasks marked in it too.
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert '<g class="task critical" data-id="C">' in svg
    assert '<g class="task" data-id="B">' in svg


@pytest.mark.parametrize(
    ("task", "message", "marked"),
    [
        (
            {"task_id": "E", "task_team": "Beta", "task_duration_days": "1",
             "task_depends_on": "Z"},
            "Task E: Depends on lists unknown id 'Z'; known ids: A, B, C, D",
            "task-depends",
        ),
        (
            {"task_id": "E", "task_team": "Beta", "task_duration_days": "1",
             "task_depends_on": "A, E"},
            "Task E: Depends on lists the task itself; a task cannot wait for itself",
            "task-depends",
        ),
        (  # A edited to wait for D, which waits (through B) for A
            {"original_id": "A", "task_id": "A", "task_team": "Alpha",
             "task_duration_days": "3", "task_depends_on": "D"},
            "Task A: Depends on makes a cycle: A → D → B → A (each task waits for the next); "
            "take one of these ids out of Depends on",
            "task-depends",
        ),
        (
            {"task_id": "E", "task_team": "Beta", "task_duration_days": "-1"},
            "Task E: Duration days is -1; give days ≥ 0, at most 3,652,058 (the calendar's "
            "span)",
            "task-duration",
        ),
        (
            {"task_id": "E", "task_team": "Beta", "task_duration_days": "two"},
            "Task E: Duration days is 'two'; give a number",
            "task-duration",
        ),
        (
            {"task_id": "E", "task_team": "Beta", "task_duration_days": "1",
             "task_items": "1.5"},
            "Task E: Items is '1.5'; give a whole number",
            "task-items",
        ),
        (
            {"task_id": "E", "task_team": " ", "task_duration_days": "1"},
            "Task E: Team is empty",
            "task-team",
        ),
        (
            {"task_id": "", "task_team": "Beta", "task_duration_days": "1"},
            "Task id is empty; give the task an id, e.g. API",
            "task-id",
        ),
    ],
)  # fmt: skip
def test_a_bad_task_is_refused_in_the_forms_words_marking_the_field(
    client: TestClient, workspace: Workspace, task: dict[str, str], message: str, marked: str
) -> None:
    build_plan(client)
    before = workspace.steering.record("plan", "P-1").document
    response = add_task(client, 4, **task)
    assert response.status_code == 422
    assert alerts(response.text) == [f"Not saved. {message}"]
    # The field to fix is marked, and the message describes it.
    assert invalid(response.text) == [marked]
    tag = re.search(rf'<input id="{marked}"[^>]*>', response.text)
    assert tag is not None and 'aria-describedby="task-error' in tag[0]
    assert versions(workspace, "plan", "P-1") == 4
    assert workspace.steering.record("plan", "P-1").document == before
    # What was typed is kept.
    assert value_of(response.text, "task-id") == task["task_id"]
    assert value_of(response.text, "task-duration") == task["task_duration_days"]
    assert value_of(response.text, "task-depends") == task.get("task_depends_on", "")
    assert value_of(response.text, "task-items") == task.get("task_items", "")


def test_the_footer_shows_the_apps_version_not_the_plans(client: TestClient) -> None:
    build_plan(client)
    app = package_version("obeya")
    assert app != "4"  # else the page could not tell them apart
    page = client.get(PLAN).text
    footer = page[page.index("<footer") :]
    assert f"Obeya {app} ·" in footer and "Obeya 4" not in footer
    assert f'href="/static/obeya.css?v={app}"' in page
    assert "version 4 ·" in page  # the plan's own version, in the page's head


def test_a_stale_add_is_refused_with_409_and_keeps_the_input(
    client: TestClient, workspace: Workspace
) -> None:
    build_plan(client)
    # Two people load version 4; the first one's (Ann's) task is saved as version 5.
    ann = bearer(workspace, "ann", Role.EDITOR, "Tiny")
    first = add_task(client, 4, ann, task_id="E", task_team="Beta", task_duration_days="1")
    assert first.status_code == 303
    response = add_task(
        client, 4, task_id="F", task_team="Alpha", task_duration_days="2", task_depends_on="A"
    )
    assert response.status_code == 409
    [message] = alerts(response.text)
    assert "plan 'P-1' changed since version 4 (now 5) by ann" in message
    assert "Load the newest version" in message
    assert value_of(response.text, "task-id") == "F"
    assert value_of(response.text, "task-depends") == "A"
    assert 'name="expected_version" value="4"' in response.text  # still the version it was on
    assert versions(workspace, "plan", "P-1") == 5
    assert [t["id"] for t in workspace.steering.record("plan", "P-1").document["task"]] == list(
        "ABCDE"
    )


def test_adding_a_task_with_an_id_the_plan_has_is_refused(
    client: TestClient, workspace: Workspace
) -> None:
    build_plan(client)
    before = workspace.steering.record("plan", "P-1").document
    typed = {"task_id": "A", "task_name": "Auth", "task_team": "Gamma",
             "task_duration_days": "9", "task_items": "5"}  # fmt: skip
    response = add_task(client, 4, **typed)
    assert response.status_code == 422
    # A is "API" of team Alpha (TASKS[0]); the alert links to its edit form.
    assert alerts(response.text) == [
        "Not saved. Task A already exists (API, Alpha); edit it, or give another id Edit A"
    ]
    assert f'<a href="{PLAN}?edit=A#task-heading">Edit A</a>' in response.text
    assert invalid(response.text) == ["task-id"]
    assert workspace.steering.record("plan", "P-1").document == before
    assert versions(workspace, "plan", "P-1") == 4
    assert value_of(response.text, "task-name") == "Auth"
    assert value_of(response.text, "task-team") == "Gamma"
    assert value_of(response.text, "task-duration") == "9"
    assert value_of(response.text, "task-items") == "5"
    # B has no name: it is named by its team alone.
    response = add_task(client, 4, task_id="B", task_team="Beta", task_duration_days="1")
    assert alerts(response.text)[0].startswith("Not saved. Task B already exists (Beta); edit it")


def test_editing_a_task_loads_it_and_changes_it_in_place(
    client: TestClient, workspace: Workspace
) -> None:
    build_plan(client)
    page = client.get(PLAN).text
    assert f'<a href="{PLAN}?edit=B#task-heading"' in page  # each row has an Edit link
    assert 'id="task-heading" class="card-title">Add a task</h2>' in page
    form = client.get(f"{PLAN}?edit=D").text
    assert 'id="task-heading" class="card-title">Edit task D</h2>' in form
    assert 'name="original_id" value="D"' in form
    assert re.search(r'<input id="task-id"[^>]*value="D"[^>]*\breadonly', form)
    # D as TASKS[3] gave it: Launch, Beta, 1 day, after B and C, by 10 March, 2 items.
    shown = {i: value_of(form, f"task-{i}")
             for i in ("name", "team", "duration", "depends", "need-by", "items")}  # fmt: skip
    assert shown == {"name": "Launch", "team": "Beta", "duration": "1", "depends": "B, C",
                     "need-by": "2024-03-10", "items": "2"}  # fmt: skip
    assert 'name="expected_version" value="4"' in form
    # B now takes 6 days, so it is critical: A 0–3, B 3–9, D 9–10.
    response = add_task(client, 4, original_id="B", task_id="B", task_team="Beta",
                        task_duration_days="6", task_depends_on="A")  # fmt: skip
    assert response.status_code == 303
    doc = workspace.steering.record("plan", "P-1").document
    assert [t["id"] for t in doc["task"]] == ["A", "B", "C", "D"]
    assert doc["task"][1] == saved_task(id="B", team="Beta", duration_days=6, depends_on=["A"])
    assert workspace.steering.record_history("plan", "P-1")[-1][0].message == "task B changed"
    assert 'data-critical-path="A,B,D"' in client.get(PLAN).text
    # A refused edit stays an edit, with what was typed.
    response = add_task(client, 5, original_id="B", task_id="B", task_team="Beta",
                        task_duration_days="-2", task_depends_on="A")  # fmt: skip
    assert response.status_code == 422
    assert alerts(response.text) == [
        "Not saved. Task B: Duration days is -2; give days ≥ 0, at most 3,652,058 (the "
        "calendar's span)"
    ]
    assert 'name="original_id" value="B"' in response.text
    assert value_of(response.text, "task-duration") == "-2"
    # The id cannot change on an edit (B's dependents would lose it).
    response = add_task(client, 5, original_id="B", task_id="B2", task_team="Beta",
                        task_duration_days="6", task_depends_on="A")  # fmt: skip
    assert response.status_code == 422
    assert alerts(response.text) == [
        "Not saved. Task id cannot change on an edit (it is B); add a task with the new id, "
        "then remove B"
    ]
    assert invalid(response.text) == ["task-id"]
    assert versions(workspace, "plan", "P-1") == 5
    assert client.get(f"{PLAN}?edit=Z", headers={"Accept": "text/html"}).status_code == 404
    # Durations show as typed, whole or not.
    for version, days in ((5, "1234567"), (6, "2.5")):
        add_task(client, version, original_id="C", task_id="C", task_team="Alpha",
                 task_duration_days=days, task_depends_on="A")  # fmt: skip
        assert value_of(client.get(f"{PLAN}?edit=C").text, "task-duration") == days


def test_removing_tasks(client: TestClient, workspace: Workspace) -> None:
    build_plan(client)
    # B and C wait for A, D for B and C: removing A or C is refused, naming who waits.
    for task, message in (
        ("A", "B and C depend on A; take A out of their Depends on first, or remove them"),
        ("C", "D depends on C; take C out of its Depends on first, or remove it"),
    ):
        response = client.post(f"{PLAN}/remove", data={"task_id": task, "expected_version": "4"})
        assert response.status_code == 422
        assert alerts(response.text) == [f"Not saved. Task {task} not removed: {message}"]
    assert versions(workspace, "plan", "P-1") == 4
    # D first, then C: two new versions.
    for version, task in ((4, "D"), (5, "C")):
        response = client.post(
            f"{PLAN}/remove",
            data={"task_id": task, "expected_version": str(version)},
            follow_redirects=False,
        )
        assert response.status_code == 303
    assert [t["id"] for t in workspace.steering.record("plan", "P-1").document["task"]] == [
        "A",
        "B",
    ]
    assert versions(workspace, "plan", "P-1") == 6
    # B next; A is then the only task, which a plan cannot do without.
    assert client.post(f"{PLAN}/remove", data={"task_id": "B", "expected_version": "6"},
                       follow_redirects=False).status_code == 303  # fmt: skip
    response = client.post(f"{PLAN}/remove", data={"task_id": "A", "expected_version": "7"})
    assert response.status_code == 422
    assert alerts(response.text) == [
        "Not saved. Task A not removed: A is the plan's only task; a plan has at least one"
    ]
    assert versions(workspace, "plan", "P-1") == 7
    history = client.get(f"{PLAN}/history").text
    assert "History of plan P-1" in history and "task C removed" in history


def test_a_taken_key_and_a_bad_plan_are_refused(client: TestClient, workspace: Workspace) -> None:
    assert create_plan(client).status_code == 303
    response = create_plan(client, name="Another")
    assert response.status_code == 409
    assert alerts(response.text) == [
        "Not saved. there is already a plan 'P-1'; change it on its own form, or pick another key"
    ]
    assert value_of(response.text, "plan-name") == "Another"
    response = create_plan(client, key="P-2", task_team="")
    assert response.status_code == 422
    assert alerts(response.text) == ["Not saved. Task A: Team is empty"]
    assert invalid(response.text) == ["first-task-team"]
    assert [r.key for r in workspace.steering.records("plan", "Tiny")] == ["P-1"]


def test_the_drawing_escapes_user_text(client: TestClient, workspace: Workspace) -> None:
    name = '<script>alert("x")</script> & co'
    assert create_plan(client, task_name=name, task_team="<b>Ops</b>").status_code == 303
    assert workspace.steering.record("plan", "P-1").document["task"][0]["name"] == name
    page = client.get(PLAN).text
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in svg
    assert "&lt;b&gt;Ops&lt;/b&gt;" in svg
    assert "<script>alert" not in page


def test_dependencies_at_risk_are_forecast_from_the_teams_history(
    client: TestClient, workspace: Workspace, tmp_path: Path
) -> None:
    # A stream whose events name teams: Alpha finishes one item a day for the 100 days to
    # 20 January, more than the 84 days a forecast samples, so every trial draws 1 a day.
    rows = ["item_id,state,timestamp,team"]
    for n in range(100):
        day = (date(2024, 1, 20) - timedelta(days=n)).isoformat()
        rows += [f"I{n},In Progress,{day},Alpha", f"I{n},Done,{day}T12:00:00,Alpha"]
    path = tmp_path / "teams.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    workflow = Workflow.from_toml_text('active = ["In Progress"]\ndone = ["Done"]\n')
    workspace.import_file(path, "Teams", workflow=workflow, columns=ColumnMap())
    plan = {
        "key": "T-1",
        "start": "2024-01-21",
        "task": [
            # 3 items in 5 days at one a day: always on time; 30 items in 5 days: never.
            {"id": "OK", "team": "Alpha", "duration_days": 2, "need_by": "2024-01-25", "items": 3},
            {"id": "LATE", "team": "Alpha", "duration_days": 2, "need_by": "2024-01-25",
             "items": 30},
        ],
    }  # fmt: skip
    workspace.steering.save_record("plan", plan, author="t", stream="Teams")
    page = client.get("/streams/Teams/dependencies/T-1").text
    assert 'id="at-risk-note"' not in page
    rows_ = dict(re.findall(r'<tr data-risk-task="([^"]+)"[^>]*>(.*?)</tr>', page, re.S))
    assert 'data-value="1.0">100 %' in rows_["OK"] and "On track" in rows_["OK"]
    assert 'data-value="0.0">0 %' in rows_["LATE"] and "At risk" in rows_["LATE"]
    # One item a day from 21 January: the 3rd item on the 23rd, the 50 % and 85 % dates.
    assert rows_["OK"].count("2024-01-23") == 2


# -- experiments ------------------------------------------------------------------------------

WINDOWS = {
    "baseline_from": "2024-01-01",
    "baseline_to": "2024-01-05",
    "trial_from": "2024-01-06",
    "trial_to": "2024-01-12",
}


def experiment(client: TestClient, action: str = "evaluate", **fields: str) -> Any:
    form = {"metric": "cycle_time", "guard": "", **WINDOWS, "action": action, **fields}
    return client.post(EXPERIMENTS, data=form, follow_redirects=False)


def result_value(page: str, field: str, window: str | None = None) -> str:
    part = page[page.index('id="result"') :]
    if window is not None:
        part = part[part.index(f'<tr data-window="{window}"') :]
    found = re.search(rf'data-field="{field}" data-value="([^"]*)">([^<]*)<', part)
    assert found is not None, field
    return found[1] + "|" + html.unescape(found[2])


def test_evaluating_an_experiment_on_tiny(client: TestClient, workspace: Workspace) -> None:
    response = experiment(client)
    assert response.status_code == 200
    page = response.text
    # Baseline 1–5 January: A (2 days). Trial 6–12 January: B (6) and C (4), median 5.
    assert result_value(page, "items", "baseline") == "1|1"
    assert result_value(page, "items", "trial") == "2|2"
    assert result_value(page, "median", "baseline") == "2.0|2"
    assert result_value(page, "median", "trial") == "5.0|5"
    assert result_value(page, "effect") == "1.5|+150 %"  # 5 ÷ 2 − 1
    expected_p = mannwhitneyu([6, 4], [2], alternative="two-sided").pvalue
    p_value = result_value(page, "p_value").split("|")[0]
    assert float(p_value) == float(expected_p)
    assert 'data-verdict="no change"' in page and "No change" in page  # p ≥ 0.05
    assert "Result" in page and "(not saved)" in page
    spec = json.loads(re.findall(r'id="spec-experiment">(.*?)</script>', page, re.S)[0])
    values = {(r["window"], r["value"]) for r in spec["datasets"]["values"]}
    assert values == {
        ("Baseline 2024-01-01..2024-01-05", 2.0),
        ("Trial 2024-01-06..2024-01-12", 6.0),
        ("Trial 2024-01-06..2024-01-12", 4.0),
    }
    assert '<script src="/static/obeya.js' in page  # drawn by the dashboard's chart code
    # Evaluate saves nothing, and the form keeps what was typed.
    assert workspace.steering.records("experiment", "Tiny") == []
    assert value_of(page, "exp-trial-from") == "2024-01-06"


def test_saving_an_experiment_creates_the_record_and_shows_it(
    client: TestClient, workspace: Workspace
) -> None:
    response = experiment(
        client,
        "save",
        key="E-1",
        hypothesis="Pairing shortens cycle time",
        owner="ann",
        guard="flow_efficiency",
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{EXPERIMENTS}/E-1?saved=1#result"
    stored = workspace.steering.record("experiment", "E-1")
    assert stored.stream == "Tiny" and stored.version.author == "tester"  # the signed-in user
    assert stored.document == {
        "key": "E-1",
        "hypothesis": "Pairing shortens cycle time",
        "metric": "cycle_time",
        "guard": "flow_efficiency",
        "baseline": "2024-01-01..2024-01-05",
        "trial": "2024-01-06..2024-01-12",
        "alpha": 0.05,
        "owner": "ann",
    }
    page = client.get(response.headers["location"]).text
    assert "Saved experiment E-1." in page and "Experiment E-1" in page
    assert result_value(page, "median", "trial") == "5.0|5"
    assert "Guard held" in page
    listing = client.get(EXPERIMENTS).text
    row = listing[listing.index('data-experiment="E-1"') :]
    row = row[: row.index("</tr>")]
    assert "No change" in row and "+150 %" in row and "Guard held" in row
    assert "Pairing shortens cycle time" in row
    # The key is taken now.
    again = experiment(client, "save", key="E-1", hypothesis="again")
    assert again.status_code == 409
    assert versions(workspace, "experiment", "E-1") == 1


@pytest.mark.parametrize("action", ["evaluate", "save"])
def test_bad_windows_are_refused_naming_the_field(
    client: TestClient, workspace: Workspace, action: str
) -> None:
    response = experiment(client, action, key="E-2", hypothesis="h", trial_from="2024-01-05")
    assert response.status_code == 422
    [message] = alerts(response.text)
    assert message.endswith(
        "Trial: 2024-01-05..2024-01-12 overlaps Baseline 2024-01-01..2024-01-05; "
        "the windows must not share a day"
    )
    assert value_of(response.text, "exp-trial-from") == "2024-01-05"
    assert value_of(response.text, "exp-hypothesis") == "h"
    assert (
        'id="exp-trial-from" name="trial_from" type="date" value="2024-01-05" aria-invalid="true"'
        in response.text
    )
    assert workspace.steering.records("experiment", "Tiny") == []


def test_an_empty_window_or_a_missing_date_is_refused(client: TestClient) -> None:
    response = experiment(client, baseline_from="2023-12-01", baseline_to="2023-12-31")
    assert response.status_code == 422
    assert alerts(response.text) == [
        "Not evaluated. Baseline: no finished item in 2023-12-01..2023-12-31; "
        "choose a window with finished items"
    ]
    response = experiment(client, trial_to="")
    assert alerts(response.text) == [
        "Not evaluated. Trial to is empty; give the window's to date, YYYY-MM-DD"
    ]
    assert selected(response.text, "exp-metric") == "cycle_time"
    assert selected(response.text, "exp-guard") == ""


# -- the frame --------------------------------------------------------------------------------


def test_every_input_has_a_label_and_headings_are_in_order(client: TestClient) -> None:
    build_plan(client)
    experiment(client, "save", key="E-1", hypothesis="h")
    pages = [
        client.get(PLANS).text,
        client.get(PLAN).text,
        add_task(client, 4, task_id="E", task_team="x", task_duration_days="-1").text,
        client.get(f"{PLAN}?edit=B").text,
        add_task(
            client, 4, original_id="B", task_id="B", task_team="", task_duration_days="1"
        ).text,
        client.get(f"{PLAN}/history").text,
        client.get(EXPERIMENTS).text,
        experiment(client).text,
        experiment(client, trial_from="2024-01-05").text,
        client.get(f"{EXPERIMENTS}/E-1").text,
    ]
    for page in pages:
        labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', page))
        for tag, attrs in re.findall(r"<(input|select|textarea)\b([^>]*)>", page):
            if re.search(r'type="(hidden|submit)"', attrs):
                continue
            ident = re.search(r'\bid="([^"]+)"', attrs)
            assert ident is not None, f"<{tag}{attrs}> has no id for a label"
            assert ident[1] in labelled, f"<{tag}{attrs}> has no <label>"
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), "ids are unique"
        levels = [int(h) for h in re.findall(r"<h([1-6])\b", page)]
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
        assert not re.search(r'(src|href)="(https?:)?//', page)


def test_links_to_the_pages(client: TestClient, workspace: Workspace) -> None:
    for path in ("/streams/Tiny", "/streams/Tiny/overview", "/streams/Tiny/risks"):
        page = client.get(path).text
        for link in ("dependencies", "experiments"):
            assert f'href="/streams/Tiny/{link}"' in page, (path, link)
    build_plan(client)
    page = client.get(PLANS).text
    assert '<a href="/streams/Tiny/dependencies" aria-current="page">Dependencies</a>' in page
    assert f'href="{PLAN}"' in page and f'href="{PLAN}/history"' in client.get(PLAN).text


def test_unknown_streams_and_plans_are_not_found(
    client: TestClient, workspace: Workspace, tmp_path: Path
) -> None:
    html_ = {"Accept": "text/html"}
    for path in ("dependencies", "experiments", "dependencies/P-1", "experiments/E-1"):
        assert client.get(f"/streams/Nope/{path}", headers=html_).status_code == 404, path
    build_plan(client)
    experiment(client, "save", key="E-1", hypothesis="h")
    assert client.get(f"{PLANS}/P-9", headers=html_).status_code == 404
    # Another stream does not show Tiny's plan or experiment.
    (tmp_path / "other.csv").write_text(TINY_CSV, encoding="utf-8")
    workspace.import_file(tmp_path / "other.csv", "Other", columns=ColumnMap())
    for path in ("dependencies/P-1", "experiments/E-1", "dependencies/P-1/history"):
        assert client.get(f"/streams/Other/{path}", headers=html_).status_code == 404, path
    form = {"task_id": "X", "task_team": "x", "task_duration_days": "1", "expected_version": "4"}
    assert client.post("/streams/Other/dependencies/P-1/tasks", data=form).status_code == 404
    assert client.post("/streams/Nope/dependencies", data={"key": "P"}).status_code == 404
    assert versions(workspace, "plan", "P-1") == 4
