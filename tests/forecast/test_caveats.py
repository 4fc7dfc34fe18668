"""A forecast's caveats: a history of few days or few finishes, a how-many beyond the open
work. Documents written by hand, the Rueedlinger Jira export (tests/datasets) through the CLI,
then "Tiny" (tests/api/tiny.py) on the page: its first finish is 4 January and its last 12
January, so a forecast from the 13th samples the 9 days from the 4th; D is in progress and E
not started, 2 open items."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app_fixtures import client, workspace  # noqa: F401 (the fixtures)
from obeya.cli.main import app
from obeya.core.forecast.caveats import (
    FEW_FINISHES,
    FEW_ORIGINS,
    SHORT_HISTORY_DAYS,
    backtest_caveats,
    forecast_caveats,
)

JIRA = Path(__file__).parents[1] / "datasets" / "rueedlinger_agile_project_jira.csv"


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


def test_a_window_of_few_finishes_is_said_with_its_count() -> None:
    doc = _doc(84, "default", 0)
    [few] = forecast_caveats({**doc, "history": {**doc["history"], "finished": 1}})
    assert few.startswith("The 84 days of history (2012-04-30 to 2012-05-22) hold only 1 ")
    enough = {**doc["history"], "finished": FEW_FINISHES}
    assert forecast_caveats({**doc, "history": enough}) == []


def test_the_quiet_tail_of_a_real_export_is_named() -> None:
    # The export's last finish is 2019-08-08; the default window is the 84 days up to it,
    # from 2019-05-17. Counted here from the file: the rows whose finish falls in it.
    with JIRA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert max(r["finished_date"] for r in rows) == "2019-08-08"
    inside = [r for r in rows if "2019-05-17" <= r["finished_date"] <= "2019-08-08"]
    wide = ["--format", "wide", "--item-column", "id", "--state-columns",
            "created_date,finished_date"]  # fmt: skip
    args = ["forecast", "how-many", str(JIRA), *wide, "--days", "14"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["history"]["finished"] == len(inside) == 1
    assert doc["percentiles"]["50"] == 0
    shown = " ".join(CliRunner().invoke(app, args).output.split())
    note = "note: The 84 days of history (2019-05-17 to 2019-08-08) hold only 1 finished item"
    assert note in shown


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


def test_a_backtest_of_few_origins_says_how_much_each_weighs() -> None:
    [few] = backtest_caveats({"origins": 9})
    assert few.startswith("Only 9 origins scored: each moves an achieved share by 11 points")
    assert backtest_caveats({"origins": FEW_ORIGINS}) == []
    assert backtest_caveats({"origins": 0}) == []  # none scored is an error, not a caveat
