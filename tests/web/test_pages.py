"""The pages: the stream list, the dashboard (same figures as the API), import, static files."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.tiny import MALFORMED_CSV, TINY_CSV, WORKFLOW
from obeya.render.charts import CHARTS
from obeya.workspace import Workspace

VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "htmx.min.js")


def tiles(page: str) -> dict[str, tuple[str, str]]:
    """Each headline tile's key → (shown value, the API's raw number)."""
    found = re.findall(
        r'data-tile="(\w+)">.*?<span class="tile-value" data-value="([^"]*)">([^<]*)</span>',
        page,
        flags=re.S,
    )
    return {key: (shown, raw) for key, raw, shown in found}


def specs(page: str) -> dict[str, dict[str, Any]]:
    """The Vega-Lite specs embedded in a page, by chart name."""
    found = re.findall(
        r'<script type="application/json" id="spec-([\w-]+)">(.*?)</script>', page, flags=re.S
    )
    return {name: json.loads(text) for name, text in found}


def test_the_list_shows_each_stream_with_its_headline(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert 'href="/streams/Tiny"' in page
    row = page[page.index('href="/streams/Tiny"') :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    # items, events, cycle time p85, throughput per week, WIP
    assert cells == ["5", "13", "5.4", "1.5", "1"]
    assert '<form class="import-form" method="post" action="/import"' in page


def test_the_dashboard_shows_the_hand_computed_figures(client: TestClient) -> None:
    response = client.get("/streams/Tiny")
    assert response.status_code == 200
    shown = {key: value for key, (value, _) in tiles(response.text).items()}
    assert shown == {
        "finished": "3",
        "cycle_time_p50": "4.0",
        "cycle_time_p85": "5.4",
        "cycle_time_p95": "5.8",
        "throughput": "1.5",
        "wip": "1",
        "flow_efficiency": "92 %",
        "aging": "0",
        # None of A, B, C came back from Done; A and C are bugs: 2 of 3.
        "reopen_rate": "0 %",
        "defect_share": "67 %",
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?type=Bug",
        "?since=2024-01-05&until=2024-01-10",
        "?calendar_days=true",
        "?calendar_days=false",
    ],
)
def test_the_dashboard_shows_the_api_figures(client: TestClient, query: str) -> None:
    page = client.get(f"/streams/Tiny{query}").text
    doc = client.get(f"/api/streams/Tiny/flow{query}").json()
    raw = {key: value for key, (_, value) in tiles(page).items()}
    bands = doc["aging_wip"]["bands"]

    def same(key: str, value: float | None) -> None:
        assert raw[key] == ("" if value is None else str(value)), key

    same("finished", doc["items"]["finished"])
    for p in ("p50", "p85", "p95"):
        same(f"cycle_time_{p}", doc["cycle_time_days"][p])
    same("throughput", doc["flow_framework"]["velocity_per_week"])
    same("wip", doc["flow_framework"]["load"])
    same("flow_efficiency", doc["flow_efficiency"])
    same("aging", bands.get("p85_to_p95", 0) + bands.get("above_p95", 0))
    quality = doc["quality"]
    for key in ("reopen_rate", "defect_share"):
        if quality[key] is None:
            assert key not in raw
        else:
            same(key, quality[key])
    # The JSON link of the page is the document just compared.
    link = html.unescape(re.search(r'href="(/api/streams/Tiny/flow[^"]*)"', page)[1])
    assert client.get(link).json() == doc


def test_the_dashboard_embeds_every_chart_and_loads_nothing_from_the_internet(
    client: TestClient,
) -> None:
    page = client.get("/streams/Tiny").text
    embedded = specs(page)
    assert list(embedded) == list(CHARTS)
    for spec in embedded.values():
        assert "vega-lite" in spec["$schema"]
    for name in VENDOR:
        assert f'src="/static/vendor/{name}"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_the_charts_on_the_page_are_the_charts_of_the_api(client: TestClient) -> None:
    page = client.get("/streams/Tiny?type=Story").text
    for name, spec in specs(page).items():
        assert client.get(f"/api/streams/Tiny/charts/{name}?type=Story").json() == spec


def test_the_filter_form_offers_the_types_and_keeps_the_choice(client: TestClient) -> None:
    page = client.get("/streams/Tiny?type=Story&since=2024-01-02").text
    assert re.search(r'name="type" value="Story"\s+checked', page)
    assert re.search(r'name="type" value="Bug"\s+>', page)
    assert 'name="since" type="date" value="2024-01-02"' in page
    assert 'hx-get="/streams/Tiny"' in page and 'hx-select="#dashboard"' in page
    # Blank fields, as a browser sends them, mean "no limit".
    assert client.get("/streams/Tiny?since=&until=&type=Bug").status_code == 200


def test_quick_ranges_count_back_from_the_end_of_the_data(client: TestClient) -> None:
    page = client.get("/streams/Tiny").text
    assert 'href="/streams/Tiny?since=2023-12-16&amp;until=2024-01-12"' in page  # 4 weeks


def test_a_bad_date_on_the_page_is_explained(client: TestClient) -> None:
    response = client.get("/streams/Tiny?since=yesterday", headers={"accept": "text/html"})
    assert response.status_code == 422
    assert "give a date as YYYY-MM-DD" in response.text


def test_an_unknown_stream_page_is_a_404_page(client: TestClient) -> None:
    response = client.get("/streams/Nope", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text


def test_names_are_escaped(client: TestClient) -> None:
    name = "R&D <script>"
    created = client.post(
        "/import",
        data={"stream": name, "workflow": WORKFLOW},
        files={"file": ("tiny.csv", TINY_CSV.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"].startswith("/streams/R%26D%20%3Cscript%3E?")
    page = client.get(created.headers["location"]).text
    assert name not in page
    assert "R&amp;D &lt;script&gt;" in page
    assert "Imported 13 new events (of 13 in the file)." in page


def test_the_import_form_shows_the_error_and_changes_nothing(
    client: TestClient, workspace: Workspace
) -> None:
    before = [(s.name, s.events) for s in workspace.streams()]
    response = client.post(
        "/import",
        data={"stream": "Tiny", "state": "state"},
        files={"file": ("bad.csv", MALFORMED_CSV.encode(), "text/csv")},
    )
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "The file was not imported." in page
    assert "bad.csv, row 3, field 'timestamp'" in page
    assert 'value="Tiny"' in page  # the form keeps what was typed
    assert [(s.name, s.events) for s in workspace.streams()] == before


@pytest.mark.parametrize("name", VENDOR)
def test_vendored_scripts_and_styles_are_served(client: TestClient, name: str) -> None:
    response = client.get(f"/static/vendor/{name}")
    assert response.status_code == 200
    assert len(response.content) > 1_000


def test_the_page_script_and_stylesheet_are_served(client: TestClient) -> None:
    assert "vegaEmbed" in client.get("/static/obeya.js").text
    assert client.get("/static/obeya.css").status_code == 200


def test_a_missing_static_file_is_a_json_404(client: TestClient) -> None:
    response = client.get("/static/vendor/nothing.js")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "NotFound"
