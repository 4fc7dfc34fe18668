"""A forecast's caveats: a history of few days, a how-many beyond the open work. Documents
written by hand, then "Tiny" (tests/api/tiny.py) on the page: its first finish is 4 January
and its last 12 January, so a forecast from the 13th samples the 9 days from the 4th; D is in
progress and E not started, 2 open items."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app_fixtures import client, workspace  # noqa: F401 (the fixtures)
from obeya.core.forecast.caveats import SHORT_HISTORY_DAYS, forecast_caveats


def _doc(days: int, starts_at: str, p50: int, how_many: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "percentiles": {"50": p50, "85": p50 - 1},
        "history": {"start": "2012-04-30", "end": "2012-05-22", "days": days,
                    "starts_at": starts_at},
    }  # fmt: skip
    return {**doc, "days": 14} if how_many else {**doc, "items": 5}


def test_a_short_history_is_said_with_its_reason() -> None:
    [short] = forecast_caveats(_doc(23, "first_finish", 3), open_items=8)
    assert short.startswith("The history holds only 23 days (from the stream's first finish)")
    [given] = forecast_caveats(_doc(1, "given", 3))
    assert given.startswith("The history holds only 1 day: ")
    assert forecast_caveats(_doc(SHORT_HISTORY_DAYS, "default", 3), open_items=8) == []


def test_more_items_than_open_is_said_of_how_many_only() -> None:
    # BPIC 2013 from its first finish: 4,524 items at p50 in 14 days, 8 open at the end.
    [_, beyond] = forecast_caveats(_doc(23, "first_finish", 4524), open_items=8)
    assert beyond.startswith("Half the trials finish 4,524 items or more, but the stream holds 8")
    assert forecast_caveats(_doc(90, "default", 8), open_items=8) == []  # not more than open
    assert forecast_caveats(_doc(90, "default", 4524)) == []  # open items unknown (a file)
    assert forecast_caveats(_doc(90, "default", 4524, how_many=False), open_items=8) == []


def test_the_page_says_them_under_the_forecast(client: TestClient) -> None:  # noqa: F811
    query = "question=how-many&days=14&trials=2000&seed=1"
    page = " ".join(client.get(f"/streams/Tiny/forecast?{query}").text.split())
    doc = client.get("/api/streams/Tiny/forecast/how-many?days=14&trials=2000&seed=1").json()
    assert doc["history"]["days"] == 9 and doc["percentiles"]["50"] > 2
    assert "Read with care:</strong> The history holds only 9 days" in page
    assert f"Half the trials finish {doc['percentiles']['50']} items or more" in page
    assert "holds 2 open" in page
