"""Backtests of the how-many forecast: a stationary stream is calibrated, a stream that speeds
up is not (in the expected direction), a steady stream is exact, origins and actuals by hand,
bad input, and the CLI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.forecast import (
    PERCENTILES,
    Backtest,
    backtest,
    backtest_when,
    history_window,
    how_many,
    when,
)
from obeya.errors import InputError

runner = CliRunner()
DAY0 = date(2022, 1, 3)


def daily(counts: list[int] | np.ndarray, first: date = DAY0) -> dict[str, int]:
    return {(first + timedelta(days=i)).isoformat(): int(n) for i, n in enumerate(counts)}


def poisson(rates: list[float], seed: int) -> dict[str, int]:
    return daily(np.random.default_rng(seed).poisson(rates))


def test_a_stationary_stream_is_calibrated() -> None:
    # Two years of Poisson(3) a day; an origin every day (632 of them, overlapping horizons).
    result = backtest(poisson([3.0] * 730, seed=5), every_days=1)
    assert (result.origins, result.skipped) == (730 - 84 - 14, 0)  # days 84 .. 715 = 729 − 14
    for p in PERCENTILES:
        assert abs(result.calibration[p] - p) <= 8, result.calibration
    # The p50 is unbiased and a 14-day total of Poisson(3) has a standard deviation of 6.5.
    assert abs(result.mean_error) < 1.5
    assert 3 < result.mean_absolute_error < 8
    mape = result.mean_absolute_percentage_error
    assert mape is not None and 8 < mape < 20


def test_a_stream_that_speeds_up_is_forecast_too_low() -> None:
    # The pace doubles half-way; with a year of history every origin's window still holds
    # slow days, so the actual reaches the p-forecast more often than p % of the time.
    result = backtest(poisson([2.0] * 365 + [4.0] * 365, seed=5), history_days=365)
    assert result.origins > 40
    for p in PERCENTILES:
        assert result.calibration[p] > p, result.calibration
    assert result.calibration[50] >= 80
    assert result.mean_error < -5  # forecasts too low
    # With the default twelve weeks the origins just after the change still lean that way.
    recent = backtest(poisson([2.0] * 365 + [4.0] * 365, seed=5))
    assert recent.mean_error < 0
    assert recent.calibration[50] > 50


def test_a_steady_stream_is_exact() -> None:
    result = backtest(daily([2] * 120), horizon_days=10, history_days=28, every_days=7)
    # Origins from day 28 to day 110 (= 119 − 10), every 7 days.
    assert [pt.origin for pt in result.points] == [
        DAY0 + timedelta(days=d) for d in range(28, 111, 7)
    ]
    for point in result.points:
        assert set(point.percentiles.values()) == {20}
        assert point.actual == 20
        assert point.end == point.origin + timedelta(days=9)
    assert result.calibration == dict.fromkeys(PERCENTILES, 100.0)
    assert result.mean_absolute_error == 0.0
    assert result.mean_error == 0.0
    assert result.mean_absolute_percentage_error == 0.0


def test_origins_windows_and_actuals_by_hand() -> None:
    # Days 0..9; listed sparsely (missing days count 0). History 3 days, horizon 2, every 2.
    counts = [1, 0, 3, 0, 0, 0, 5, 2, 0, 4]
    data = {k: v for k, v in daily(counts).items() if v}
    result = backtest(data, horizon_days=2, history_days=3, every_days=2, trials=500, seed=4)
    # Origins on days 3, 5 and 7 (the last ≤ 9 − 2); their windows are days 0..2, 2..4 and
    # 4..6, none of them empty; their horizons days 3..4, 5..6 and 7..8.
    assert [pt.origin for pt in result.points] == [DAY0 + timedelta(days=d) for d in (3, 5, 7)]
    assert [pt.actual for pt in result.points] == [0 + 0, 0 + 5, 2 + 0]
    assert result.skipped == 0
    for point in result.points:
        window = history_window(data, point.origin, 3)
        expected = how_many(window, 2, trials=500, seed=4, start=point.origin)
        assert point.percentiles == expected.percentiles
    # Skipping: with a one-day history, origins 1, 3, 5 and 7 see days 0, 2, 4 and 6.
    sparse = backtest(data, horizon_days=2, history_days=1, every_days=2)
    assert [(pt.origin - DAY0).days for pt in sparse.points] == [1, 3, 7]
    assert sparse.skipped == 1  # origin day 5 (its window, day 4, has no finish)
    # Calibration and errors from the points.
    forecasts = np.array([[pt.percentiles[p] for p in PERCENTILES] for pt in result.points])
    actuals = np.array([pt.actual for pt in result.points])
    for i, p in enumerate(PERCENTILES):
        assert result.calibration[p] == pytest.approx(100 * np.mean(actuals >= forecasts[:, i]))
    p50 = forecasts[:, 0]
    assert result.mean_absolute_error == pytest.approx(np.mean(np.abs(p50 - actuals)))
    seen = actuals > 0
    assert result.mean_absolute_percentage_error == pytest.approx(
        100 * np.mean(np.abs(p50 - actuals)[seen] / actuals[seen])
    )


def test_mape_is_none_when_every_actual_is_zero() -> None:
    result = backtest(daily([3, 3, 0, 0, 0, 1]), horizon_days=2, history_days=2, every_days=1)
    assert [pt.actual for pt in result.points] == [0, 0]
    assert result.mean_absolute_percentage_error is None
    assert result.to_dict()["mean_absolute_percentage_error"] is None


def test_dict_shape() -> None:
    doc = backtest(daily([2] * 40), horizon_days=5, history_days=10, every_days=10).to_dict()
    assert set(doc) == {
        "kind", "items", "censored",
        "horizon_days", "history_days", "every_days", "trials", "seed", "origins", "skipped",
        "calibration", "mean_error", "mean_absolute_error", "mean_absolute_percentage_error",
        "forecasts",
    }  # fmt: skip
    assert (doc["origins"], doc["skipped"], doc["trials"], doc["seed"]) == (3, 0, 2000, 1)
    assert (doc["kind"], doc["items"], doc["censored"]) == ("how-many", None, 0)
    assert doc["calibration"] == {"50": 100.0, "70": 100.0, "85": 100.0, "95": 100.0}
    assert doc["forecasts"][0] == {
        "origin": "2022-01-13",
        "end": "2022-01-17",
        "percentiles": {"50": 10, "70": 10, "85": 10, "95": 10},
        "actual": 10,
    }
    assert isinstance(backtest(daily([1] * 30), history_days=7, horizon_days=7), Backtest)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"horizon_days": 0}, "horizon_days"),
        ({"history_days": -1}, "history_days"),
        ({"every_days": 0}, "every_days"),
        ({"trials": 0}, "trials"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_options_name_the_field(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InputError) as caught:
        backtest(daily([1] * 200), **kwargs)
    assert caught.value.field == field
    assert caught.value.shown("cli").startswith(f"--{field.replace('_', '-')} is ")


def test_bad_data() -> None:
    with pytest.raises(InputError, match=r"^the data spans 90 days") as caught:
        backtest(daily([1] * 90))  # 84 + 14 days needed for the first origin
    assert caught.value.field == "history_days"
    with pytest.raises(InputError, match=r"^the data spans 98 days"):
        backtest(daily([1] * 98))
    # 99 days: one origin, day 84 (= 98 − 14), its horizon days 84..97.
    assert backtest(daily([1] * 99)).origins == 1
    with pytest.raises(InputError, match="no throughput history"):
        backtest({})
    with pytest.raises(InputError, match="widen the days of history"):
        backtest(daily([0] * 40 + [1]), history_days=7, horizon_days=7)
    with pytest.raises(InputError, match="finished count cannot be negative") as caught:
        backtest(daily([1, -1] * 100))
    assert caught.value.field == "throughput_daily"


# -- CLI ---------------------------------------------------------------------------------------

WORKFLOW = """backlog = ["To Do"]
active = ["In Progress"]
waiting = []
done = ["Done"]
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """Sixty days from 2024-03-01; on day d, d % 3 items finish (0, 1, 2, 0, 1, 2, …)."""
    rows = ["item_id,state,timestamp"]
    n = 0
    for d in range(60):
        day = date(2024, 3, 1) + timedelta(days=d)
        for _ in range(d % 3):
            rows.append(f"I{n},In Progress,{(day - timedelta(days=1)).isoformat()}T09:00:00Z")
            rows.append(f"I{n},Done,{day.isoformat()}T15:00:00Z")
            n += 1
    data = tmp_path / "items.csv"
    data.write_text("\n".join(rows) + "\n")
    workflow = tmp_path / "workflow.toml"
    workflow.write_text(WORKFLOW)
    return data, workflow


def test_cli_json(files) -> None:
    data, workflow = files
    args = [
        "forecast", "backtest", str(data), "-w", str(workflow), "--horizon-days", "6",
        "--history-days", "21", "--every-days", "3", "--trials", "300", "--seed", "2",
    ]  # fmt: skip
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # Finishes from 03-02 (day 1) to 04-29 (day 59): 59 days; origins from 03-23 every 3 days.
    first = date(2024, 3, 2)
    counts = {(first + timedelta(days=i)).isoformat(): (i + 1) % 3 for i in range(59)}
    expected = backtest(
        counts, horizon_days=6, history_days=21, every_days=3, trials=300, seed=2
    ).to_dict()
    assert doc == expected
    assert doc["forecasts"][0]["origin"] == "2024-03-23"
    # Six days always finish 0+1+2 twice: every actual is 6.
    assert {f["actual"] for f in doc["forecasts"]} == {6}
    assert (doc["horizon_days"], doc["history_days"], doc["every_days"]) == (6, 21, 3)

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Achieved" in result.stdout and "Last 5 origins" in result.stdout

    result = runner.invoke(app, ["forecast", "backtest", str(data), "-w", str(workflow)])
    assert result.exit_code == 1
    assert "give fewer --history-days" in " ".join(result.stderr.split())
    result = runner.invoke(app, ["forecast", "backtest"])
    assert result.exit_code == 2

    # --items backtests `when`: every origin (day 21, 24, ...) finishes 1, then 2: 3 items in
    # exactly 2 days.
    when_args = [*args[:5], "--items", "3", *args[7:]]
    result = runner.invoke(app, [*when_args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (
        doc
        == backtest_when(
            counts, items=3, history_days=21, every_days=3, trials=300, seed=2
        ).to_dict()
    )
    assert doc["kind"] == "when" and {f["actual"] for f in doc["forecasts"]} == {2}
    result = runner.invoke(app, when_args)
    assert result.exit_code == 0, result.output
    assert "Backtest of when 3 items are done" in result.stdout and "days" in result.stdout


# -- when ------------------------------------------------------------------------------------


def test_when_origins_and_actuals_by_hand() -> None:
    # Days 0..9 finish 1, 0, 2, 0, 1, 3, 0, 0, 1, 1 items. History 2 days, an origin every 2
    # days: origins at days 2, 4, 6, 8. Three items after each origin (the origin counts):
    #   day 2: 2 (day 2) + 1 (day 4) → 3 on day 4: 3 days;  day 4: 1 + 3 → day 5: 2 days;
    #   day 6: 0 + 0 + 1 + 1 = 2 by day 9, never 3: censored;  day 8: censored too.
    counts = [1, 0, 2, 0, 1, 3, 0, 0, 1, 1]
    result = backtest_when(daily(counts), items=3, history_days=2, every_days=2, trials=500)
    assert [pt.origin for pt in result.points] == [DAY0 + timedelta(days=d) for d in (2, 4)]
    assert [pt.actual for pt in result.points] == [3, 2]
    assert [pt.end for pt in result.points] == [DAY0 + timedelta(days=d) for d in (4, 5)]
    assert (result.censored, result.skipped, result.kind, result.items) == (2, 0, "when", 3)
    # Each forecast is exactly the one `when` makes that day from the two days before it.
    first = when([1, 0], 3, trials=500, seed=1, start=DAY0 + timedelta(days=2))
    assert result.points[0].percentiles == first.percentiles
    # Calibration counts actual ≤ forecast days.
    forecasts = np.array([[pt.percentiles[p] for p in PERCENTILES] for pt in result.points])
    actuals = np.array([3, 2])
    for i, p in enumerate(PERCENTILES):
        assert result.calibration[p] == pytest.approx(100 * np.mean(actuals <= forecasts[:, i]))
    assert result.mean_error == pytest.approx(np.mean(forecasts[:, 0] - actuals))


def test_when_on_a_stationary_stream_is_calibrated() -> None:
    result = backtest_when(poisson([3.0] * 730, seed=8), items=30, every_days=1)
    assert result.censored > 0  # the last origins cannot see 30 more items
    # Days are whole, and 30 items take 10 ± 2 days, so a percentile's day holds many
    # outcomes: P(actual < q_p) ≤ p ≤ P(actual ≤ q_p), each within sampling error.
    forecasts = np.array([[pt.percentiles[p] for p in PERCENTILES] for pt in result.points])
    actuals = np.array([pt.actual for pt in result.points])[:, None]
    below = 100 * np.mean(actuals < forecasts, axis=0)
    for i, p in enumerate(PERCENTILES):
        assert below[i] - 6 <= p <= result.calibration[p] + 6, (below, result.calibration)
    assert abs(result.mean_error) < 1.0  # days; 30 items take about 10 days


def test_when_a_stream_speeds_up_forecasts_are_too_late() -> None:
    # Twice the pace after day 300: the window still holds the slow past, so more than p %
    # of origins finish within the p-percentile (forecasts too late, mean error positive).
    result = backtest_when(poisson([2.0] * 300 + [4.0] * 300, seed=3), items=20, every_days=1)
    assert result.calibration[50] > 60 and result.mean_error > 0


def test_when_bad_input() -> None:
    with pytest.raises(InputError, match="items is 0; give at least 1"):
        backtest_when(daily([1] * 30), items=0)
    with pytest.raises(InputError, match="no origin could be scored"):
        backtest_when(daily([1] * 30), items=100, history_days=5)
