"""Blocked time on the dashboard, and an impediment made a risk or an improvement in one
click. The stream is the cross-team fixture (tests/core/data/blockers/teams); its figures are
worked by hand in tests/core/test_blockers_cross_team.py and test_blockers_impediments.py.

Finished items P1 (cycle 10 d), P2 (6), L1 (5), W1 (6), N1 (6): Σ cycle 33 d. Blocked: P1
[3, 9) ∪ [10, 12) = 8 d (its "no dependency" [4, 5) is inside); P2 [3, 5) ∪ [6, 7) ∪ [8, 9)
= 4 d; W1 [5, 9) = 4 d (pre is before its start); N1 [3, 5) = 2 d; L1 none. Σ 18 d: share
18 / 33; items blocked 4; days 2, 4, 4, 8: p50 4, p85 at rank 2.55 = 4 + 0.55 × 4 = 6.2.
Blocked now: L2, since Jan 3, 9 days at the end of the data (Jan 12).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app_fixtures import app_over, bearer
from obeya.core.access import Role
from obeya.core.workflow import Workflow
from obeya.workspace import Workspace

DATA = Path(__file__).parents[1] / "core" / "data" / "blockers"
PAGE = "/streams/Teams"


@pytest.fixture
def teams(workspace: Workspace) -> Workspace:
    workflow = Workflow.from_toml(DATA / "workflow.toml")
    workspace.import_file(DATA / "teams" / "events.csv", "Teams", workflow=workflow)
    workspace.import_blockers(DATA / "teams" / "blockers.csv", "Teams")
    return workspace


def value(page: str, attribute: str) -> str:
    """The first ``data-value`` at or after ``attribute`` (a regular expression)."""
    found = re.search(rf'{attribute}.*?data-value="([^"]*)"', page, re.S)
    assert found is not None, attribute
    return found[1]


def test_the_dashboard_shows_blocked_time(client: TestClient, teams: Workspace) -> None:
    page = client.get(PAGE).text
    section = page[page.index('id="blocked"') :]
    assert float(value(section, 'data-tile="blocked_share"')) == pytest.approx(18 / 33)
    assert value(section, 'data-tile="items_blocked"') == "4"
    assert float(value(section, 'data-tile="blocked_p50"')) == pytest.approx(4.0)
    assert float(value(section, 'data-tile="blocked_p85"')) == pytest.approx(6.2)
    assert 'id="spec-blocked-by-reason"' in section
    now = re.findall(r'<tr data-item="([^"]+)">', section)
    assert now == ["L2"]
    assert float(value(section, '<tr data-item="L2">.*?class="num"')) == 9.0
    # Whom to call: L2's open blocker names the blocking item P1.
    waits = re.search(r'<tr data-item="L2">.*?<td data-waits-on>([^<]*)</td>', section, re.S)
    assert waits is not None and waits[1] == "P1"
    # Who waits on whom: Pay waits 9 days on Plat; 15 cross-team days.
    assert float(value(section, 'id="cross-team-days"')) == 15.0
    row = section[section.index('data-waiting="Pay"') :]
    assert float(value(row, 'data-blocking="Plat"')) == 9.0
    pairs = re.findall(r'data-pair="([^"]+)"', html.unescape(section))
    assert pairs == ["Pay → Plat", "Pay → Ops", "Web → Pay"]
    assert 'href="/streams/Teams/dependencies"' in section
    # The figures shown are the API's.
    blocked = client.get("/api/streams/Teams/flow").json()["blocked"]
    assert blocked["cross_team"]["cross_team_days"] == 15.0
    assert blocked["items_blocked"] == 4


def test_a_stream_without_blockers_has_no_section(client: TestClient) -> None:
    assert 'id="blocked"' not in client.get("/streams/Tiny").text


def test_one_click_makes_a_risk_that_shows_its_cost(client: TestClient, teams: Workspace) -> None:
    made = client.post(
        f"{PAGE}/blockers/risk",
        data={"waiting_team": "Pay", "blocking_team": "Plat"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert made.headers["location"] == "/streams/Teams/risks?saved=R-1#risk-R-1"
    risk = teams.steering.stream_record("risk", "R-1", "Teams").document
    assert (risk["waiting_team"], risk["blocking_team"]) == ("Pay", "Plat")
    assert (risk["probability"], risk["impact"], risk["state"]) == (1.0, 3.0, "open")
    board = client.get("/streams/Teams/risks").text
    # 9 blocked days in the 28 days up to Jan 12, ÷ 4 (tests/core/test_blockers_impediments).
    assert re.search(r'data-cost="2.25"', board)
    assert 'id="cost-rule"' in board
    item = client.post(
        f"{PAGE}/blockers/improvement",
        data={"item_id": "P1", "reason": "api"},
        follow_redirects=False,
    )
    assert item.headers["location"] == "/streams/Teams/roadmap?saved=I-1"
    saved = teams.steering.stream_record("improvement", "I-1", "Teams").document
    assert (saved["blocked_item"], saved["blocked_reason"]) == ("P1", "api")


def test_an_impediment_the_stream_lacks_is_refused(client: TestClient, teams: Workspace) -> None:
    missing = client.post(f"{PAGE}/blockers/risk", data={"item_id": "P1", "reason": "nope"})
    assert missing.status_code == 404
    half = client.post(f"{PAGE}/blockers/risk", data={"item_id": "P1"})
    assert half.status_code == 422
    assert client.post(f"{PAGE}/blockers/plan", data={}).status_code == 404
    assert teams.steering.records("risk", "Teams") == []


def test_a_viewer_can_neither_see_the_buttons_nor_post(teams: Workspace) -> None:
    headers = bearer(teams, "vic", Role.VIEWER, "Teams")
    with TestClient(app_over(teams), headers=headers) as viewer:
        page = viewer.get(PAGE).text
        assert 'id="blocked"' in page and "data-act=" not in page
        refused = viewer.post(f"{PAGE}/blockers/risk", data={"item_id": "P1", "reason": "api"})
        assert refused.status_code == 403
    outsider = bearer(teams, "out", Role.ADMIN, "Tiny")
    with TestClient(app_over(teams), headers=outsider) as other:
        assert other.post(f"{PAGE}/blockers/risk", data={}).status_code == 403
    assert teams.steering.records("risk", "Teams") == []


def test_a_small_blocked_share_is_not_shown_as_nothing() -> None:
    # 170.5 blocked days of 91,200.5 days of cycle time (the sample stream with a few blockers)
    # is 0.187 %: rounded to whole percent it read "0 %", as if blocking cost nothing.
    from obeya.web.view import blocked_view

    share = 170.5 / 91_200.5
    doc = {"blocked": {"share_of_cycle_time": share, "blocked_days": 170.5,
                       "cycle_time_days": 91_200.5, "days": {}, "now": []}}  # fmt: skip
    shown = blocked_view(doc)
    assert shown is not None
    tile = next(t for t in shown["tiles"] if t.key == "blocked_share")
    assert tile.value == "0.187 %"


def test_blockers_of_unknown_items_are_named_at_import_and_counted_on_the_page(
    client: TestClient, teams: Workspace, tmp_path: Path
) -> None:
    assert "data-unmatched" not in client.get(PAGE).text  # every blocked item has events
    typo = tmp_path / "typo.csv"
    typo.write_text(
        "item_id,blocked_at,unblocked_at,reason\nP9,2024-01-03,2024-01-04,api\n"
        "P1,2024-01-02,2024-01-03,late\n",
        encoding="utf-8",
    )
    counts = teams.import_blockers(typo, "Teams")
    assert (counts.added, counts.unknown) == (2, ("P9",))
    section = client.get(PAGE).text.split('id="blocked"', 1)[1]
    assert 'data-unmatched="1"' in section and "1 item with blockers is not among" in section


def test_the_dependencies_page_shows_the_waits_between_teams(
    client: TestClient, teams: Workspace
) -> None:
    # The fixture's top cross-team pairs (tests/core/test_blockers_cross_team.py): Pay waits
    # on Plat 9 days (P1 6, P2 3), then Pay on Ops and Web on Pay, 3 days each.
    page = client.get(f"{PAGE}/dependencies").text
    section = page[page.index("data-waits") : page.index('id="plans-heading"')]
    pairs = re.findall(r'<tr data-pair="([^"]+)">', section)
    assert pairs[0] == "Pay→Plat" and set(pairs[1:]) == {"Pay→Ops", "Web→Pay"}
    assert float(value(section, 'data-pair="Pay→Plat"')) == 9.0
    assert "P1 (6.0 d), P2 (3.0 d)" in section


def test_a_stream_without_blockers_has_no_waits_on_its_dependencies_page(
    client: TestClient,
) -> None:
    assert "data-waits" not in client.get("/streams/Tiny/dependencies").text
