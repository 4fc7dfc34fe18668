"""The forecast routes: the documents of ``obeya forecast ... --json`` for a stored stream,
checked against the core run on a throughput counted by hand, against the CLI, and against
hand-computed figures; the charts; bad input in the one error shape.

"Tiny" (api/tiny.py) finishes one item on each of 2024-01-04 (A), 01-09 (B) and 01-12 (C), so
the default start is 2024-01-13 and the nine days before it hold 1, 0, 0, 0, 0, 1, 0, 0, 1.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.tiny import TINY_CSV, WORKFLOW
from obeya.core.forecast import how_many, when
from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap
from obeya.render.forecast import outcome_bins
from obeya.workspace import Workspace

START = date(2024, 1, 13)
TRIALS = 2000
BASE = "/api/streams/Tiny/forecast"


def finishes_per_day() -> dict[str, int]:
    """Items finished per day, counted straight from the CSV: each item enters Done once."""
    rows = csv.DictReader(io.StringIO(TINY_CSV))
    return dict(Counter(row["timestamp"] for row in rows if row["state"] == "Done"))


def window(first: date, days: int) -> list[int]:
    """The finishes of ``days`` days from ``first``, days without one counted as 0."""
    daily = finishes_per_day()
    return [daily.get((first + timedelta(days=i)).isoformat(), 0) for i in range(days)]


def as_json(doc: Any) -> Any:
    return json.loads(json.dumps(doc))


def sampled(
    first: str, last: str, days: int, finished: int, starts_at: str = "given"
) -> dict[str, Any]:
    """The ``history`` a forecast document names: the days it sampled, the items finished in
    them (A on 4 January, B on the 9th, C on the 12th), and why from there."""
    history = {"start": first, "end": last, "days": days, "finished": finished}
    return {"history": {**history, "starts_at": starts_at}}


def assert_error(response: Any, status: int, kind: str, field: str) -> str:
    """The one error shape, with a message that starts by naming ``field``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "message", "detail"}
    assert body["error"]["type"] == kind
    message: str = body["error"]["message"]
    assert field in message, message
    return message


def test_the_hand_counted_window() -> None:
    assert finishes_per_day() == {"2024-01-04": 1, "2024-01-09": 1, "2024-01-12": 1}
    assert window(date(2024, 1, 4), 9) == [1, 0, 0, 0, 0, 1, 0, 0, 1]


def test_when_is_the_core_forecast_of_the_stream_throughput(client: TestClient) -> None:
    response = client.get(f"{BASE}/when?items=3&history_days=9&trials={TRIALS}")
    assert response.status_code == 200
    doc = response.json()
    expected = when(window(date(2024, 1, 4), 9), 3, trials=TRIALS, seed=1, start=START)
    assert doc == as_json({**expected.to_dict(), **sampled("2024-01-04", "2024-01-12", 9, 3)})
    assert set(doc) == {
        "percentiles", "trials", "history_days", "history", "start", "seed", "histogram",
        "items", "dates",
    }  # fmt: skip
    assert (doc["start"], doc["history_days"], doc["trials"], doc["seed"]) == (
        "2024-01-13", 9, TRIALS, 1,
    )  # fmt: skip
    assert sum(doc["histogram"].values()) == TRIALS


def test_when_defaults_and_an_explicit_start(client: TestClient) -> None:
    # Defaults: 84 days of history would hold 75 days before the first finish (01-04), all
    # zeros; the window starts at the first finish instead: 01-04 .. 01-12. 10,000 trials.
    doc = client.get(f"{BASE}/when?items=2").json()
    expected = when(window(date(2024, 1, 4), 9), 2, start=START).to_dict()
    assert doc == as_json({**expected, **sampled("2024-01-04", "2024-01-12", 9, 3, "first_finish")})
    # Asked for, the 84 days are sampled as they are, zeros and all.
    doc = client.get(f"{BASE}/when?items=2&history_days=84").json()
    expected = when(window(START - timedelta(days=84), 84), 2, start=START).to_dict()
    assert doc == as_json({**expected, **sampled("2023-10-21", "2024-01-12", 84, 3)})
    # Start 2024-01-10, six days of history: 01-04 .. 01-09.
    doc = client.get(f"{BASE}/when?items=2&start=2024-01-10&history_days=6&seed=7&trials=500")
    expected = when([1, 0, 0, 0, 0, 1], 2, trials=500, seed=7, start=date(2024, 1, 10))
    assert doc.json() == as_json(
        {**expected.to_dict(), **sampled("2024-01-04", "2024-01-09", 6, 2)}
    )


def test_the_when_median_is_the_negative_binomial_one(client: TestClient) -> None:
    # Each day of the nine-day window finishes one item with probability 1/3, so the days to
    # three items are negative-binomial: P(done within d days) = P(Binomial(d, 1/3) ≥ 3).
    def done_within(d: int) -> float:
        return 1 - sum(math.comb(d, k) * (1 / 3) ** k * (2 / 3) ** (d - k) for k in range(3))

    assert done_within(7) == pytest.approx(0.429, abs=0.001)
    assert done_within(8) == pytest.approx(0.532, abs=0.001)
    # 7 days are too few for half the trials and 8 enough, by 3 standard errors at 2,000 trials.
    doc = client.get(f"{BASE}/when?items=3&history_days=9&trials={TRIALS}").json()
    assert doc["percentiles"]["50"] == 8
    assert doc["dates"]["50"] == "2024-01-20"  # day 1 is the 13th


def test_how_many_in_days_and_by_a_date(client: TestClient) -> None:
    history = window(date(2024, 1, 4), 9)
    days = sampled("2024-01-04", "2024-01-12", 9, 3)
    doc = client.get(f"{BASE}/how-many?days=7&history_days=9&trials={TRIALS}").json()
    expected = how_many(history, 7, trials=TRIALS, seed=1, start=START).to_dict()
    assert doc == as_json({**expected, **days})
    assert (doc["days"], doc["end"]) == (7, "2024-01-19")
    # By the end of 01-20: eight days from the 13th, the same forecast as days=8.
    by = client.get(f"{BASE}/how-many?by=2024-01-20&history_days=9&trials={TRIALS}").json()
    expected = how_many(history, 8, trials=TRIALS, seed=1, start=START).to_dict()
    assert by == as_json({**expected, **days})
    assert by == client.get(f"{BASE}/how-many?days=8&history_days=9&trials={TRIALS}").json()


@pytest.mark.parametrize("history_days", [9, 84])
def test_percentiles_are_monotone(client: TestClient, history_days: int) -> None:
    query = f"history_days={history_days}&trials={TRIALS}"
    later = client.get(f"{BASE}/when?items=4&{query}").json()
    days = [later["percentiles"][p] for p in ("50", "70", "85", "95")]
    assert days == sorted(days)  # more confidence, later
    dates = [later["dates"][p] for p in ("50", "70", "85", "95")]
    assert dates == [(START + timedelta(days=d - 1)).isoformat() for d in days]
    fewer = client.get(f"{BASE}/how-many?days=20&{query}").json()
    counts = [fewer["percentiles"][p] for p in ("50", "70", "85", "95")]
    assert counts == sorted(counts, reverse=True)  # more confidence, fewer items


def test_the_documents_are_what_the_cli_prints(
    client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from obeya.cli.main import app as cli

    monkeypatch.setenv("OBEYA_DATABASE_URL", database_url)
    runner = CliRunner()
    cases = [
        (
            ["when", "--items", "3", "--history-days", "9", "--trials", "2000", "--seed", "4"],
            "when?items=3&history_days=9&trials=2000&seed=4",
        ),
        (
            ["how-many", "--days", "10", "--start", "2024-01-11", "--trials", "2000"],
            "how-many?days=10&start=2024-01-11&trials=2000",
        ),
        (
            ["backtest", "--history-days", "3", "--horizon-days", "2", "--every-days", "1"],
            "backtest?history_days=3&horizon_days=2&every_days=1",
        ),
    ]
    for args, query in cases:
        result = runner.invoke(cli, ["forecast", *args, "--stream", "Tiny", "--json"])
        assert result.exit_code == 0, result.output
        assert client.get(f"{BASE}/{query}").json() == json.loads(result.stdout), query


def test_the_backtest_by_hand(client: TestClient) -> None:
    # Finishes span 01-04 .. 01-12 (9 days). With 3 days of history and a 2-day horizon the
    # origins are 01-07 .. 01-10; the windows of 01-08 and 01-09 hold no finish (skipped).
    # 01-07 (window 1, 0, 0) and 01-10 (0, 0, 1): each day 1 item with probability 1/3, so in
    # two days P(at least 1) = 5/9 ≈ 56 %: p50 = 1, p70 .. p95 = 0. Nothing finished on
    # 01-07, 01-08, 01-10 or 01-11: both actuals are 0.
    doc = client.get(f"{BASE}/backtest?history_days=3&horizon_days=2&every_days=1").json()
    assert (doc["origins"], doc["skipped"], doc["trials"], doc["seed"]) == (2, 2, 2000, 1)
    assert [(f["origin"], f["end"], f["actual"]) for f in doc["forecasts"]] == [
        ("2024-01-07", "2024-01-08", 0),
        ("2024-01-10", "2024-01-11", 0),
    ]
    for point in doc["forecasts"]:
        assert point["percentiles"] == {"50": 1, "70": 0, "85": 0, "95": 0}
    assert doc["calibration"] == {"50": 0.0, "70": 100.0, "85": 100.0, "95": 100.0}
    assert (doc["mean_error"], doc["mean_absolute_error"]) == (1.0, 1.0)
    assert doc["mean_absolute_percentage_error"] is None  # every actual is 0


def test_the_when_backtest_by_hand(client: TestClient) -> None:
    # Origins 01-07 .. 01-12 (3 days of history, every day); 01-08 and 01-09 see no finish in
    # their window (skipped). From 01-07 the next item finishes 01-09 (day 3); from 01-10 on
    # 01-12 (day 3); from 01-11 on 01-12 (day 2); from 01-12 that same day (day 1).
    doc = client.get(f"{BASE}/backtest?items=1&history_days=3&every_days=1").json()
    assert (doc["kind"], doc["items"], doc["skipped"], doc["censored"]) == ("when", 1, 2, 0)
    assert [(f["origin"], f["actual"], f["end"]) for f in doc["forecasts"]] == [
        ("2024-01-07", 3, "2024-01-09"),
        ("2024-01-10", 3, "2024-01-12"),
        ("2024-01-11", 2, "2024-01-12"),
        ("2024-01-12", 1, "2024-01-12"),
    ]
    response = client.get(f"{BASE}/backtest?items=0")
    assert_error(response, 422, "InputError", "items")


def test_the_chart_is_the_histogram_with_the_percentile_lines(client: TestClient) -> None:
    query = f"items=3&history_days=9&trials={TRIALS}"
    doc = client.get(f"{BASE}/when?{query}").json()
    spec = client.get(f"{BASE}/when/chart?{query}").json()
    assert "vega-lite" in spec["$schema"]
    bars = spec["datasets"]["outcomes"]
    # Fewer than 60 outcomes: one bar per number of days, centred on it, as in the histogram.
    assert {str(round((b["start"] + b["end"]) / 2)): b["trials"] for b in bars} == doc["histogram"]
    assert all(b["end"] - b["start"] == 1 for b in bars)
    lines = spec["datasets"]["percentiles"]
    assert [(r["label"], r["value"]) for r in lines] == [
        (f"p{p}", v) for p, v in doc["percentiles"].items()
    ]
    assert lines[0]["text"] == "50 %: day 8 · 20 Jan 2024"
    marks = json.dumps(spec["layer"])
    assert '"rule"' in marks and '"bar"' in marks and '"text"' in marks

    query = f"days=7&history_days=9&trials={TRIALS}"
    doc = client.get(f"{BASE}/how-many?{query}").json()
    spec = client.get(f"{BASE}/how-many/chart?{query}").json()
    assert sum(b["trials"] for b in spec["datasets"]["outcomes"]) == TRIALS
    assert [r["value"] for r in spec["datasets"]["percentiles"]] == list(
        doc["percentiles"].values()
    )
    assert spec["datasets"]["percentiles"][0]["text"] == f"50 %: ≥ {doc['percentiles']['50']}"


def test_a_wide_spread_of_outcomes_is_binned() -> None:
    # 0 .. 299, one trial each: bins of 10 (the nice width for about 30 bars), aligned on 0.
    bins = outcome_bins({v: 1 for v in range(300)}, "item", 300)
    assert len(bins) == 30
    assert (bins[0]["start"], bins[0]["end"], bins[0]["trials"]) == (-0.5, 9.5, 10)
    assert bins[-1]["range"] == "290–299 items"
    assert sum(b["trials"] for b in bins) == 300
    single = outcome_bins({1: 3, 4: 1}, "day", 4)
    assert [(b["range"], b["share"]) for b in single] == [("1 day", 0.75), ("4 days", 0.25)]


@pytest.mark.parametrize(
    ("query", "status", "kind", "field"),
    [
        ("when?items=0", 422, "InputError", "items"),
        ("when?items=-2", 422, "InputError", "items"),
        ("when", 422, "ValidationError", "query 'items'"),
        (
            "when?items=3&history_days=0",
            422,
            "ValidationError",
            "query 'history_days': Input should be greater than or equal to 1",
        ),
        ("when?items=3&trials=0", 422, "InputError", "trials"),
        ("when?items=3&trials=1000000", 422, "ValidationError", "query 'trials'"),
        ("when?items=3&start=13/01/2024", 422, "ValidationError", "query 'start'"),
        ("when?items=3&seed=-1", 422, "InputError", "seed"),
        ("when?items=5000&history_days=9", 422, "InputError", "items"),
        ("when?items=3&start=2025-01-01", 422, "InputError", "history_days"),
        ("how-many?days=0", 422, "InputError", "days"),
        ("how-many", 422, "InputError", "days"),
        ("how-many?days=3&by=2024-02-01", 422, "InputError", "days"),
        ("how-many?by=2024-01-01", 422, "InputError", "by"),
        ("how-many?days=100000", 422, "InputError", "days"),
        ("how-many?by=2999-01-01", 422, "InputError", "by"),
        ("backtest", 422, "InputError", "history_days"),
        ("backtest?every_days=0", 422, "InputError", "every_days"),
        ("backtest?trials=50000", 422, "ValidationError", "query 'trials'"),
        ("when/chart?items=0", 422, "InputError", "items"),
        ("how-many/chart?days=0", 422, "InputError", "days"),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, query: str, status: int, kind: str, field: str
) -> None:
    """A validation error names the parameter in its message; the core's InputError names it
    in ``detail.field`` and, as the API calls it, in its message."""
    response = client.get(f"{BASE}/{query}")
    assert_error(response, status, kind, field)
    if kind == "InputError" and field.isidentifier():
        assert response.json()["error"]["detail"]["field"] == field


def test_an_unknown_stream_is_404(client: TestClient) -> None:
    for route in ("when?items=3", "how-many?days=3", "backtest", "when/chart?items=3"):
        response = client.get(f"/api/streams/Nope/forecast/{route}")
        message = assert_error(response, 404, "NotFoundError", "Nope")
        assert "Tiny" not in message  # not which streams there are: some may not be yours


def test_a_stream_with_no_finished_item_has_no_throughput_history(
    client: TestClient, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "idle.csv"
    path.write_text("item_id,state,timestamp\nX,To Do,2024-01-01\nX,In Progress,2024-01-02\n")
    workspace.import_file(
        path, "Idle", workflow=Workflow.from_toml_text(WORKFLOW), columns=ColumnMap()
    )
    base = "/api/streams/Idle/forecast"
    for query in ("when?items=3", "how-many?days=5", "backtest"):
        message = assert_error(client.get(f"{base}/{query}"), 422, "InputError", "no throughput")
        assert "no finished item" in message
    # With a start, the window is there but empty: widen it, says the error.
    message = assert_error(
        client.get(f"{base}/how-many?days=5&start=2024-01-10"), 422, "InputError", "history"
    )
    assert "no throughput history in the 84 days before 2024-01-10" in message


def test_the_routes_are_documented_under_forecast(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("when", "when/chart", "how-many", "how-many/chart", "backtest"):
        operation = paths[f"/api/streams/{{name}}/forecast/{route}"]["get"]
        assert operation["tags"] == ["forecast"]
    when_params = {
        p["name"]: p for p in paths["/api/streams/{name}/forecast/when"]["get"]["parameters"]
    }
    assert when_params["items"]["required"] is True
    assert set(when_params) == {"name", "items", "history_days", "start", "trials", "seed"}
