"""The forecast page: the API's percentiles in its table, the API's chart embedded, the
backtest summary, bad input shown on the form, labels on every field.

"Tiny" (api/tiny.py) finishes one item on each of 2024-01-04, 01-09 and 01-12: the default
start is 2024-01-13.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from fastapi.testclient import TestClient

PAGE = "/streams/Tiny/forecast"
API = "/api/streams/Tiny/forecast"
VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")


def table(page: str, name: str) -> dict[str, str]:
    """Confidence → the raw number (data-value) in the first number column of table ``name``."""
    body = page[page.index(f'class="mini {name}"') :]
    body = body[: body.index("</table>")]
    found = re.findall(
        r'<tr data-percentile="(\d+)">.*?<td class="num" data-value="([^"]*)">', body, re.S
    )
    return dict(found)


def embedded_spec(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="spec-forecast">(.*?)</script>', page, re.S
    )
    assert found, "no chart spec on the page"
    spec: dict[str, Any] = json.loads(found[1])
    return spec


def link(page: str, prefix: str) -> str:
    found = re.search(rf'href="({re.escape(prefix)}[^"]*)"', page)
    assert found, prefix
    return html.unescape(found[1])


def test_when_shows_the_api_percentiles_dates_and_chart(client: TestClient) -> None:
    query = "question=when&items=3&history_days=9&trials=2000&seed=1"
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 200
    page = response.text
    doc = client.get(f"{API}/when?items=3&history_days=9&trials=2000&seed=1").json()
    assert table(page, "forecast-table") == {p: str(v) for p, v in doc["percentiles"].items()}
    assert doc["percentiles"]["50"] == 8  # see tests/api/test_forecast_routes.py
    for p, day in doc["dates"].items():
        assert re.search(rf'<tr data-percentile="{p}">.*?<td>{day}</td>', page, re.S), p
    assert "When will 3 items be done?" in page
    # The embedded chart is the API's chart, and the page's links lead to the same forecast.
    spec = embedded_spec(page)
    assert spec == client.get(f"{API}/when/chart?items=3&history_days=9&trials=2000").json()
    assert [r["value"] for r in spec["datasets"]["percentiles"]] == list(
        doc["percentiles"].values()
    )
    assert client.get(link(page, f"{API}/when?")).json() == doc
    assert client.get(link(page, f"{API}/when/chart?")).json() == spec
    assert 'data-chart="forecast"' in page


def test_how_many_by_a_date(client: TestClient) -> None:
    query = "question=how-many&days=&by=2024-01-20&history_days=9&trials=2000"
    page = client.get(f"{PAGE}?{query}").text
    doc = client.get(f"{API}/how-many?days=8&history_days=9&trials=2000").json()
    assert table(page, "forecast-table") == {p: str(v) for p, v in doc["percentiles"].items()}
    counts = [int(v) for v in table(page, "forecast-table").values()]
    assert counts == sorted(counts, reverse=True)
    assert "How many items in 8 days?" in page and "2024-01-13 to 2024-01-20" in page
    assert (
        embedded_spec(page)
        == client.get(f"{API}/how-many/chart?by=2024-01-20&history_days=9&trials=2000").json()
    )


def test_the_backtest_summary(client: TestClient) -> None:
    page = client.get(f"{PAGE}?history_days=3&horizon_days=2&every_days=1").text
    # Hand-computed in tests/api/test_forecast_routes.py: p50 1 against actuals of 0.
    assert table(page, "backtest-table") == {
        "50": "0.0",
        "70": "100.0",
        "85": "100.0",
        "95": "100.0",
    }
    assert re.search(r'<dd data-value="1.0">1.0 items', page)
    # p50 1 against actuals of 0: forecast − actual is +1, forecasts above what happened.
    assert (
        '+1.0 items <span class="muted">(the forecasts were above what happened: too high)' in page
    )
    # Two origins: each moves an achieved share by 50 points.
    assert (
        "Read with care:</strong> Only 2 origins scored: each moves an achieved share by 50 points"
        in page
    )
    assert "2 past origins (2024-01-07 to 2024-01-10" in page and "2 origins skipped" in page
    doc = client.get(link(page, f"{API}/backtest?")).json()
    assert doc["calibration"] == {"50": 0.0, "70": 100.0, "85": 100.0, "95": 100.0}
    # No question asked: no forecast table and no chart, only the form and the backtest.
    assert "forecast-table" not in page and "spec-forecast" not in page


def test_a_when_question_backtests_when(client: TestClient) -> None:
    query = "question=when&items=1&history_days=3&every_days=1"
    page = client.get(f"{PAGE}?{query}").text
    url = link(page, f"{API}/backtest?")
    assert "items=1" in url and "horizon_days" not in url
    doc = client.get(url).json()
    assert (doc["kind"], doc["items"]) == ("when", 1)
    assert "When 1 item is done, forecast at" in " ".join(page.split())
    shown = table(page, "backtest-table")
    assert shown == {p: f"{share:.1f}" for p, share in doc["calibration"].items()}
    assert f'<dd data-value="{doc["mean_error"]}">' in page and " days <span" in page


def test_a_history_too_short_for_the_backtest_says_so(client: TestClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "No backtest.</strong> The data spans 9 days (2024-01-04 to 2024-01-12)" in response.text
    assert "2024-01-13" in response.text  # the default start, in the help of the start field


def test_bad_input_is_shown_on_the_form(client: TestClient) -> None:
    for query, message in (
        ("question=when&items=0", "items is 0; give at least 1"),
        ("question=when&items=abc", "items is &#39;abc&#39;; give a whole number"),
        ("question=when&items=", "give the number of items still to do"),
        ("question=how-many&days=0", "days is 0: a horizon of no days"),
        (
            "question=how-many&days=5&start=2024-13-01",
            "start is &#39;2024-13-01&#39;; give a date as YYYY-MM-DD",
        ),
        ("question=when&items=3&trials=2000000", "trials is 2,000,000; give at most 100,000"),
    ):
        response = client.get(f"{PAGE}?{query}", headers={"accept": "text/html"})
        assert response.status_code == 422, query
        assert '<div class="alert alert-error" role="alert">' in response.text
        assert message in response.text, query
    # The form comes back as it was sent.
    page = client.get(f"{PAGE}?question=how-many&days=0&seed=5").text
    assert 'name="days" type="text" inputmode="numeric" value="0"' in page
    assert 'name="seed" type="text" inputmode="numeric" value="5"' in page
    assert re.search(r'value="how-many"\s+checked', page)


def test_an_unknown_stream_is_a_404_page(client: TestClient) -> None:
    response = client.get("/streams/Nope/forecast", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "no value stream named" in response.text


def test_every_field_has_a_label_and_nothing_comes_from_the_internet(
    client: TestClient,
) -> None:
    page = client.get(f"{PAGE}?question=when&items=3&history_days=9&trials=2000").text
    form = page[page.index("<form") : page.index("</form>")]
    ids = re.findall(r'<input id="([\w-]+)"', form)
    assert len(ids) == 9
    for field_id in ids:
        assert f'<label for="{field_id}">' in form, field_id
    # The two radio buttons sit inside their labels.
    assert len(re.findall(r'<label class="check"><input type="radio"', form)) == 2
    assert re.findall(r"<input(?![^>]*\bid=)(?![^>]*type=\"radio\")", form) == []
    for name in VENDOR:
        assert f'src="/static/vendor/{name}"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_the_dashboard_links_to_the_forecast(client: TestClient) -> None:
    assert f'href="{PAGE}"' in client.get("/streams/Tiny").text
