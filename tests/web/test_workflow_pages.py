"""The workflow editor (web/workflow_pages.py) and the dashboard's conventions line."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.tiny import TINY_CSV, WORKFLOW
from app_fixtures import bearer
from obeya.api.app import create_app
from obeya.core.access import Role
from obeya.core.workflow import Workflow
from obeya.web.workflow_pages import fingerprint, shown
from obeya.workspace import SAMPLE_STREAM, SAMPLE_WORKFLOW, Workspace

from support import SAMPLES

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

#: Tiny's workflow (api.tiny.WORKFLOW) as the editor posts it.
FORM = {
    "state-0-name": "To Do",
    "state-0-category": "backlog",
    "state-0-position": "1",
    "state-1-name": "In Progress",
    "state-1-category": "active",
    "state-1-position": "2",
    "state-2-name": "Blocked",
    "state-2-category": "waiting",
    "state-2-position": "3",
    "state-3-name": "Done",
    "state-3-category": "done",
    "state-3-position": "4",
    "finish": "last",
}


def rows(page: str) -> dict[str, str]:
    """Each state row of the form → its selected category."""
    found = re.findall(
        r'<tr data-state="([^"]+)">.*?<option value="(\w+)" selected>', page, flags=re.S
    )
    return {html.unescape(state): category for state, category in found}


def figures(page: str, side: str) -> dict[str, str]:
    found = re.findall(
        rf'<tr data-figure="(\w+)">.*?<td class="num" data-side="{side}">([^<]*)</td>',
        page,
        flags=re.S,
    )
    return dict(found)


def expected_figures(report: object) -> dict[str, str]:
    """The page's figures, from a FlowReport, in the page's own formatting."""
    from obeya.core.metrics import FlowReport

    assert isinstance(report, FlowReport)
    return {
        "cycle_p50": shown(report.cycle_time_days.p50, "days"),
        "cycle_p85": shown(report.cycle_time_days.p85, "days"),
        "finished": shown(report.items.finished, "count"),
        "throughput_per_week": shown(report.velocity_per_week(), "per week"),
        "wip": shown(report.wip_now, "count"),
        "flow_efficiency": shown(report.flow_efficiency, "share"),
    }


def test_the_page_shows_the_workflow_its_figures_and_flags(client: TestClient) -> None:
    page = client.get("/streams/Tiny/workflow")
    assert page.status_code == 200
    assert rows(page.text) == {
        "To Do": "backlog",
        "In Progress": "active",
        "Blocked": "waiting",
        "Done": "done",
    }
    # api.tiny: p50 4.0, p85 5.4, 3 finished, 1.5 a week, WIP 1, 11 of 12 days active (92 %).
    assert figures(page.text, "current") == {
        "cycle_p50": "4.0",
        "cycle_p85": "5.4",
        "finished": "3",
        "throughput_per_week": "1.5",
        "wip": "1",
        "flow_efficiency": "92%",
    }
    assert 'value="last" checked' in page.text
    # 92 % is above 60 %; In Progress holds 11 of the 12 in-process days (92 % > 50 %).
    assert 'data-rule="flow_efficiency"' in page.text
    assert 'data-rule="active_state_share" data-state="In Progress"' in page.text
    assert "Current: Cycle time: first commitment → last entry into done." in page.text


def test_the_page_shows_the_samples_workflow(tmp_path: Path, database_url: str) -> None:
    with Workspace(database_url) as workspace:
        workspace.initialise()
        workspace.import_sample()
        sample = Workflow.from_toml(SAMPLE_WORKFLOW)
        app = create_app(lambda: workspace)
        with TestClient(app, headers=bearer(workspace)) as client:
            page = client.get(f"/streams/{SAMPLE_STREAM}/workflow")
            inferred = client.post(
                f"/streams/{SAMPLE_STREAM}/workflow/preview", data={"action": "infer"}
            )
    assert page.status_code == 200
    shown_rows = rows(page.text)
    assert shown_rows == {s: c.value for s, c in sample.categories().items()}
    assert list(shown_rows) == list(sample.order)  # in the workflow's flow order
    # The bundled workflow makes In Call done: no flag says most items end in an active state.
    # It keeps In Progress active, where 85 % of the incidents begin: work that starts on
    # arrival is no flag (only a waiting state where most begin is).
    assert 'data-rule="most_end_there"' not in page.text
    assert 'data-rule="most_begin_there"' not in page.text
    # The proposal keeps In Call active, as its name says, and flags where it ends 93 % of
    # its incidents (counted here from the CSV); its cell shows that evidence beside the name.
    assert inferred.status_code == 200
    assert rows(inferred.text)["In Call"] == "active"
    items, ending = in_call_visits()
    share = f"{round(ending / items * 100)} %"
    assert share == "93 %"
    cell = re.search(
        r'<tr data-state="In Call">.*?<td class="reason">([^<]*)</td>', inferred.text, re.S
    )
    assert cell is not None
    assert html.unescape(cell.group(1)) == (
        f"{items:,} items · 0 % begin here · {share} end here · its name says work happens "
        "here ('In Call')"
    )
    flag = re.search(
        r'<li class="alert alert-warn" data-rule="most_end_there" data-state="In Call">([^<]*)',
        inferred.text,
    )
    assert flag is not None
    assert html.unescape(flag.group(1)).startswith(
        f"'In Call' is classed active, as its name says ('In Call'), but {share} of the items "
        f"that visit it end there ({ending:,} items, all counted as work in progress)"
    )


def in_call_visits() -> tuple[int, int]:
    """Incidents of the sample that visit In Call, and those whose last event is there (by
    timestamp, ties in file order), counted from the CSV."""
    journeys: dict[str, list[tuple[str, int, str]]] = {}
    path = SAMPLES / "bpic2013_incidents_transitions.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for k, row in enumerate(csv.DictReader(f)):
            journeys.setdefault(row["case_id"], []).append((row["timestamp"], k, row["status"]))
    visiting = [sorted(j) for j in journeys.values() if any(e[2] == "In Call" for e in j)]
    return len(visiting), sum(j[-1][2] == "In Call" for j in visiting)


def test_preview_shows_the_figures_of_the_candidate_and_saves_nothing(
    client: TestClient, workspace: Workspace
) -> None:
    edited = {**FORM, "state-2-category": "active", "finish": "first", "action": "preview"}
    page = client.post("/streams/Tiny/workflow/preview", data=edited)
    assert page.status_code == 200
    candidate = Workflow(
        backlog=("To Do",),
        active=("In Progress", "Blocked"),
        done=("Done",),
        finish="first",
    )
    assert figures(page.text, "proposed") == expected_figures(
        workspace.flow("Tiny", workflow=candidate)
    )
    assert figures(page.text, "current") == expected_figures(workspace.flow("Tiny"))
    assert "Edited: Cycle time: first commitment → first entry into done." in page.text
    stored = workspace.stream("Tiny").workflow
    assert stored is not None and stored.to_toml() == Workflow.from_toml_text(WORKFLOW).to_toml()
    # Blocked classed active: all 12 cycle days are active, 100 %.
    assert figures(page.text, "proposed")["flow_efficiency"] == "100%"


def test_infer_fills_the_form_with_the_proposal(client: TestClient) -> None:
    page = client.post("/streams/Tiny/workflow/preview", data={**FORM, "action": "infer"})
    assert page.status_code == 200
    # By their names: To Do backlog, In Progress active, Blocked waiting, Done done.
    assert rows(page.text) == {
        "To Do": "backlog",
        "In Progress": "active",
        "Blocked": "waiting",
        "Done": "done",
    }
    assert "Inferred from the data (not saved)" in page.text
    assert 'data-rule="flow_efficiency"' in page.text
    # Each state says why it was classed so (workflow_infer.classify, by name first): the
    # evidence the CLI prints (items visiting, shares beginning and ending there, counted
    # here again from api.tiny's CSV), then the reason, quoting the words of the name that
    # matched (before, the reason alone, and without the words).
    evidence = {
        state: f"{items} item{'s' * (items != 1)} · {round(begin * 100)} % begin here · "
        f"{round(end * 100)} % end here"
        for state, (items, begin, end) in tiny_shares().items()
    }
    assert evidence["In Progress"] == "4 items · 25 % begin here · 25 % end here"
    cells = re.findall(
        r'<tr data-state="([^"]+)">.*?<td class="reason">([^<]*)</td>', page.text, re.S
    )
    why = {state: html.unescape(text) for state, text in cells}
    assert why == {
        "To Do": f"{evidence['To Do']} · its name says backlog ('To Do') and 100 % begin there",
        "In Progress": f"{evidence['In Progress']} · its name says work happens here "
        "('In Progress')",
        "Blocked": f"{evidence['Blocked']} · its name says waiting ('Blocked')",
        "Done": f"{evidence['Done']} · its name says done ('Done')",
    }
    assert "Why inferred" not in client.get("/streams/Tiny/workflow").text


def tiny_shares() -> dict[str, tuple[int, float, float]]:
    """Per state of api.tiny's CSV: items visiting it, shares of them beginning and ending
    there (the CSV lists each item's events in time order)."""
    journeys: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(TINY_CSV)):
        journeys.setdefault(row["item_id"], []).append(row["state"])
    states = {state for states in journeys.values() for state in states}
    out = {}
    for state in states:
        visiting = [j for j in journeys.values() if state in j]
        begin = sum(j[0] == state for j in visiting) / len(visiting)
        end = sum(j[-1] == state for j in visiting) / len(visiting)
        out[state] = (len(visiting), begin, end)
    return out


def test_infer_with_the_first_finish_measures_the_flags_again(client: TestClient) -> None:
    page = client.post(
        "/streams/Tiny/workflow/preview", data={**FORM, "action": "infer", "finish": "first"}
    )
    assert page.status_code == 200
    assert 'value="first" checked' in page.text
    # No Tiny item enters done twice, so the first entry is the last: still 11 of 12 cycle
    # days active (92 % > 60 %), In Progress holding 11 of the 12 in-process days.
    assert 'data-rule="flow_efficiency"' in page.text
    assert 'data-rule="active_state_share" data-state="In Progress"' in page.text
    assert figures(page.text, "proposed")["flow_efficiency"] == "92%"


def test_the_flags_read_the_events_once_per_version_of_the_stream(
    client: TestClient, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real = workspace.events

    def counted(stream: str) -> object:
        reads.append(stream)
        return real(stream)

    monkeypatch.setattr(workspace, "events", counted)
    for _ in range(3):
        page = client.get("/streams/Tiny/workflow")
        assert page.status_code == 200
        assert 'data-rule="active_state_share" data-state="In Progress"' in page.text
    assert reads == ["Tiny"]  # the flags' per-state evidence, once; the report is cached too
    # A new workflow is a new version of the stream: its evidence is read afresh.
    stored = workspace.stream("Tiny").workflow
    assert stored is not None
    workspace.set_workflow("Tiny", dataclasses.replace(stored, finish="first"))
    assert client.get("/streams/Tiny/workflow").status_code == 200
    assert reads == ["Tiny", "Tiny"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"state-1-category": "sideways"}, "state 'In Progress': category 'sideways'"),
        ({"state-2-position": "third"}, "state 'Blocked': position is 'third'"),
        ({"finish": "soon"}, "field 'finish' is 'soon'"),
        ({"state-3-category": "active"}, "field 'done' must name at least one state"),
    ],
)
def test_an_invalid_workflow_names_the_state_or_field(
    client: TestClient, workspace: Workspace, change: dict[str, str], named: str
) -> None:
    before = workspace.stream("Tiny").workflow
    for url, extra in (
        ("/streams/Tiny/workflow/preview", {"action": "preview"}),
        ("/streams/Tiny/workflow", {"base": fingerprint(before)}),
    ):
        page = client.post(url, data={**FORM, **change, **extra})
        assert page.status_code == 422, page.text[:500]
        assert named in html.unescape(page.text)
    assert workspace.stream("Tiny").workflow == before


def test_save_needs_an_editor_and_the_workflow_it_was_loaded_with(
    workspace: Workspace,
) -> None:
    app = create_app(lambda: workspace)
    stored = workspace.stream("Tiny").workflow
    edited = {**FORM, "finish": "first", "base": fingerprint(stored)}
    with TestClient(app, headers=bearer(workspace, "viewer", Role.VIEWER, "Tiny")) as viewer:
        assert viewer.post("/streams/Tiny/workflow", data=edited).status_code == 403
        page = viewer.get("/streams/Tiny/workflow").text
        assert 'value="save"' not in page  # no Save button for a viewer
        assert (
            viewer.post("/streams/Tiny/workflow/finish", data={"finish": "first"}).status_code
            == 403
        )
    assert workspace.stream("Tiny").workflow == stored
    with TestClient(app, headers=bearer(workspace, "editor", Role.EDITOR, "Tiny")) as editor:
        saved = editor.post("/streams/Tiny/workflow", data=edited, follow_redirects=False)
        assert saved.status_code == 303
        assert saved.headers["location"] == "/streams/Tiny/workflow?saved=1"
        now = workspace.stream("Tiny").workflow
        assert now is not None and now.finish == "first"
        assert stored is not None and now.categories() == stored.categories()
        # The same form again: its base is now stale, so it is refused and nothing changes.
        again = editor.post("/streams/Tiny/workflow", data={**edited, "finish": "last"})
        assert again.status_code == 409
        assert "changed since this page was loaded" in html.unescape(again.text)
        assert workspace.stream("Tiny").workflow == now


@pytest.fixture
def browser(workspace: Workspace) -> Iterator[TestClient]:
    """A browser signed in with a password (a cookie session, so forms need the CSRF token),
    as an editor of Tiny."""
    workspace.access.add_user("ed", Role.EDITOR, "Tiny", password="correct horse battery")
    with TestClient(create_app(lambda: workspace), follow_redirects=False) as client:
        token = CSRF.search(client.get("/sign-in").text)
        assert token is not None
        signed = client.post(
            "/sign-in",
            data={
                "name": "ed",
                "password": "correct horse battery",
                "next": "/",
                "csrf_token": token.group(1),
            },
        )
        assert signed.status_code == 303
        yield client


def test_save_needs_the_csrf_token(browser: TestClient, workspace: Workspace) -> None:
    stored = workspace.stream("Tiny").workflow
    edited = {**FORM, "finish": "first", "base": fingerprint(stored)}
    assert browser.post("/streams/Tiny/workflow", data=edited).status_code == 403
    assert (
        browser.post("/streams/Tiny/workflow/finish", data={"finish": "first"}).status_code == 403
    )
    assert workspace.stream("Tiny").workflow == stored
    page = browser.get("/streams/Tiny/workflow").text
    token = CSRF.search(page)
    assert token is not None
    saved = browser.post("/streams/Tiny/workflow", data={**edited, "csrf_token": token.group(1)})
    assert saved.status_code == 303
    now = workspace.stream("Tiny").workflow
    assert now is not None and now.finish == "first"


def test_the_dashboard_states_its_convention_and_switches_it(
    client: TestClient, workspace: Workspace
) -> None:
    page = client.get("/streams/Tiny").text
    line = page[page.index('id="conventions"') :]
    line = line[: line.index("</div>")]
    assert "Cycle time: first commitment → last entry into done." in line
    assert 'action="/streams/Tiny/workflow/finish"' in line
    assert 'name="finish" value="first"' in line
    switched = client.post(
        "/streams/Tiny/workflow/finish", data={"finish": "first"}, follow_redirects=False
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/streams/Tiny"
    stored = workspace.stream("Tiny").workflow
    assert stored is not None and stored.finish == "first"
    page = client.get("/streams/Tiny").text
    assert "Cycle time: first commitment → first entry into done." in page
    assert 'name="finish" value="last"' in page
    assert client.get("/api/streams/Tiny/flow").json()["conventions"]["finish"] == "first"


def test_a_viewer_sees_the_convention_without_the_switch(workspace: Workspace) -> None:
    app = create_app(lambda: workspace)
    with TestClient(app, headers=bearer(workspace, "viewer", Role.VIEWER, "Tiny")) as viewer:
        page = viewer.get("/streams/Tiny").text
    line = page[page.index('id="conventions"') :]
    line = line[: line.index("</div>")]
    assert "Cycle time: first commitment → last entry into done." in line
    assert "/workflow/finish" not in line
    assert "preview the first entry" in line
