"""The delivery (DORA) page and the connectors page: the figures of a small history worked out
by hand, the empty state, the import form (what it adds, and a bad file refused whole), the
connectors listed, added, synced and removed, who may do which, and no token on any page.

The history (stream "Tiny" of api/tiny.py, which has no delivery records of its own):

- Deployments: d1 (Mon 2024-01-01 10:00), d2 (Sun 01-07 09:00) and d3 (01-07 16:00) are in
  production and successful, so they count; d4 is staging and d5 failed: kept, not counted.
  Default window: the first to the last counted day, 01-01 to 01-07: 7 days, one week.
  Deployment frequency: 3 counted deployments on 2 distinct days → 2 / (7/7) = 2.00
  deployment days a week, 3 / 7 = 0.43 deployments a day; band high (at least one day a
  week, not every working day).
- Changes: c1 committed 01-01 06:00 → d1 10:00: 4 h; c2 01-06 09:00 → d2 01-07 09:00: 24 h;
  c3 01-03 16:00 → d3 01-07 16:00: 96 h; c4 names d99, which no deployment has: unmatched.
  Sorted 4, 24, 96: p50 24 h; p85 at rank 0.85 × 2 = 1.7: 24 + 0.7 × 72 = 74.4 h = 3.1 days.
  Band: 24 h is not under a day, up to a week: high.
- Incidents: i1 created 01-01 12:00, resolved 14:30 (2.5 h), no deployment named: the latest
  counted deployment finished before it is d1, so d1 failed. i2 created 01-07 18:00,
  unresolved, names d5, which does not count: no deployment failed by it.
  Change failure rate: 1 failed of 3 = 33.3 %: low (above 15 %). Time to restore: i1 only,
  p50 = p85 = 2.5 h: high (1 h to a day); i2 unresolved.
- Weekly: one ISO week, of 01-01: 3 deployments, 1 failed, lead p50 24 h, restore p50 2.5 h.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import obeya.workspace_delivery as workspace_delivery
from app_fixtures import bearer
from connectors.fake_git_trackers import GITHUB_REPO, github_fake
from obeya.api.app import create_app
from obeya.core.access import Role
from obeya.workspace import Workspace

PAGE = "/streams/Tiny/delivery"

DEPLOYMENTS = """deployment_id,environment,finished_at,result
d1,production,2024-01-01T10:00:00Z,success
d2,production,2024-01-07T09:00:00Z,success
d3,production,2024-01-07T16:00:00Z,success
d4,staging,2024-01-04T10:00:00Z,success
d5,production,2024-01-07T12:00:00Z,failure
"""
CHANGES = """change_id,committed_at,deployment_id
c1,2024-01-01T06:00:00Z,d1
c2,2024-01-06T09:00:00Z,d2
c3,2024-01-03T16:00:00Z,d3
c4,2024-01-05T00:00:00Z,d99
"""
INCIDENTS = """incident_id,created_at,resolved_at,deployment_id
i1,2024-01-01T12:00:00Z,2024-01-01T14:30:00Z,
i2,2024-01-07T18:00:00Z,,d5
"""
#: Row 3 (the header is row 1) has no finished_at.
BAD_DEPLOYMENTS = """deployment_id,environment,finished_at,result
d1,production,2024-01-01T10:00:00Z,success
d2,production,,success
"""
#: A token no page may ever show (set in the token variable of the connectors here).
FAKE_TOKEN = "fake-token-Zq9xK2vT7wLp"


def upload(client: TestClient, kind: str, text: str, name: str | None = None) -> httpx.Response:
    return client.post(
        PAGE,
        data={"kind": kind},
        files={"file": (name or f"{kind}.csv", text.encode())},
        follow_redirects=False,
    )


def import_all(client: TestClient) -> None:
    for kind, text in (
        ("deployments", DEPLOYMENTS),
        ("changes", CHANGES),
        ("incidents", INCIDENTS),
    ):
        assert upload(client, kind, text).status_code == 303


def tile(page: str, key: str) -> dict[str, str]:
    """The value, unit, band, detail and definition of the tile ``key``, as text."""
    found = re.search(
        rf'<div class="tile dora-tile" data-tile="{key}">(.*?)</div>\s*(?=<div class="tile|</dl>)',
        page,
        re.S,
    )
    assert found, key
    body = found[1]

    def text(pattern: str) -> str:
        part = re.search(pattern, body, re.S)
        return (
            "" if part is None else " ".join(html.unescape(re.sub(r"<[^>]+>", "", part[1])).split())
        )

    return {
        "value": text(r'class="tile-value"[^>]*>(.*?)</span>'),
        "raw": text(r'class="tile-value" data-value="([^"]*)"'),
        "unit": text(r'class="tile-unit">(.*?)</span>'),
        "band": text(r'data-band="([^"]*)"'),
        "band_text": text(r'<dd class="tile-band">(.*?)</dd>'),
        "detail": text(r'<dd class="tile-hint">(.*?)</dd>'),
        "definition": text(r'<dd class="tile-definition">(.*?)</dd>'),
    }


def counts(page: str) -> dict[str, str]:
    found = re.findall(r'<div data-count="(\w+)"><dt>.*?</dt><dd>(.*?)</dd></div>', page, re.S)
    return dict(found)


def embedded_spec(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="spec-delivery-weekly">(.*?)</script>', page, re.S
    )
    assert found, "no chart spec on the page"
    spec: dict[str, Any] = json.loads(found[1])
    return spec


# -- the DORA page ------------------------------------------------------------------------------


def test_the_page_shows_the_figures_worked_by_hand(client: TestClient) -> None:
    import_all(client)
    response = client.get(PAGE)
    assert response.status_code == 200, response.text
    page = response.text
    assert "2024-01-01 to 2024-01-07 · 7 days (UTC)" in page

    frequency = tile(page, "deployment_frequency")
    assert (frequency["value"], frequency["unit"]) == ("2.00", "deployment days a week")
    assert frequency["detail"] == "0.43 deployments a day · 3 deployments on 2 days"
    assert (frequency["band"], frequency["band_text"]) == ("high", "DORA band: High")
    assert frequency["definition"].startswith("Days with a successful production deployment")

    lead = tile(page, "lead_time_for_changes")
    assert (lead["value"], lead["unit"], lead["raw"]) == ("24.0", "hours, p50", "24.0")
    assert lead["detail"] == "p85 3.1 days · 3 changes"  # 74.4 h
    assert lead["band"] == "high"

    failure = tile(page, "change_failure_rate")
    assert (failure["value"], failure["unit"]) == ("33.3", "%")
    assert failure["detail"] == "1 failed of 3 deployments"
    assert (failure["band"], failure["band_text"]) == ("low", "DORA band: Low")

    restore = tile(page, "recovery_time")
    assert (restore["value"], restore["unit"]) == ("2.5", "hours, p50")
    assert restore["detail"] == "p85 2.5 h · 1 resolved, 1 unresolved"
    assert restore["band"] == "high"

    assert counts(page) == {
        "deployments": "3",
        "changes": "3",
        "incidents": "1",
        "unresolved": "1",
        "unmatched": "1",
        "stored": "5 deployments, 4 changes, 2 incidents",
    }
    # The weekly table and the chart: one week, 3 deployments (1 failed), lead p50 24 h.
    assert re.search(
        r"<tr><th scope=\"row\">2024-01-01</th><td class=\"num\">3</td><td class=\"num\">1</td>"
        r"<td class=\"num\">24.0 h</td><td class=\"num\">2.5 h</td></tr>",
        page,
    )
    spec = embedded_spec(page)
    assert [
        (w["week"], w["deployments"], w["failed"], w["lead"]) for w in spec["datasets"]["weeks"]
    ] == [("2024-01-01", 3, 1, 24.0)]
    assert spec["datasets"]["lead"][0]["lead"] == 24.0
    assert 'data-chart="delivery-weekly"' in page


def test_the_page_agrees_with_the_api(client: TestClient) -> None:
    """Every figure on the page is the API's document, rounded for reading."""
    import_all(client)
    page = client.get(f"{PAGE}?since=2024-01-01&until=2024-01-07").text
    doc = client.get("/api/streams/Tiny/dora?since=2024-01-01&until=2024-01-07").json()
    assert float(tile(page, "deployment_frequency")["raw"]) == pytest.approx(
        doc["deployment_frequency"]["days_per_week"]
    )
    assert (
        float(tile(page, "lead_time_for_changes")["raw"])
        == doc["lead_time_for_changes_hours"]["p50"]
    )
    assert float(tile(page, "change_failure_rate")["raw"]) == pytest.approx(
        doc["change_failure_rate"]
    )
    assert {k: tile(page, k)["band"] for k in doc["bands"]} == doc["bands"]
    link = re.search(r'href="(/api/streams/Tiny/dora[^"]*)"', page)
    assert link and client.get(html.unescape(link[1])).json() == doc


def test_a_window_of_one_day(client: TestClient) -> None:
    """01-07 alone: d2 and d3 on one day of a one-day window → 1 / (1/7) = 7.00 days a week
    and 2 a day (elite: 5 days a week or more and more than one a day); lead times 24 and
    96 h → p50 60 h = 2.5 days (high: a day to a week); d1, the one that failed, is outside
    → 0 of 2 = 0.0 % (elite); i2 is unresolved and nothing was resolved → no time to restore
    and no band."""
    import_all(client)
    page = client.get(f"{PAGE}?since=2024-01-07&until=2024-01-07").text
    assert "2024-01-07 to 2024-01-07 · 1 day (UTC)" in page
    frequency = tile(page, "deployment_frequency")
    assert (frequency["value"], frequency["band"]) == ("7.00", "elite")
    assert frequency["detail"].startswith("2.00 deployments a day")
    lead = tile(page, "lead_time_for_changes")
    assert (lead["value"], lead["unit"], lead["band"]) == ("2.5", "days, p50", "high")
    failure = tile(page, "change_failure_rate")
    assert (failure["value"], failure["detail"], failure["band"]) == (
        "0",  # 0 % (a share shows no decimals it does not need)
        "0 failed of 2 deployments",
        "elite",
    )
    restore = tile(page, "recovery_time")
    assert (restore["value"], restore["band"]) == ("—", "")
    assert restore["band_text"] == "DORA band: no band (no data)"
    assert restore["detail"] == "0 resolved, 1 unresolved"
    # The form shows the window as asked.
    assert 'name="since" type="date" value="2024-01-07"' in page


def test_a_bad_window_is_said_on_the_page(client: TestClient) -> None:
    import_all(client)
    response = client.get(f"{PAGE}?since=2024-01-07&until=2024-01-01")
    assert response.status_code == 422
    assert "the window is empty" in response.text and 'data-tile="' not in response.text
    response = client.get(f"{PAGE}?since=last-week")
    assert response.status_code == 422
    assert "since is &#39;last-week&#39;; give a date as YYYY-MM-DD" in response.text


def test_no_delivery_data_says_how_to_add_it(client: TestClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.text
    assert "No delivery data yet" in page
    assert "obeya import deployments deployments.csv --stream Tiny" in page
    assert 'enctype="multipart/form-data"' in page and 'name="kind"' in page
    assert 'data-tile="' not in page and "spec-delivery-weekly" not in page
    assert 'name="since"' not in page  # no window to choose from nothing


def test_records_but_no_counted_deployment(client: TestClient) -> None:
    """Only a staging deployment: the core's message says what counts."""
    staging = "deployment_id,environment,finished_at,result\nd4,staging,2024-01-04,success\n"
    assert upload(client, "deployments", staging).status_code == 303
    response = client.get(PAGE)
    assert response.status_code == 422
    assert "no deployment to report on" in response.text
    assert "No delivery data yet" not in response.text


# -- importing through the form -----------------------------------------------------------------


def test_the_import_form_adds_then_updates(client: TestClient, workspace: Workspace) -> None:
    response = upload(client, "deployments", DEPLOYMENTS)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{PAGE}?imported=deployments")
    page = client.get(location).text
    assert "Imported deployments: 5 added, 0 updated (5 in the file" in page
    assert len(workspace.delivery.history("Tiny").deployments) == 5
    # d5 now succeeded: one updated, the rest as stored.
    again = upload(client, "deployments", DEPLOYMENTS.replace("failure", "success"))
    assert "Imported deployments: 0 added, 1 updated" in client.get(again.headers["location"]).text
    assert tile(client.get(PAGE).text, "deployment_frequency")["detail"].startswith(
        "0.57 deployments a day"  # d1, d2, d3 and d5: 4 in 7 days
    )


def test_a_bad_file_is_refused_whole_naming_row_and_field(
    client: TestClient, workspace: Workspace
) -> None:
    response = upload(client, "deployments", BAD_DEPLOYMENTS, name="prod-deploys.csv")
    assert response.status_code == 422
    alert = re.search(
        r'<div class="alert alert-error" role="alert">(.*?)</div>', response.text, re.S
    )
    assert alert, response.text
    message = html.unescape(alert[1])
    assert "Nothing imported." in message
    assert "prod-deploys.csv" in message and "row 3" in message and "finished_at" in message
    assert "obeya-upload" not in message  # the file as uploaded, not its temporary copy
    assert workspace.delivery.history("Tiny").deployments == ()  # d1, on a good row, was not kept
    # The page keeps the kind chosen and still offers the form.
    assert '<option value="deployments" selected>' in response.text


def test_an_unknown_kind_is_refused(client: TestClient) -> None:
    response = upload(client, "releases", DEPLOYMENTS)
    assert response.status_code == 422
    assert (
        "kind is &#39;releases&#39;; give one of deployments, changes, incidents" in response.text
    )


def test_a_viewer_reads_the_page_but_cannot_import(workspace: Workspace) -> None:
    app = create_app(lambda: workspace)
    viewer = bearer(workspace, "vic", Role.VIEWER, "Tiny")
    with TestClient(app, raise_server_exceptions=False, headers=viewer) as client:
        page = client.get(PAGE)
        assert page.status_code == 200
        assert "Importing needs the editor role on Tiny." in page.text
        assert 'enctype="multipart/form-data"' not in page.text
        refused = upload(client, "deployments", DEPLOYMENTS)
        assert refused.status_code == 403
    assert workspace.delivery.history("Tiny").deployments == ()


def test_an_unknown_stream_is_a_404_page(client: TestClient, workspace: Workspace) -> None:
    assert client.get("/streams/Nope/delivery").status_code == 404
    response = client.post(
        "/streams/Nope/delivery",
        data={"kind": "deployments"},
        files={"file": ("d.csv", DEPLOYMENTS.encode())},
    )
    assert response.status_code == 404
    assert "Nope" not in {s.name for s in workspace.streams()}  # not created by the form


def test_the_dashboard_links_to_the_delivery_page(client: TestClient) -> None:
    assert f'href="{PAGE}"' in client.get("/streams/Tiny").text
    assert 'href="/connectors"' in client.get("/").text


# -- connectors ---------------------------------------------------------------------------------


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The Tiny connectors' token variable, set to a known fake token."""
    monkeypatch.setenv("OBEYA_TOKEN_TINY_TRACKER", FAKE_TOKEN)
    yield FAKE_TOKEN


FORM = {
    "kind": "github",
    "name": "tiny-gh",
    "stream": "Tiny",
    "token_env": "OBEYA_TOKEN_TINY_TRACKER",
    "repo": GITHUB_REPO,
    "state_labels": "In Progress, Review",
}
JIRA = {
    "kind": "jira",
    "name": "tiny-jira",
    "jira_url": "https://example.atlassian.net",
    "jql": "project = TINY",
    "email": "ann@example.com",
}


def add(client: TestClient, **form: str) -> httpx.Response:
    return client.post("/connectors", data={**FORM, **form}, follow_redirects=False)


def row_of(page: str, name: str) -> str:
    found = re.search(rf'<tr data-connector="{re.escape(name)}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {name}"
    return found[1]


def cells(row: str) -> list[str]:
    found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in found]


def fake_tracker(monkeypatch: pytest.MonkeyPatch, transport: httpx.BaseTransport) -> None:
    """Every connector's client talks to ``transport`` (an in-process fake tracker) instead
    of the network: the route calls the workspace's sync as it is, only the wire is fake."""
    real = workspace_delivery.source_for

    def source_for(*args: Any, **kwargs: Any) -> Any:
        kind, name, settings, secret, _network, *rest = args
        return real(kind, name, settings, secret, transport, *rest, **kwargs)

    monkeypatch.setattr(workspace_delivery, "source_for", source_for)


def test_add_list_and_remove_connectors(
    client: TestClient, workspace: Workspace, token: str
) -> None:
    empty = client.get("/connectors").text
    assert "No connectors yet" in empty and "Add a connector" in empty
    assert "export OBEYA_TOKEN_PAY=" in empty  # the page says where the token lives
    response = add(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/connectors?added=tiny-gh"
    page = client.get(response.headers["location"]).text
    assert "Added connector &#39;tiny-gh&#39;" in page
    info = workspace.connectors.get("tiny-gh")
    assert (info.kind, info.stream, info.secret_env) == (
        "github",
        "Tiny",
        "OBEYA_TOKEN_TINY_TRACKER",
    )
    # Only the GitHub fields are read; the labels are split at the commas.
    assert info.settings == {"repo": GITHUB_REPO, "state_labels": ["In Progress", "Review"]}
    assert cells(row_of(page, "tiny-gh"))[:6] == [
        "tiny-gh token in OBEYA_TOKEN_TINY_TRACKER",
        "GitHub",
        "Tiny · delivery",
        "never",
        "—",
        "not synced yet",
    ]
    gitlab = add(
        client,
        kind="gitlab",
        name="tiny-gl",
        gitlab_url="https://gitlab.example.com",
        project="acme/tiny",
        scoped_label_prefix="workflow",
    )
    assert gitlab.status_code == 303
    assert workspace.connectors.get("tiny-gl").settings == {
        "url": "https://gitlab.example.com",
        "project": "acme/tiny",
        "scoped_label_prefix": "workflow",
    }
    removed = client.post("/connectors/tiny-gh/delete", follow_redirects=False)
    assert removed.status_code == 303
    page = client.get(removed.headers["location"]).text
    assert "Removed connector &#39;tiny-gh&#39;" in page
    assert 'data-connector="tiny-gh"' not in page and 'data-connector="tiny-gl"' in page
    assert [c.name for c in workspace.connectors.list()] == ["tiny-gl"]
    assert "Tiny" in {s.name for s in workspace.streams()}  # the stream stays


def test_add_a_jira_connector(client: TestClient, workspace: Workspace, token: str) -> None:
    """Only the Jira fields are read (the form's GitHub ones are left out)."""
    response = add(client, **JIRA)
    assert response.status_code == 303, response.text
    assert workspace.connectors.get("tiny-jira").settings == {
        "url": "https://example.atlassian.net",
        "jql": "project = TINY",
        "email": "ann@example.com",
    }
    # No e-mail: Jira Data Center, whose personal access token goes alone.
    assert add(client, **{**JIRA, "name": "tiny-dc", "email": " "}).status_code == 303
    assert workspace.connectors.get("tiny-dc").settings["email"] is None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": " "}, "Name is blank"),
        ({"stream": ""}, "Value stream is blank"),
        ({"repo": ""}, "Repository is blank; give it, e.g. octocat/hello-world"),
        ({"repo": "shop"}, "repo &#39;shop&#39; must be owner/name"),
        ({**JIRA, "jql": ""}, "JQL is blank; give it, e.g. project = PAY"),
        ({**JIRA, "jira_url": "acme.atlassian.net"}, "the URL must start with https://"),
        ({"kind": "gitlab", "gitlab_url": "https://gitlab.com"}, "Project is blank"),
        ({"kind": "trello"}, "tracker is &#39;trello&#39;; give one of jira, github, gitlab"),
        ({"token_env": "lower_case"}, "Token variable is not the name of an environment variable"),
    ],
)
def test_a_bad_connector_is_refused_on_the_page(
    client: TestClient, workspace: Workspace, form: dict[str, str], message: str
) -> None:
    response = add(client, **form)
    assert response.status_code == 422
    assert "Not added." in response.text and message in response.text
    assert workspace.connectors.list() == []
    # The form comes back as it was sent, to correct and send again.
    assert 'name="state_labels" type="text" value="In Progress, Review"' in response.text


def test_a_token_typed_as_the_variable_is_neither_stored_nor_shown(
    client: TestClient, workspace: Workspace
) -> None:
    for typed in (FAKE_TOKEN, "ghp_" + "x" * 36, "GLPAT-ABC-123"):
        response = add(client, token_env=typed)
        assert response.status_code == 422
        assert typed not in response.text
    assert workspace.connectors.list() == []


def test_the_same_name_twice_is_refused(client: TestClient, token: str) -> None:
    assert add(client).status_code == 303
    again = add(client)
    assert again.status_code == 409
    assert "connector &#39;tiny-gh&#39; already exists" in again.text


def test_a_sync_without_its_token_variable_shows_the_connector_error(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OBEYA_TOKEN_TINY_UNSET", raising=False)
    assert add(client, token_env="OBEYA_TOKEN_TINY_UNSET").status_code == 303
    response = client.post("/connectors/tiny-gh/sync", follow_redirects=False)
    assert response.status_code == 502  # the ConnectorError's status, shown on the page
    expected = (
        "connector &#39;tiny-gh&#39;: the environment variable OBEYA_TOKEN_TINY_UNSET holding its "
        "token is unset"
    )
    assert "Sync failed." in response.text and expected in response.text
    # Kept as the connector's last result: the list says so afterwards too.
    row = cells(row_of(client.get("/connectors").text, "tiny-gh"))
    assert row[4] == "—" and row[5].startswith("error connector 'tiny-gh': the environment")
    assert row[3] != "never"


def test_a_refused_token_is_reported_and_never_shown(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    """GitHub refuses the token (its own 401 body): the page shows the refusal, never the
    token, on the sync's answer, the list and the API's list."""
    fake = github_fake(token="another-token")
    fake_tracker(monkeypatch, fake.transport())
    assert add(client).status_code == 303
    response = client.post("/connectors/tiny-gh/sync")
    assert response.status_code == 502
    assert "HTTP 401, the tracker refused the credentials" in response.text
    sent = fake.requests[0].headers["authorization"]
    assert FAKE_TOKEN in sent  # the token was really sent ...
    for page in (response.text, client.get("/connectors").text, client.get(PAGE).text):
        assert FAKE_TOKEN not in page  # ... and is on no page
    assert FAKE_TOKEN not in json.dumps(client.get("/api/connectors").json())


def test_sync_now_pulls_the_history_and_the_deployments(
    client: TestClient, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    """The recorded GitHub repository (tests/connectors): five issues and pull requests, and
    deployments; the sync fills a new stream, and its delivery page reports on them."""
    fake_tracker(monkeypatch, github_fake(token=FAKE_TOKEN).transport())
    assert add(client, stream="Shop").status_code == 303  # a new stream, made by the add
    response = client.post("/connectors/tiny-gh/sync", follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/connectors?synced=tiny-gh"
    page = client.get(response.headers["location"]).text
    stored = workspace.connectors.get("tiny-gh").last_result or {}
    summary = f"5 items changed, {stored['events_added']:,} new events"
    assert f"Synced tiny-gh: {summary}" in html.unescape(page)
    row = cells(row_of(page, "tiny-gh"))
    assert row[4] == "5" and row[5].startswith(f"ok {summary}")
    assert workspace.stream("Shop").items == 5
    deployments = workspace.delivery.history("Shop").deployments
    assert deployments, "the recording has deployments"
    delivery = client.get("/streams/Shop/delivery")
    assert delivery.status_code == 200, delivery.text
    doc = client.get("/api/streams/Shop/dora").json()
    assert counts(delivery.text)["deployments"] == f"{doc['deployment_frequency']['deployments']:,}"
    assert {k: tile(delivery.text, k)["band"] for k in doc["bands"]} == {
        k: band or "" for k, band in doc["bands"].items()
    }
    assert FAKE_TOKEN not in page + delivery.text


def test_a_viewer_sees_the_list_but_no_forms(workspace: Workspace, token: str) -> None:
    settings = {"repo": GITHUB_REPO, "state_labels": []}
    workspace.connectors.add(
        "tiny-gh", "github", "Tiny", settings, secret_env="OBEYA_TOKEN_TINY_TRACKER"
    )
    workspace.connectors.add(
        "other-gh", "github", "Other", settings, secret_env="OBEYA_TOKEN_OTHER"
    )
    app = create_app(lambda: workspace)
    viewer = bearer(workspace, "vic", Role.VIEWER, "Tiny")
    editor = bearer(workspace, "eve", Role.EDITOR, "Tiny")
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/connectors", headers=viewer).text
        assert 'data-connector="tiny-gh"' in page
        assert 'data-connector="other-gh"' not in page  # Other is none of vic's business
        assert "Add a connector" not in page and 'action="/connectors"' not in page
        assert "/sync" not in page and "/delete" not in page
        posted = client.post("/connectors", data={**FORM, "name": "mine"}, headers=viewer)
        assert posted.status_code == 403
        assert client.post("/connectors/tiny-gh/sync", headers=viewer).status_code == 403
        assert client.post("/connectors/tiny-gh/delete", headers=viewer).status_code == 403
        # An editor syncs, but neither adds nor removes.
        page = client.get("/connectors", headers=editor).text
        assert "/connectors/tiny-gh/sync" in page and "/connectors/tiny-gh/delete" not in page
        assert "Add a connector" not in page
        assert client.post("/connectors/tiny-gh/delete", headers=editor).status_code == 403
    assert {c.name for c in workspace.connectors.list()} == {"tiny-gh", "other-gh"}


def test_only_a_workspace_admin_adds_a_connector(workspace: Workspace, token: str) -> None:
    # A connector sends a server variable to the URL it names: an admin of one stream could
    # otherwise aim another team's token (or the server's own secrets) at a server of theirs.
    app = create_app(lambda: workspace)
    sam = bearer(workspace, "sam", Role.ADMIN, "Tiny")
    with TestClient(app, raise_server_exceptions=False, headers=sam) as client:
        page = client.get("/connectors").text
        assert "Add a connector" not in page
        assert add(client).status_code == 403
        assert add(client, name="theirs", stream="Other").status_code == 403
    assert [c.name for c in workspace.connectors.list()] == []


def test_a_connector_added_from_afar_reads_only_obeya_token_variables(
    client: TestClient, workspace: Workspace
) -> None:
    # The workspace admin's page: OBEYA_DATABASE_URL (or any variable but OBEYA_TOKEN_…) is
    # refused, nothing is saved.
    response = add(client, token_env="OBEYA_DATABASE_URL")
    assert response.status_code == 422
    assert "must begin with OBEYA_TOKEN_" in response.text
    assert workspace.connectors.list() == []


def test_no_page_shows_the_token(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    fake_tracker(monkeypatch, github_fake(token=FAKE_TOKEN).transport())
    import_all(client)
    assert add(client).status_code == 303
    assert client.post("/connectors/tiny-gh/sync", follow_redirects=False).status_code == 303
    pages = ["/connectors?synced=tiny-gh", PAGE, "/streams/Tiny", "/", "/api/connectors"]
    for url in [*pages, "/access", "/api/audit"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert FAKE_TOKEN not in response.text, url


def test_labels_and_headers(client: TestClient, token: str) -> None:
    """Every field has a label; every table header a scope; the band is written out."""
    import_all(client)
    assert add(client).status_code == 303
    for url in (PAGE, "/connectors"):
        page = client.get(url).text
        ids = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', page)
        assert ids, url
        for ident in ids:
            assert f'for="{ident}"' in page, (url, ident)
        headers = re.findall(r"<th(?: [^>]*)?>", page)
        assert headers and all("scope=" in h for h in headers), (url, headers)


def test_the_chart_of_an_empty_window(client: TestClient) -> None:
    """A window with no deployment draws the weeks with no bars and says there is no lead."""
    import_all(client)
    page = client.get(f"{PAGE}?since=2024-02-05&until=2024-02-18").text
    spec = embedded_spec(page)
    assert [w["deployments"] for w in spec["datasets"]["weeks"]] == [0, 0]
    assert spec["datasets"]["lead"] == []
    assert "no change shipped in the window: no lead time" in json.dumps(spec)
    assert tile(page, "deployment_frequency")["value"] == "0.00"
    assert tile(page, "change_failure_rate")["detail"] == "no counted deployment in the window"


def test_an_empty_file_is_refused_naming_it(client: TestClient) -> None:
    response = upload(client, "changes", "", name="empty.csv")
    assert response.status_code == 422
    assert "empty.csv: the uploaded file is empty" in response.text
