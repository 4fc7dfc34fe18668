"""A stream renamed and deleted by its admins: on the access page (with confirmation), by
``PATCH``/``DELETE /api/streams/{name}`` and by ``obeya stream``; what it holds follows a
rename, and every change is in the audit log."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app_fixtures import TestClient, bearer
from obeya.cli.main import app
from obeya.core.access import Grant, Role
from obeya.workspace import Workspace


def test_an_admin_renames_a_stream_and_what_it_holds_follows(
    client: TestClient, workspace: Workspace
) -> None:
    before = workspace.stream("Tiny")
    sam = bearer(workspace, "sam", Role.ADMIN, "Tiny")  # audited as user.grant on Tiny
    page = client.get("/access?stream=Tiny").text
    assert 'action="/streams/Tiny/rename"' in page and 'action="/streams/Tiny/delete"' in page

    moved = client.post(
        "/streams/Tiny/rename", data={"new_name": "Tiny support"}, follow_redirects=False
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == (
        "/access?notice=Tiny+is+now+called+Tiny+support&stream=Tiny+support"
    )
    after = workspace.stream("Tiny support")
    assert (after.events, after.items) == (before.events, before.items)
    assert [s.name for s in workspace.streams()] == ["Tiny support"]
    # sam's role follows the stream (grants are kept by the stream's id) ...
    assert workspace.access.user("sam").grants == (Grant("Tiny support", Role.ADMIN),)
    assert client.get("/api/streams/Tiny%20support", headers=sam).status_code == 200
    # ... and so does its history: the grant, then the rename, under the new name only.
    actions = [e.action for e in workspace.access.audit_log(stream="Tiny support")]
    assert actions[:2] == ["stream.rename", "user.grant"]
    rename = workspace.access.audit_log(stream="Tiny support", limit=1)[0]
    assert (rename.actor, rename.before, rename.after) == (
        "tester",
        {"name": "Tiny"},
        {"name": "Tiny support"},
    )
    assert workspace.access.audit_log(stream="Tiny") == []


def test_a_taken_name_renames_nothing(client: TestClient, workspace: Workspace) -> None:
    workspace.create_stream("Other")
    refused = client.post("/streams/Tiny/rename", data={"new_name": "Other"})
    assert refused.status_code == 409
    assert "value stream &#39;Other&#39; already exists" in refused.text
    assert 'value="Other"' in refused.text  # the input is kept
    assert sorted(s.name for s in workspace.streams()) == ["Other", "Tiny"]


def test_only_the_streams_admins_rename_or_delete_it(
    client: TestClient, workspace: Workspace
) -> None:
    editor = bearer(workspace, "ed", Role.EDITOR, "Tiny")
    assert (
        client.post("/streams/Tiny/rename", data={"new_name": "X"}, headers=editor).status_code
        == 403
    )
    assert (
        client.post("/streams/Tiny/delete", data={"confirm": "Tiny"}, headers=editor).status_code
        == 403
    )
    assert client.patch("/api/streams/Tiny", json={"name": "X"}, headers=editor).status_code == 403
    assert [s.name for s in workspace.streams()] == ["Tiny"]


def test_delete_asks_for_the_name_then_deletes(client: TestClient, workspace: Workspace) -> None:
    wrong = client.post("/streams/Tiny/delete", data={"confirm": "tiny"})
    assert wrong.status_code == 422
    assert "type the stream&#39;s name exactly to confirm; nothing was deleted" in wrong.text
    assert [s.name for s in workspace.streams()] == ["Tiny"]

    done = client.post("/streams/Tiny/delete", data={"confirm": "Tiny"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/?notice=Value+stream+Tiny+deleted."
    assert workspace.streams() == []
    assert "Value stream Tiny deleted." in client.get(done.headers["location"]).text
    entry = workspace.access.audit_log(limit=1)[0]
    assert (entry.action, entry.target, entry.actor) == ("stream.delete", "Tiny", "tester")


def test_the_api_renames(client: TestClient, workspace: Workspace) -> None:
    renamed = client.patch("/api/streams/Tiny", json={"name": "  Tiny 2 "})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Tiny 2"
    missing = client.patch("/api/streams/Tiny", json={"name": "Tiny 3"})
    assert missing.status_code == 404
    extra = client.patch("/api/streams/Tiny 2", json={"name": "A", "workflow": ""})
    assert extra.status_code == 422  # unknown fields are refused


def test_the_cli_renames_and_deletes(obeya_home: Path) -> None:
    runner = CliRunner()
    with Workspace() as ws:
        ws.initialise()
        ws.create_stream("Support")
    renamed = runner.invoke(app, ["stream", "rename", "Support", "Service desk"])
    assert renamed.exit_code == 0, renamed.output
    assert "renamed value stream Support to Service desk" in renamed.output
    kept = runner.invoke(app, ["stream", "delete", "Service desk"], input="n\n")
    assert kept.exit_code == 1  # aborted at the question
    with Workspace() as ws:
        assert [s.name for s in ws.streams()] == ["Service desk"]
    gone = runner.invoke(app, ["stream", "delete", "Service desk", "--yes"])
    assert gone.exit_code == 0, gone.output
    unknown = runner.invoke(app, ["stream", "delete", "Nope", "--yes"])
    assert unknown.exit_code == 1 and "no value stream named 'Nope'" in unknown.output
    with Workspace() as ws:
        assert ws.streams() == []
