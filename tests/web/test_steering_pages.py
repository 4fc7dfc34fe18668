"""The steering pages: the ROAM board (add, edit on a version, stale edits refused, history),
objectives with live and by-hand key results, the roadmap in WSJF order with kaizen events,
teams and skill coverage, the overview and the printable report (HTML and PDF).

Every expected figure is worked out here by hand (or from ``Workspace.flow`` for a window),
not read back from the views the pages use. "Today" is pinned with the ``today`` parameter.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app_fixtures import bearer
from obeya.core.access import Role
from obeya.core.metrics import FlowFilter
from obeya.render.report import report_pdf
from obeya.workspace import Workspace

TODAY = "2024-02-01"
RISKS = "/streams/Tiny/risks"


def alerts(page: str) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", m))
        for m in re.findall(r'role="alert"[^>]*>(.*?)</div>', page, re.S)
    ]


def post_risk(client: TestClient, **fields: str) -> Any:
    form = {
        "title": "A risk",
        "description": "",
        "teams": "",
        "probability": "0.5",
        "impact": "2",
        "owner": "ann",
        "due": "",
        "state": "open",
        "today": TODAY,
        **fields,
    }
    return client.post(RISKS, data=form, follow_redirects=False)


def column(page: str, state: str) -> list[str]:
    """The risk keys of one ROAM column, top to bottom."""
    start = page.index(f'data-column="{state}"')
    end = page.find('data-column="', start + 1)
    return re.findall(r'data-risk="([^"]+)"', page[start : end if end > 0 else None])


def card(page: str, key: str) -> str:
    start = page.index(f'data-risk="{key}"')
    return page[start : page.index("</li>", start)]


def edit_form(page: str, key: str) -> dict[str, str]:
    """A risk card's edit form as a browser would post it."""
    form = card(page, key)
    fields = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name[1]] = html.unescape(value[1]) if value else ""
    state = re.search(r'name="state">.*?<option value="([^"]*)" selected', form, re.S)
    assert state is not None
    fields["state"] = state[1]
    return fields


# -- risks ------------------------------------------------------------------------------------


def test_adding_a_risk_saves_what_was_posted(client: TestClient, workspace: Workspace) -> None:
    response = post_risk(
        client,
        key="R-1",
        title="Vendor API late",
        description="The payments vendor may slip",
        teams="Payments, Platform",
        probability="0.4",
        impact="5",
        owner="",
        due="2024-01-20",
        state="owned",
        message="raised in the review",
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{RISKS}?saved=R-1&today={TODAY}"
    stored = workspace.steering.record("risk", "R-1")
    assert stored.document == {
        "key": "R-1",
        "title": "Vendor API late",
        "description": "The payments vendor may slip",
        "teams": ["Payments", "Platform"],
        "probability": 0.4,
        "impact": 5.0,
        "owner": "",
        "due": "2024-01-20",
        "state": "owned",
        "blocked_item": "",
        "blocked_reason": "",
        "waiting_team": "",
        "blocking_team": "",
    }
    assert stored.stream == "Tiny"
    # The signed-in user is the author: the client's token is user "tester"'s.
    assert (stored.version.version, stored.version.author) == (1, "tester")
    assert stored.version.message == "raised in the review"
    # The same key again is refused, in words, and nothing is saved.
    again = post_risk(client, key="R-1", title="Another")
    assert again.status_code == 409
    assert any("already a risk 'R-1'" in a for a in alerts(again.text))
    assert 'value="Another"' in again.text  # the user's input is kept
    assert len(workspace.steering.record_history("risk", "R-1")) == 1


def test_bad_input_is_shown_and_nothing_saved(client: TestClient, workspace: Workspace) -> None:
    response = post_risk(client, key="R-9", probability="1.4")
    assert response.status_code == 422
    assert any("probability is '1.4'; a share is a fraction" in a for a in alerts(response.text))
    response = post_risk(client, key="R-9", impact="high")
    assert response.status_code == 422
    assert any("impact is 'high'; give a number" in a for a in alerts(response.text))
    assert workspace.steering.records("risk", "Tiny") == []


def test_the_board_puts_each_risk_in_its_column_by_exposure(
    client: TestClient, workspace: Workspace
) -> None:
    risks = {
        # key: (state, probability, impact, owner, due)
        "R-1": ("open", "0.2", "5", "ann", "2024-03-01"),  # exposure 1.0
        "R-2": ("open", "0.9", "3", "", "2024-01-15"),  # 2.7, overdue and unowned
        "R-3": ("open", "0.5", "4", "bob", "2024-01-31"),  # 2.0, overdue (due the day before)
        "R-4": ("owned", "0.1", "2", "cy", "2024-02-01"),  # 0.2, due today: not overdue
        "R-5": ("owned", "0.6", "5", "cy", ""),  # 3.0
        "R-6": ("resolved", "0.7", "1", "", "2024-01-01"),  # 0.7, resolved: no flags
        "R-7": ("mitigated", "0.3", "3", "", ""),  # 0.9, unowned
    }
    for key, (state, p, impact, owner, due) in risks.items():
        response = post_risk(
            client, key=key, state=state, probability=p, impact=impact, owner=owner, due=due
        )
        assert response.status_code == 303, alerts(response.text)
    page = client.get(RISKS, params={"today": TODAY}).text
    exposure = {k: float(v[1]) * float(v[2]) for k, v in risks.items()}
    for state in ("open", "owned", "accepted", "mitigated", "resolved"):
        keys = [k for k, v in risks.items() if v[0] == state]
        expected = sorted(keys, key=lambda k: (-exposure[k], k))
        assert column(page, state) == expected, state
    assert column(page, "open") == ["R-2", "R-3", "R-1"]
    today = date.fromisoformat(TODAY)
    for key, (state, _, _, owner, due) in risks.items():
        text = card(page, key)
        overdue = bool(due) and date.fromisoformat(due) < today and state != "resolved"
        unowned = not owner and state != "resolved"
        assert ('data-flag="overdue"' in text) is overdue, key
        assert ('data-flag="unowned"' in text) is unowned, key
        assert ("Overdue</span>" in text) is overdue  # a word, not only a colour
        assert ("Unowned</span>" in text) is unowned
        shown = re.search(r'data-exposure="([^"]+)"', text)
        assert shown is not None and float(shown[1]) == pytest.approx(exposure[key])
    # The summary: overdue R-2, R-3; unowned R-2, R-7; open exposure of the unresolved.
    assert "R-2, R-3" in page and "R-2, R-7" in page
    open_exposure = sum(e for k, e in exposure.items() if risks[k][0] != "resolved")
    shown = re.search(
        r"Open exposure</dt><dd><span class=\"tile-value\" data-value=\"([^\"]+)\"", page
    )
    assert shown is not None and float(shown[1]) == pytest.approx(open_exposure)
    # Without a pinned today the server's date is used: everything due in 2024 is overdue.
    assert 'data-flag="overdue"' in card(client.get(RISKS).text, "R-1")


def test_an_edit_saves_on_its_version_and_a_stale_one_is_refused(
    client: TestClient, workspace: Workspace
) -> None:
    post_risk(client, key="R-1", owner="", probability="0.5", impact="2")
    page = client.get(RISKS, params={"today": TODAY}).text
    form = edit_form(page, "R-1")
    assert form["expected_version"] == "1" and form["today"] == TODAY
    # Ann and Bob, each signed in by their own token, edit the card loaded at version 1.
    ann = bearer(workspace, "ann", Role.EDITOR, "Tiny")
    bob = bearer(workspace, "bob", Role.EDITOR, "Tiny")
    mine = {**form, "state": "owned", "owner": "ann", "message": "I take it"}
    theirs = {**form, "owner": "bob", "probability": "0.8"}
    saved = client.post(f"{RISKS}/R-1", data=mine, headers=ann, follow_redirects=False)
    assert saved.status_code == 303
    stored = workspace.steering.record("risk", "R-1")
    assert (stored.version.version, stored.version.author) == (2, "ann")
    assert (stored.document["state"], stored.document["owner"]) == ("owned", "ann")
    assert stored.document["probability"] == 0.5  # unchanged fields kept
    # Bob's form was loaded at version 1 too: refused with the store's message, his input kept.
    stale = client.post(f"{RISKS}/R-1", data=theirs, headers=bob)
    assert stale.status_code == 409
    message = " ".join(alerts(stale.text))
    assert "risk 'R-1' changed since version 1 (now 2) by ann" in message
    assert "reload and apply your change again" in message
    kept = edit_form(stale.text, "R-1")
    assert (kept["owner"], kept["probability"], kept["expected_version"]) == ("bob", "0.8", "1")
    assert len(workspace.steering.record_history("risk", "R-1")) == 2
    assert workspace.steering.record("risk", "R-1").document["owner"] == "ann"


def test_no_form_asks_for_an_author_and_a_posted_one_is_ignored(
    client: TestClient, workspace: Workspace
) -> None:
    """The signed-in user is the author of every version saved through the pages: no form
    has an Author field, and an author posted anyway (an old page, a script) is not stored."""
    assert post_risk(client, key="R-1", author="mallory").status_code == 303
    assert workspace.steering.record("risk", "R-1").version.author == "tester"
    found = client.post("/streams/Tiny/map", data={"author": "mallory"}, follow_redirects=False)
    assert found.status_code == 303
    assert workspace.get_map("Tiny").version.author == "tester"
    plan = {"key": "P-1", "name": "Release", "start": "2024-01-01",
            "task": [{"id": "a", "team": "x", "duration_days": 3}]}  # fmt: skip
    workspace.steering.save_record("plan", plan, author="t", stream="Tiny")
    stream = "/streams/Tiny"
    pages = [RISKS, f"{stream}/objectives", f"{stream}/roadmap", f"{stream}/dependencies",
             f"{stream}/dependencies/P-1", f"{stream}/experiments", "/teams",
             "/maps/Tiny/current"]  # fmt: skip
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'name="author"' not in page.text, url


def test_history_lists_each_version_with_the_changed_fields(
    client: TestClient, workspace: Workspace
) -> None:
    post_risk(client, key="R-1", owner="", due="2024-03-01")
    form = edit_form(client.get(RISKS).text, "R-1")
    client.post(
        f"{RISKS}/R-1",
        data={**form, "state": "owned", "owner": "ann", "message": "owned"},
    )
    page = client.get(f"{RISKS}/R-1/history").text
    rows = re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', page, re.S)
    assert [v for v, _ in rows] == ["2", "1"]
    newest = rows[0][1]
    assert "<td>tester</td>" in newest and "owned" in newest  # the signed-in user saved it
    changes = re.findall(
        r'data-field="([^"]+)"><code>[^<]*</code>: <span class="before">([^<]*)</span>'
        r'.*?<span class="after">([^<]*)</span>',
        newest,
    )
    assert changes == [("owner", "—", "ann"), ("state", "open", "owned")]
    assert "created" in rows[1][1]
    version = workspace.steering.record_history("risk", "R-1")[1][0]
    assert version.created_at.strftime("%Y-%m-%d %H:%M") in newest
    # A record of another stream, or an unknown one, is not found.
    assert client.get(f"{RISKS}/R-404/history").status_code == 404


# -- objectives -------------------------------------------------------------------------------


def objective_form(**fields: str) -> dict[str, str]:
    return {"key": "O-1", "title": "Faster flow", "owner": "vsm", "today": TODAY, **fields}


def test_a_bound_key_result_shows_the_metric_over_its_window(
    client: TestClient, workspace: Workspace
) -> None:
    form = objective_form(
        **{
            "kr-0-key": "ct",
            "kr-0-title": "Cycle time p85 under 5 days",
            "kr-0-metric": "cycle_time_p85",
            "kr-0-comparator": "<=",
            "kr-0-target": "5",
            "kr-0-by": "2024-06-30",
            "kr-0-baseline": "8",
            "kr-0-window_days": "7",
        }
    )
    response = client.post("/streams/Tiny/objectives", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert workspace.steering.record("objective", "O-1").document == {
        "key": "O-1",
        "title": "Faster flow",
        "description": "",
        "owner": "vsm",
        "key_results": [
            {
                "key": "ct",
                "title": "Cycle time p85 under 5 days",
                "metric": "cycle_time_p85",
                "comparator": "<=",
                "target": 5.0,
                "by": "2024-06-30",
                "baseline": 8.0,
                "current": None,
                "window_days": 7,
            }
        ],
    }
    # The window: the last 7 days of the stream's history, up to its last event.
    as_of = date.fromisoformat(workspace.flow("Tiny").to_dict()["aging_wip"]["as_of"])
    window = FlowFilter(since=as_of - timedelta(days=6), until=as_of)
    expected = workspace.flow("Tiny", window).to_dict()["cycle_time_days"]["p85"]
    # By hand: B (6 days) and C (4 days) finish from 6 to 12 January; p85 = 4 + 0.85 × 2.
    assert expected == pytest.approx(5.7)
    page = client.get("/streams/Tiny/objectives", params={"today": TODAY}).text
    row = page[page.index('data-kr="ct"') :]
    value = re.search(r'data-value="([^"]*)"', row)
    assert value is not None and float(value[1]) == pytest.approx(expected)
    assert "cycle time p85 over the last 7 days" in row
    # 5.7 > 5: not met; progress (8 − 5.7) ÷ (8 − 5) = 77 %.
    progress = re.search(r'data-progress="([^"]*)"', row)
    assert progress is not None and float(progress[1]) == pytest.approx((8 - 5.7) / (8 - 5))
    assert "77 %" in row[: row.index("</tr>")]
    assert 'data-flag="overdue"' not in row[: row.index("</tr>")]


def test_by_hand_progress_update_and_overdue(client: TestClient, workspace: Workspace) -> None:
    form = objective_form(
        **{
            "kr-0-key": "defects",
            "kr-0-title": "Escaped defects a month",
            "kr-0-comparator": "<=",
            "kr-0-target": "4",
            "kr-0-baseline": "10",
            "kr-0-current": "7",
            "kr-0-by": "2024-01-31",
            "kr-1-key": "nps",
            "kr-1-title": "NPS",
            "kr-1-comparator": ">=",
            "kr-1-target": "50",
            "kr-1-current": "55",
        }
    )
    assert client.post("/streams/Tiny/objectives", data=form).status_code == 200
    results = workspace.steering.record("objective", "O-1").document["key_results"]
    assert [(r["key"], r["metric"], r["current"]) for r in results] == [
        ("defects", None, 7.0),
        ("nps", None, 55.0),
    ]
    page = client.get("/streams/Tiny/objectives", params={"today": TODAY}).text

    def row(page: str, key: str) -> str:
        start = page.index(f'data-kr="{key}"')
        return page[start : page.index("</tr>", start)]

    defects = row(page, "defects")
    # (baseline − value) ÷ (baseline − target) = (10 − 7) ÷ (10 − 4) = 50 %; due 31 January.
    assert 'data-progress="0.5"' in defects and "50 %" in defects
    assert 'data-flag="overdue"' in defects and "Overdue" in defects
    assert "by hand" in defects and "Not yet" in defects
    nps = row(page, "nps")
    assert "✓ Met" in nps and "100 %" in nps and "Overdue" not in nps
    # The update form saves the value as the objective's version 2.
    update = {"expected_version": "1", "current": "6", "today": TODAY}
    response = client.post(
        "/streams/Tiny/objectives/O-1/results/defects", data=update, follow_redirects=False
    )
    assert response.status_code == 303
    stored = workspace.steering.record("objective", "O-1")
    assert stored.version.version == 2 and stored.version.author == "tester"
    assert stored.document["key_results"][0]["current"] == 6.0
    page = client.get("/streams/Tiny/objectives", params={"today": TODAY}).text
    assert f'data-progress="{(10 - 6) / (10 - 4)}"' in row(page, "defects")
    assert "67 %" in row(page, "defects")
    # Stale: the same form again is refused and the typed value kept.
    stale = client.post("/streams/Tiny/objectives/O-1/results/defects", data=update)
    assert stale.status_code == 409
    assert any("changed since version 1 (now 2)" in a for a in alerts(stale.text))
    assert len(workspace.steering.record_history("objective", "O-1")) == 2
    history = client.get("/streams/Tiny/objectives/O-1/history").text
    assert 'data-field="key_results.0.current"' in history
    assert '<span class="before">7</span>' in history and '<span class="after">6</span>' in history


def test_a_bad_objective_is_refused_with_the_field(
    client: TestClient, workspace: Workspace
) -> None:
    form = objective_form(**{"kr-0-key": "x", "kr-0-title": "X", "kr-0-comparator": "<="})
    response = client.post("/streams/Tiny/objectives", data=form)
    assert response.status_code == 422
    assert any("key_results[0]: target is missing" in a for a in alerts(response.text))
    assert 'value="Faster flow"' in response.text
    assert workspace.steering.records("objective", "Tiny") == []


# -- roadmap ----------------------------------------------------------------------------------

#: Hand-worked: cost of delay = BV + TC + RR; WSJF = CoD ÷ job size.
ITEMS = {
    # key: (status, BV, TC, RR, job size) → CoD, WSJF
    "A": ("planned", 8, 5, 3, 2),  # 16, 8
    "B": ("idea", 3, 2, 1, 1),  # 6, 6
    "C": ("in progress", 13, 8, 5, 13),  # 26, 2
    "D": ("done", 20, 20, 0, 5),  # 40, 8: done, so after every open item
}
WSJF = {"A": 8.0, "B": 6.0, "C": 2.0, "D": 8.0}


def post_item(client: TestClient, key: str, **extra: str) -> Any:
    status, bv, tc, rr, size = ITEMS[key]
    form = {
        "key": key,
        "title": f"Item {key}",
        "kind": "kaizen",
        "status": status,
        "owners": "ann, bob",
        "map": "Tiny",
        "step": "Review",
        "target": "waiting",
        "business_value": str(bv),
        "time_criticality": str(tc),
        "risk_reduction": str(rr),
        "job_size": str(size),
        **extra,
    }
    return client.post("/streams/Tiny/roadmap", data=form, follow_redirects=False)


def test_the_roadmap_is_in_wsjf_order_quick_wins_first(
    client: TestClient, workspace: Workspace
) -> None:
    for key in ITEMS:
        assert post_item(client, key).status_code == 303
    assert workspace.steering.record("improvement", "A").document == {
        "key": "A",
        "title": "Item A",
        "kind": "kaizen",
        "status": "planned",
        "owners": ["ann", "bob"],
        "map": "Tiny",
        "step": "Review",
        "target": "waiting",
        "business_value": 8.0,
        "time_criticality": 5.0,
        "risk_reduction": 3.0,
        "job_size": 2.0,
        "blocked_item": "",
        "blocked_reason": "",
        "waiting_team": "",
        "blocking_team": "",
    }
    page = client.get("/streams/Tiny/roadmap").text
    rows = re.findall(r'<tr data-item="([^"]+)" data-rank="(\d+)"', page)
    assert rows == [("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")]
    for key, wsjf in WSJF.items():
        start = page.index(f'data-item="{key}"')
        row = page[start : page.index("</tr>", start)]
        assert f'data-wsjf="{wsjf}"' in row
        _, bv, tc, rr, _ = ITEMS[key]
        assert f'data-cod="{float(bv + tc + rr)}"' in row
        # Quick win: WSJF in the open items' top third (8) and job size ≤ their median (2).
        assert ('data-flag="quick-win"' in row) is (key == "A"), key


def test_editing_an_item_saves_a_new_version(client: TestClient, workspace: Workspace) -> None:
    post_item(client, "B")
    page = client.get("/streams/Tiny/roadmap", params={"edit": "B"}).text
    assert "Edit B" in page and 'name="expected_version" value="1"' in page
    response = post_item(client, "B", status="done", expected_version="1", message="shipped")
    assert response.status_code == 303
    stored = workspace.steering.record("improvement", "B")
    assert (stored.version.version, stored.document["status"]) == (2, "done")
    stale = post_item(client, "B", status="dropped", expected_version="1")
    assert stale.status_code == 409
    assert workspace.steering.record("improvement", "B").document["status"] == "done"
    history = client.get("/streams/Tiny/roadmap/B/history").text
    assert 'data-field="status"' in history and "shipped" in history


def test_kaizen_events_are_recorded(client: TestClient, workspace: Workspace) -> None:
    post_item(client, "A")
    form = {
        "key": "K-1",
        "title": "Review blitz",
        "start": "2024-01-08",
        "end": "2024-01-10",
        "participants": "ann, bob",
        "outcomes": "WIP limit of 3 on Review\r\nPairing on reviews\r\n",
        "improvements": ["A"],
    }
    response = client.post("/streams/Tiny/kaizen-events", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert workspace.steering.record("kaizen-event", "K-1").document == {
        "key": "K-1",
        "title": "Review blitz",
        "start": "2024-01-08",
        "end": "2024-01-10",
        "participants": ["ann", "bob"],
        "outcomes": ["WIP limit of 3 on Review", "Pairing on reviews"],
        "improvements": ["A"],
    }
    page = client.get("/streams/Tiny/roadmap").text
    assert 'data-event="K-1"' in page and "2024-01-08 to 2024-01-10" in page
    bad = client.post(
        "/streams/Tiny/kaizen-events", data={**form, "key": "K-2", "end": "2024-01-01"}
    )
    assert bad.status_code == 422
    assert any("end is 2024-01-01, before start 2024-01-08" in a for a in alerts(bad.text))


# -- teams ------------------------------------------------------------------------------------


def test_teams_people_and_the_coverage_matrix(client: TestClient, workspace: Workspace) -> None:
    for form in (
        {"key": "T1", "name": "Checkout", "streams": "Tiny"},
        {"key": "T2", "name": "Platform", "streams": "Tiny, Other"},
    ):
        assert client.post("/teams/team", data=form, follow_redirects=False).status_code == 303
    refused = client.post("/teams/person", data={"key": "ann", "teams": "T1, T9"})
    assert refused.status_code == 422
    assert any("'T9'" in a and "not a" in a for a in alerts(refused.text))
    assert workspace.steering.records("person") == []
    for form in (
        {"key": "ann", "name": "Ann", "teams": "T1", "skills": "python, sql"},
        {"key": "bob", "name": "Bob", "teams": "T2", "skills": "python"},
        {"key": "cy", "name": "Cy", "teams": "", "skills": "ux"},
    ):
        assert client.post("/teams/person", data=form, follow_redirects=False).status_code == 303
    profile = {"key": "Tiny", "needs": "python, ux", "products": "Shop"}
    assert client.post("/teams/profile", data=profile, follow_redirects=False).status_code == 303
    assert workspace.steering.record("person", "ann").document == {
        "key": "ann",
        "name": "Ann",
        "teams": ["T1"],
        "skills": ["python", "sql"],
    }
    assert workspace.steering.record("stream-profile", "Tiny").document == {
        "key": "Tiny",
        "needs": ["python", "ux"],
        "products": ["Shop"],
    }
    page = client.get("/teams").text
    # By hand: Tiny's people are ann (T1) and bob (T2); Other's is bob. Cy is in no team.
    expected = {
        "Tiny": {"python": "2", "sql": "1", "ux": "0"},
        "Other": {"python": "1", "sql": "0", "ux": "0"},
    }
    for stream, counts in expected.items():
        start = page.index(f'<tr data-stream="{stream}">')
        row = page[start : page.index("</tr>", start)]
        cells = dict(re.findall(r'data-skill="([^"]+)" data-count="(\d+)"', row))
        assert cells == counts, stream
    tiny = page[page.index('<tr data-stream="Tiny">') :]
    assert 'data-lacking="ux"' in tiny[: tiny.index("</tr>")]
    assert "0 lacking" in tiny[: tiny.index("</tr>")]
    assert '<li data-person="bob">bob: Other, Tiny</li>' in page
    assert "Not in any stream: cy." in page


# -- overview and the report ------------------------------------------------------------------


def steer(client: TestClient) -> None:
    post_risk(client, key="R-1", title="Vendor API late", probability="0.5", impact="4")
    post_risk(client, key="R-2", title="Old risk", state="resolved")
    post_item(client, "A")
    post_item(client, "D")
    form = objective_form(
        **{
            "kr-0-key": "wip",
            "kr-0-title": "WIP at most 2",
            "kr-0-metric": "wip",
            "kr-0-comparator": "<=",
            "kr-0-target": "2",
        }
    )
    client.post("/streams/Tiny/objectives", data=form)


def tile(page: str, key: str) -> str:
    found = re.search(
        rf'data-tile="{key}"><dt>[^<]*</dt><dd><span class="tile-value">([^<]*)<', page
    )
    assert found is not None, key
    return found[1]


def test_the_overview_shows_the_stream_at_a_glance(client: TestClient) -> None:
    steer(client)
    page = client.get("/streams/Tiny/overview", params={"today": TODAY}).text
    # Tiny (tests/api/tiny.py): 3 finished, 1 in progress, p50 4, p85 5.4, 11 ÷ 12 active.
    assert tile(page, "finished") == "3"
    assert tile(page, "wip") == "1"
    assert tile(page, "p50") == "4.0"  # days to one decimal, as the dashboard's tiles
    assert tile(page, "p85") == "5.4"
    assert tile(page, "flow_efficiency") == "92 %"
    assert tile(page, "open_exposure") == "2"  # R-1: 0.5 × 4 (R-2 is resolved)
    found = re.search(r'id="spec-throughput">(.*?)</script>', page, re.S)
    assert found is not None
    weeks = json.loads(found[1])["datasets"]["weeks"]
    assert [(w["week"], w["items"]) for w in weeks] == [("2024-01-01", 1), ("2024-01-08", 2)]
    assert 'data-risk="R-1"' in page and 'data-risk="R-2"' not in page
    assert 'data-item="A"' in page and 'data-item="D"' not in page  # done is not in flight
    assert 'data-objective="O-1"' in page and "✓ Met" in page  # WIP 1 ≤ 2
    for link in ("risks", "objectives", "roadmap"):
        assert f'href="/streams/Tiny/{link}"' in page
    assert 'href="/streams/Tiny/report.pdf?today=2024-02-01"' in page


def test_the_report_page_is_self_contained(client: TestClient) -> None:
    steer(client)
    response = client.get("/streams/Tiny/report.html", params={"today": TODAY})
    assert response.status_code == 200
    page = response.text
    assert "<svg" in page and "</svg>" in page
    assert "<script" not in page and 'rel="stylesheet"' not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "@media print" in page
    assert "Value stream review: Tiny" in page and "Report of 2024-02-01" in page
    assert 'data-figure="p85"><dt>Cycle time p85</dt><dd>5.4 <span class="unit">days</span>' in page
    assert "Vendor API late" in page and "Item A" in page and "WIP at most 2" in page


def test_the_report_pdf(client: TestClient, workspace: Workspace) -> None:
    steer(client)
    response = client.get("/streams/Tiny/report.pdf", params={"today": TODAY})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="Tiny-review-2024-02-01.pdf"' in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    assert b"/Title (Value stream review: Tiny)" in response.content
    assert b"/Subtype /Image" in response.content  # the throughput chart
    # Uncompressed, the page text can be read: the stream, the figures and the tables.
    plain = report_pdf(
        workspace.steering.overview("Tiny", date.fromisoformat(TODAY)), compress=False
    )
    for text in (b"Value stream review: Tiny", b"Report of 2024-02-01", b"Vendor API late"):
        assert text in plain, text
    assert b"(5.4 days)" in plain


# -- the frame --------------------------------------------------------------------------------


PAGES = [
    f"{RISKS}?today={TODAY}",
    "/streams/Tiny/objectives",
    "/streams/Tiny/roadmap",
    "/streams/Tiny/roadmap?edit=A",
    "/teams",
    "/streams/Tiny/overview",
    f"{RISKS}/R-1/history",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_input_has_a_label_and_headings_are_in_order(client: TestClient, path: str) -> None:
    steer(client)
    client.post("/teams/team", data={"key": "T1", "streams": "Tiny"})
    client.post("/teams/person", data={"key": "ann", "teams": "T1", "skills": "python"})
    response = client.get(path)
    assert response.status_code == 200
    page = response.text
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


def test_navigation_links(client: TestClient) -> None:
    dashboard = client.get("/streams/Tiny").text
    for page in ("overview", "risks", "objectives", "roadmap"):
        assert f'href="/streams/Tiny/{page}"' in dashboard
    assert '<a href="/teams">Teams</a>' in client.get("/").text


def test_unknown_streams_are_not_found(client: TestClient) -> None:
    for path in ("risks", "objectives", "roadmap", "overview", "report.html", "report.pdf"):
        response = client.get(f"/streams/Nope/{path}", headers={"Accept": "text/html"})
        assert response.status_code == 404, path
    assert client.post("/streams/Nope/risks", data={"key": "R"}).status_code == 404


def test_dependency_plans_are_in_the_overview_and_the_report(
    client: TestClient, workspace: Workspace
) -> None:
    plan = {
        "key": "P-1",
        "name": "Release",
        "start": "2024-01-01",
        "task": [
            {"id": "a", "name": "API", "team": "x", "duration_days": 3},
            {
                "id": "b",
                "name": "UI",
                "team": "y",
                "duration_days": 2,
                "depends_on": ["a"],
                "need_by": "2024-01-03",
            },
        ],
    }
    workspace.steering.save_record("plan", plan, author="t", stream="Tiny")
    # By hand: a runs 1–3 January, b 4–5 January: 5 days, 2 days after its need-by date.
    page = client.get("/streams/Tiny/overview").text
    row = page[page.index('data-plan="P-1"') :]
    row = row[: row.index("</tr>")]
    assert "5 days" in row and "a → b" in row and "b: 2 days late" in row
    assert "<h2>Dependencies</h2>" in client.get("/streams/Tiny/report.html").text
    plain = report_pdf(workspace.steering.overview("Tiny"), compress=False)
    assert b"a -> b" in plain and b"b: 2 days late" in plain


@pytest.mark.parametrize("typed", ["0.3", "30%", "30 %"])
def test_a_risk_probability_is_typed_as_a_fraction_or_in_percent(
    client: TestClient, workspace: Workspace, typed: str
) -> None:
    """0.3, 30% and 30 % are the same share: stored as 0.3, shown as 30 % on the board and in
    the edit form; exposure 0.3 × impact 2 = 0.6."""
    response = post_risk(client, key="R-7", probability=typed)
    assert response.status_code == 303, response.text
    assert workspace.steering.record("risk", "R-7").document["probability"] == pytest.approx(0.3)
    page = client.get(RISKS, params={"today": TODAY}).text
    card = page[page.index('data-exposure="0.6') :]
    assert card.startswith('data-exposure="0.6') and "(30 % × 2)" in card[:200]
    assert 'name="probability" type="text" inputmode="decimal" value="30 %"' in page
