"""The twin routes and page on a stored stream whose truth is known (150 days of the truth
stream of tests/simulation/truth_stream.py): the documents equal the core's on the same log,
the file reads back as the twin, the check carries its verdict, and bad input or a stranger
gets the one error shape."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app_fixtures import bearer
from obeya.core.twin.files import twin_from_dict
from obeya.core.twin.fit import fit_twin
from obeya.core.twin.holdout import holdout_check
from obeya.core.twin.summary import twin_summary
from obeya.core.workflow import Workflow
from obeya.workspace import Workspace
from simulation.truth_stream import WORKFLOW_TOML, TrueStream, generate

TRUTH = TrueStream()
WORKFLOW = Workflow.from_toml_text(WORKFLOW_TOML)
BASE = "/api/streams/Truth/twin"


@pytest.fixture
def truth(workspace: Workspace, tmp_path: Path) -> Workspace:
    events = generate(TRUTH, 150, 1)
    path = tmp_path / "truth.csv"
    lines = ["item_id,state,timestamp,assignee"]
    lines += [
        f"{e.item_id},{e.state},{e.timestamp.isoformat().replace('+00:00', 'Z')},{e.assignee or ''}"
        for e in events
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    workspace.import_file(path, "Truth", workflow=WORKFLOW)
    workspace.set_workflow("Truth", WORKFLOW)
    return workspace


def test_the_twin_document_is_the_core_fit_of_the_stream(
    truth: Workspace, client: TestClient
) -> None:
    response = client.get(BASE)
    assert response.status_code == 200, response.text
    doc = response.json()
    expected = twin_summary(fit_twin(truth.events("Truth"), WORKFLOW))
    for key in ("name", "fitted"):  # they name the log's source
        doc.pop(key), expected.pop(key)
    assert doc == json.loads(json.dumps(expected))
    assert {s["name"]: s["people"] for s in doc["steps"]} == TRUTH.people
    file = client.get(f"{BASE}/file")
    assert file.status_code == 200
    assert file.headers["content-disposition"] == 'attachment; filename="twin.toml"'
    again = twin_from_dict(tomllib.loads(file.text))
    assert {s.name: s.people for s in again.steps} == TRUTH.people


def test_the_check_is_the_core_check_with_its_verdict(truth: Workspace, client: TestClient) -> None:
    response = client.get(f"{BASE}/holdout", params={"holdout": "20%", "replications": 3})
    assert response.status_code == 200, response.text
    doc = response.json()
    core = holdout_check(truth.events("Truth"), WORKFLOW, share=0.2, replications=3).to_dict()
    assert doc == json.loads(json.dumps(core))
    assert doc["verdict"] in ("trust it", "direction only", "do not use it")
    assert doc["given_arrivals"]["verdict"] == "trust it"
    page = client.get("/streams/Truth/twin", params={"holdout": "20%", "replications": "3"})
    assert page.status_code == 200
    assert f'data-verdict="{doc["verdict"]}"' in page.text
    assert 'data-verdict="trust it"' in page.text
    assert "Development" in page.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"holdout": "lots"}, "give a share: a fraction (0.2) or a percentage (20 %)"),
        ({}, "give holdout (e.g. 20%) or validate_from"),
        ({"holdout": "20%", "validate_from": "2024-03-01"}, "one of them"),
        ({"holdout": "150%"}, "give a share from 0 % to 100 %"),
        ({"holdout": "20"}, "write 0.2 or 20 %"),
        ({"validate_from": "2030-01-01"}, "not inside the log"),
    ],
)
def test_a_bad_check_is_refused_naming_what_is_wrong(
    truth: Workspace, client: TestClient, params: dict[str, str], message: str
) -> None:
    response = client.get(f"{BASE}/holdout", params=params)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]
    page = client.get("/streams/Truth/twin", params=params)
    # No check asked: the page shows the twin; a date and a share: the form's date wins.
    if not params or {"validate_from", "holdout"} <= set(params):
        assert page.status_code == 200
    else:
        assert page.status_code == 422 and message in page.text


def test_only_who_may_see_the_stream_sees_its_twin(truth: Workspace, client: TestClient) -> None:
    stranger = bearer(truth, "stranger", stream="Tiny")
    for url in (BASE, f"{BASE}/file", f"{BASE}/holdout?holdout=20%", "/streams/Truth/twin"):
        assert client.get(url, headers=stranger).status_code in (403, 404), url
    assert client.get("/api/streams/Nowhere/twin").status_code == 404


def test_a_discovered_map_to_scenario_gives_the_stream_twin(
    truth: Workspace, client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`obeya map to-scenario` of a map discovered from a stream (and not edited since) is the
    stream's twin; once a person edits the map, it is the map's own scenario again."""
    from typer.testing import CliRunner

    from obeya.cli.main import app

    saved = client.post("/api/streams/Truth/map", json={"name": "Truth map"})
    assert saved.status_code == 200, saved.text
    monkeypatch.setenv("OBEYA_DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(app, ["map", "to-scenario", "Truth map"])
    assert result.exit_code == 0, result.output
    assert "its model is the stream's twin" in " ".join(result.stderr.split())
    twin = twin_from_dict(tomllib.loads(result.stdout))
    assert {s.name: s.people for s in twin.steps} == TRUTH.people
    edited = truth.get_map("Truth map").map
    truth.save_map(edited, author="Ann", message="one more tester", stream="Truth")
    again = runner.invoke(app, ["map", "to-scenario", "Truth map"])
    assert again.exit_code == 0, again.output
    assert "[[state]]" not in again.stdout and "[[step]]" in again.stdout


def test_the_what_if_is_the_core_what_if_of_the_stream_twin(
    truth: Workspace, client: TestClient
) -> None:
    """POST .../twin/what-if equals the core's what-if on the same twin, and the page shows
    the same figures; a change the twin cannot make is refused naming the future."""
    from obeya.core.twin.whatif import parse_twin_change, twin_what_if

    body = {
        "futures": [
            {"name": "one more dev", "changes": ["Development.people=+1"]},
            {"name": "demand", "changes": ["arrivals=+10%"]},
        ],
        "days": 60,
        "replications": 3,
    }
    response = client.post(f"{BASE}/what-if", json=body)
    assert response.status_code == 200, response.text
    doc = response.json()
    core = twin_what_if(
        fit_twin(truth.events("Truth"), WORKFLOW),
        [
            ("one more dev", [parse_twin_change("Development.people=+1")]),
            ("demand", [parse_twin_change("arrivals=+10%")]),
        ],
        days=60,
        replications=3,
    ).to_dict()
    doc.pop("baseline"), core.pop("baseline")
    doc["scenarios"][0].pop("scenario"), core["scenarios"][0].pop("scenario")
    assert doc == json.loads(json.dumps(core))
    more = doc["scenarios"][1]
    assert more["steps"][1]["people"] == TRUTH.people["Development"] + 1
    page = client.get("/streams/Truth/twin", params={"more_people": "Development", "days": "60"})
    assert page.status_code == 200
    assert 'data-scenario="+1 person at Development"' in page.text
    # The page's demand field is a change in percent: "+10", "10" and "+10%" alike.
    for typed in ("+10", "10", "+10%"):
        page = client.get("/streams/Truth/twin", params={"demand": typed, "days": "60"})
        assert page.status_code == 200 and 'data-scenario="demand +10 %"' in page.text
    bad = client.post(
        f"{BASE}/what-if", json={"futures": [{"name": "x", "changes": ["Nowhere.people=+1"]}]}
    )
    assert bad.status_code == 422
    assert "future 'x'" in bad.json()["error"]["message"]
    assert "no step 'Nowhere'" in bad.json()["error"]["message"]


def test_the_page_shows_where_the_twin_parted_from_what_followed(
    workspace: Workspace, client: TestClient, tmp_path: Path
) -> None:
    """The truth stream whose done items are all archived on one day after the cut (a move
    it never made before): the check's ``apart`` names Done → Archived with its count, the
    same in the API and as a table on the page."""
    events = generate(TRUTH, 150, 1)
    done = sorted({e.item_id for e in events if e.state == "Done"})[:80]
    lines = ["item_id,state,timestamp"]
    lines += [
        f"{e.item_id},{e.state},{e.timestamp.isoformat().replace('+00:00', 'Z')}" for e in events
    ]
    last = max(e.timestamp for e in events)
    lines += [f"{i},Archived,{last.isoformat().replace('+00:00', 'Z')}" for i in done]
    path = tmp_path / "archived.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    workflow = Workflow.from_toml_text(
        WORKFLOW_TOML.replace('done = ["Done"]', 'done = ["Done", "Archived"]')
    )
    assert "Archived" in workflow.categories()
    workspace.import_file(path, "Archived", workflow=workflow)
    workspace.set_workflow("Archived", workflow)
    params = {"holdout": "20%", "replications": "2"}
    doc = client.get("/api/streams/Archived/twin/holdout", params=params).json()
    move = doc["apart"][0]
    assert (move["from"], move["to"], move["actual"]) == ("Done", "Archived", 80)
    page = client.get("/streams/Archived/twin", params=params)
    assert page.status_code == 200
    assert 'id="apart"' in page.text and "Done → Archived" in page.text
    # The table names the moves; the verdict's words do not list them again.
    assert "Where it parted from what followed:" in doc["explanation"]
    assert "moves after the cut" not in page.text
    assert doc["verdict_reason"] in doc["explanation"]
