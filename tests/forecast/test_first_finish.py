"""The default history window starts at the stream's first finish, never before it, and
every forecast says which days it sampled (``history``); a window asked for is sampled as is.

The stream of the file below: 20 items created on 2024-01-01, the first finished 62 days
later (2024-03-03), then three finishes a day for 20 days (to 2024-03-22). The default start
is 2024-03-23; 84 days before it would be 64 days of zeros and 20 of threes.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.forecast import forecast_how_many, forecast_when, history_of
from obeya.errors import InputError

runner = CliRunner()
FIRST_FINISH = date(2024, 3, 3)
START = date(2024, 3, 23)


@pytest.fixture
def stream_file(tmp_path: Path) -> Path:
    rows = ["item_id,state,timestamp"]
    for day in range(20):
        for n in range(3):
            item = f"I{day}-{n}"
            finish = FIRST_FINISH + timedelta(days=day)
            rows += [f"{item},Open,2024-01-01", f"{item},Done,{finish}T12:00:00Z"]
    path = tmp_path / "stream.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "wf.toml").write_text(
        'backlog = []\nactive = ["Open"]\nwaiting = []\ndone = ["Done"]\n', encoding="utf-8"
    )
    return path


def forecast(*args: str) -> dict:
    result = runner.invoke(app, ["forecast", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_default_window_starts_at_the_first_finish(stream_file: Path) -> None:
    workflow = str(stream_file.parent / "wf.toml")
    doc = forecast("when", str(stream_file), "-w", workflow, "--items", "30")
    # Every sampled day finishes 3 items, so every trial needs exactly 30 / 3 = 10 days.
    assert doc["percentiles"] == {"50": 10, "70": 10, "85": 10, "95": 10}
    assert doc["history"] == {
        "start": "2024-03-03", "end": "2024-03-22", "days": 20, "finished": 60,
        "starts_at": "first_finish",
    }  # fmt: skip
    assert (doc["start"], doc["history_days"]) == ("2024-03-23", 20)


def test_a_window_asked_for_is_sampled_with_its_empty_days(stream_file: Path) -> None:
    workflow = str(stream_file.parent / "wf.toml")
    doc = forecast(
        "when", str(stream_file), "-w", workflow, "--items", "30", "--history-days", "84"
    )
    assert doc["history"] == {
        "start": "2023-12-30", "end": "2024-03-22", "days": 84, "finished": 60,
        "starts_at": "given",
    }  # fmt: skip
    # 60 finishes in 84 days: 5/7 a day, about 42 days for 30 items; far from the 10 above.
    assert doc["percentiles"]["50"] > 30


def test_how_many_median_from_the_binomial_of_the_first_finish_window() -> None:
    # 62 days before the first finish are not listed (a flow report's series start at the
    # first finish); then 20 days alternating 2 and 4 finishes.
    daily = {
        (FIRST_FINISH + timedelta(days=i)).isoformat(): 2 if i % 2 == 0 else 4 for i in range(20)
    }
    result = forecast_how_many(daily, 10, trials=10_000, seed=3)
    assert result.history is not None and result.history.starts_at == "first_finish"
    assert result.history.days == 20
    # Ten draws of 2 or 4 (fair): 20 + 2·B, B ~ Binomial(10, ½). The p50 is the largest total
    # that at least half the trials reached: P(B ≥ 5) = 0.623, P(B ≥ 6) = 0.377, so 30.
    at_least = {k: sum(math.comb(10, j) for j in range(k, 11)) / 1024 for k in (5, 6)}
    assert at_least[5] == pytest.approx(0.623, abs=0.001)
    assert at_least[6] == pytest.approx(0.377, abs=0.001)
    assert result.percentiles[50] == 30


def test_the_window_kinds_and_their_edges() -> None:
    daily = {"2024-01-10": 1, "2024-01-11": 0, "2024-06-01": 2}
    # 84 days before 2024-06-02 start on 03-10, after the first finish: the default window.
    window = history_of(daily)
    assert (window.start, window.end, window.days) == (date(2024, 3, 10), date(2024, 6, 1), 84)
    assert window.starts_at == "default"
    assert window.describe() == "the 84 days from 2024-03-10 to 2024-06-01"
    # A start on or before the first finish leaves no history unless days are asked for.
    with pytest.raises(InputError, match="first finish, 2024-01-10"):
        forecast_when(daily, 1, start=date(2024, 1, 10))
    asked = history_of(daily, date(2024, 1, 10), 5)
    assert (asked.counts, asked.starts_at) == ((0, 0, 0, 0, 0), "given")
