"""The access page: the roles on a stream, giving and taking them, and the audit log — the
same facts as `obeya user list` and `obeya audit`."""

from __future__ import annotations

import re

from app_fixtures import TestClient, bearer
from obeya.core.access import Grant, Role
from obeya.workspace import Workspace


def test_an_admin_gives_and_takes_a_role_and_reads_who_did_it(
    client: TestClient, workspace: Workspace
) -> None:
    given = client.post(
        "/access/roles",
        data={"name": "val", "role": "editor", "stream": "Tiny", "password": ""},
        follow_redirects=False,
    )
    assert given.status_code == 303
    assert given.headers["location"] == "/access?notice=val+is+now+editor+here&stream=Tiny"
    assert workspace.store.users.get("val").grants == (Grant("Tiny", Role.EDITOR),)

    page = client.get("/access?stream=Tiny").text
    assert re.search(r'<tr data-user="val">\s*<th scope="row">val</th><td>editor</td>', page)
    # The audit log names the signed-in admin, newest first.
    rows = re.findall(r'<tr data-action="([\w.]+)">\s*<td>[^<]+</td><td>([^<]+)</td>', page)
    assert rows[0] == ("user.grant", "tester")

    client.post("/access/roles/remove", data={"name": "val", "stream": "Tiny"})
    assert workspace.store.users.get("val").grants == ()
    entry = workspace.store.audit_log(stream="Tiny", limit=1)[0]
    assert (entry.actor, entry.action, entry.before) == (
        "tester",
        "user.revoke",
        {"stream": "Tiny", "role": "editor"},
    )


def test_a_bad_role_keeps_the_input_and_changes_nothing(
    client: TestClient, workspace: Workspace
) -> None:
    response = client.post("/access/roles", data={"name": "val", "role": "owner", "stream": "Tiny"})
    assert response.status_code == 422
    assert "role &#39;owner&#39; is not one of viewer, editor, admin" in response.text
    assert 'value="val"' in response.text
    assert [u.name for u in workspace.store.users.all()] == ["tester"]


def test_a_stream_admin_sees_their_stream_only(client: TestClient, workspace: Workspace) -> None:
    headers = bearer(workspace, "sam", Role.ADMIN, "Tiny")
    page = client.get("/access", headers=headers)
    assert page.status_code == 200
    assert "<h1>Access: Tiny</h1>" in page.text
    # The workspace admin "tester" has no role on Tiny itself: not listed here.
    assert 'data-user="tester"' not in page.text and 'data-user="sam"' in page.text
    assert '<option value="">The whole workspace</option>' not in page.text
