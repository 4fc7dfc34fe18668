"""Monte Carlo forecasts: percentiles against the analytical answer for a known throughput
distribution, the conservative readings, the history window, bad input, and the CLI."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.forecast import PERCENTILES, history_window, how_many, when
from obeya.core.forecast.montecarlo import simulate_how_many, simulate_when
from obeya.errors import InputError

runner = CliRunner()

#: 84 days on which 0, 1 and 2 items finished equally often: each drawn day is uniform on
#: {0, 1, 2}, so the sum of D days has the D-fold convolution of (1/3, 1/3, 1/3).
HISTORY = [0, 1, 2] * 28
PMF = np.array([1 / 3, 1 / 3, 1 / 3])
TRIALS = 10_000


def sum_pmf(days: int) -> np.ndarray:
    """Exact distribution of the total of ``days`` independent draws (index = total)."""
    pmf = np.array([1.0])
    for _ in range(days):
        pmf = np.convolve(pmf, PMF)
    return pmf


def first_passage_cdf(items: int, max_days: int) -> np.ndarray:
    """P(T ≤ t) for t = 0..max_days, T the first day on which the running total reaches
    ``items``, by dynamic programming over the running total (capped at ``items``)."""
    state = np.zeros(items + 1)  # state[k] = P(running total = k), k = items means "done"
    state[0] = 1.0
    cdf = [0.0]
    for _ in range(max_days):
        nxt = np.zeros(items + 1)
        nxt[items] = state[items]
        for total in range(items):
            for step, prob in enumerate(PMF):
                nxt[min(items, total + step)] += state[total] * prob
        state = nxt
        cdf.append(state[items])
    return np.array(cdf)


def tolerance(p: float) -> float:
    """Four standard errors of an empirical proportion p over TRIALS trials."""
    return 4 * math.sqrt(p * (1 - p) / TRIALS)


@pytest.mark.parametrize("days", [1, 10, 60, 365])
def test_how_many_matches_the_convolution(days: int) -> None:
    result = how_many(HISTORY, days, trials=TRIALS, seed=7)
    survival = np.cumsum(sum_pmf(days)[::-1])[::-1]  # survival[v] = P(total ≥ v)
    survival = np.append(survival, 0.0)
    for p in PERCENTILES:
        q = p / 100
        value = result.percentiles[p]
        # At least p % of outcomes reach the figure, and (within sampling error) it is the
        # largest such figure.
        assert survival[value] >= q - tolerance(q)
        assert survival[value + 1] <= q + tolerance(q)


@pytest.mark.parametrize("items", [1, 5, 40, 365])
def test_when_matches_the_first_passage(items: int) -> None:
    result = when(HISTORY, items, trials=TRIALS, seed=11)
    cdf = first_passage_cdf(items, max(result.percentiles.values()) + 1)
    for p in PERCENTILES:
        q = p / 100
        value = result.percentiles[p]
        assert cdf[value] >= q - tolerance(q)
        assert cdf[value - 1] <= q + tolerance(q)
    assert sum(result.histogram.values()) == TRIALS


def test_seeded_runs_are_reproducible() -> None:
    assert how_many(HISTORY, 30, seed=3).to_dict() == how_many(HISTORY, 30, seed=3).to_dict()
    assert when(HISTORY, 30, seed=3).to_dict() == when(HISTORY, 30, seed=3).to_dict()
    assert how_many(HISTORY, 30, seed=3).histogram != how_many(HISTORY, 30, seed=4).histogram


def test_conservative_readings_on_the_trial_outcomes() -> None:
    history = np.asarray(HISTORY, dtype=np.int64)
    totals = simulate_how_many(history, 30, trials=TRIALS, seed=5)
    forecast = how_many(HISTORY, 30, trials=TRIALS, seed=5)
    days = simulate_when(history, 30, trials=TRIALS, seed=5, max_days=3650)
    finish = when(HISTORY, 30, trials=TRIALS, seed=5)
    for p in PERCENTILES:
        share = p * TRIALS / 100
        value = forecast.percentiles[p]
        assert np.count_nonzero(totals >= value) >= share  # p % delivered at least that many
        assert np.count_nonzero(totals >= value + 1) < share  # and it is the largest such
        value = finish.percentiles[p]
        assert np.count_nonzero(days <= value) >= share  # p % finished by then
        assert np.count_nonzero(days <= value - 1) < share  # and not a day earlier
        # The same as numpy's inverted-CDF quantile (from the top for how-many).
        assert value == np.percentile(days, p, method="inverted_cdf")
        assert forecast.percentiles[p] == -np.percentile(-totals, p, method="inverted_cdf")
    # Higher confidence: fewer items, more days.
    items = [forecast.percentiles[p] for p in PERCENTILES]
    spans = [finish.percentiles[p] for p in PERCENTILES]
    assert items == sorted(items, reverse=True)
    assert spans == sorted(spans)


def test_a_steady_stream_is_certain() -> None:
    assert set(how_many([3] * 10, 7).percentiles.values()) == {21}
    assert set(when([3] * 10, 21).percentiles.values()) == {7}
    assert set(when([3] * 10, 22).percentiles.values()) == {8}


def test_history_window_takes_the_days_before_start_with_zeros() -> None:
    start = date(2024, 4, 1)
    first = start - timedelta(days=84)
    daily = {
        (first - timedelta(days=1)).isoformat(): 100,  # one day too early
        first.isoformat(): 1,
        (first + timedelta(days=10)).isoformat(): 2,
        (start - timedelta(days=1)).isoformat(): 3,
        start.isoformat(): 100,  # the start day itself is the future
    }
    window = history_window(daily, start)
    assert len(window) == 84
    assert window[0] == 1 and window[10] == 2 and window[-1] == 3
    assert sum(window) == 6
    assert history_window(daily, start, 3) == [0, 0, 3]
    # Default start: the day after the data's last day.
    assert history_window({"2024-01-10": 4, "2024-01-12": 5}, history_days=4) == [0, 4, 0, 5]


def test_dates_and_dict_shape() -> None:
    result = when([1] * 5, 3, start=date(2024, 1, 1))
    doc = result.to_dict()
    assert doc["percentiles"] == {"50": 3, "70": 3, "85": 3, "95": 3}
    assert doc["dates"]["85"] == "2024-01-03"  # done by the end of the third day
    assert doc["histogram"] == {"3": 10_000}
    assert (doc["items"], doc["trials"], doc["history_days"], doc["seed"]) == (3, 10_000, 5, 1)
    doc = how_many([1] * 5, 3, start=date(2024, 1, 1)).to_dict()
    assert (doc["days"], doc["start"], doc["end"]) == (3, "2024-01-01", "2024-01-03")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: when(HISTORY, 0), "items"),
        (lambda: how_many(HISTORY, 0), "horizon of no days"),
        (lambda: how_many(HISTORY, -3), "days"),
        (lambda: how_many(HISTORY, 5, trials=0), "trials"),
        (lambda: when(HISTORY, 5, trials=-1), "trials"),
        (lambda: when(HISTORY, 5, seed=-1), "seed"),
        (lambda: history_window({"2024-01-01": 1}, date(2024, 2, 1), 0), "history_days"),
        (lambda: history_window({}), "no throughput history"),
        (lambda: how_many([0] * 84, 5, start=date(2024, 1, 1)), "days of history"),
        (lambda: how_many([], 5), "history_days"),
        (lambda: how_many([1, -1], 5), "daily_throughput"),
        (lambda: when([0] * 83 + [1], 1000, max_days=365), "not done within 365 days"),
    ],
)
def test_bad_input_names_the_field(call, field: str) -> None:
    """``field``: the field the error names (``InputError.field``), or words of its message."""
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.field == field or field in str(caught.value)


def test_no_throughput_message() -> None:
    with pytest.raises(InputError) as caught:
        how_many([0] * 84, 5, start=date(2024, 1, 1))
    # Each shell names the option its own way: a page in words, the CLI as its flag.
    assert str(caught.value) == (
        "no throughput history in the 84 days before 2024-01-01; widen the days of history"
    )
    assert caught.value.shown("cli").endswith("widen the --history-days")
    assert caught.value.shown("api").endswith("widen the history_days")


# -- CLI ---------------------------------------------------------------------------------------

WORKFLOW = """backlog = ["To Do"]
active = ["In Progress"]
waiting = []
done = ["Done"]
"""


def csv_text() -> str:
    """Twelve items: from 2024-03-01, one or two finish every other day."""
    rows = ["item_id,state,timestamp"]
    day = date(2024, 3, 1)
    for n in range(12):
        finish = day + timedelta(days=2 * (n // 2))
        rows.append(f"I{n},In Progress,{(finish - timedelta(days=1)).isoformat()}T09:00:00Z")
        rows.append(f"I{n},Done,{finish.isoformat()}T15:00:00Z")
    return "\n".join(rows) + "\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "items.csv"
    data.write_text(csv_text())
    workflow = tmp_path / "workflow.toml"
    workflow.write_text(WORKFLOW)
    return data, workflow


def forecast(*args: str) -> dict:
    result = runner.invoke(app, ["forecast", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


COMMON = {"percentiles", "trials", "history_days", "history", "start", "seed", "histogram"}


def test_cli_how_many_and_when_on_a_file(files) -> None:
    data, workflow = files
    doc = forecast("how-many", str(data), "--workflow", str(workflow), "--days", "14")
    assert set(doc) == COMMON | {"days", "end"}
    assert list(doc["percentiles"]) == ["50", "70", "85", "95"]
    # Last finish 2024-03-11: the start is 03-12. The default window (84 days) would reach
    # back before the first finish, 03-01, so it starts there: 03-01 .. 03-11, 11 days.
    assert (doc["start"], doc["history_days"], doc["trials"]) == ("2024-03-12", 11, 10_000)
    window = [2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2]  # two finishes on each odd day of March
    expected = how_many(window, 14, start=date(2024, 3, 12)).to_dict()
    history = {"start": "2024-03-01", "end": "2024-03-11", "days": 11, "finished": 12,
               "starts_at": "first_finish"}  # fmt: skip
    assert doc == {**expected, "history": history}

    doc = forecast(
        "when", str(data), "-w", str(workflow), "--items", "5", "--history-days", "10",
        "--trials", "2000", "--seed", "9", "--start", "2024-03-12",
    )  # fmt: skip
    assert set(doc) == COMMON | {"items", "dates"}
    # Ten days, five of them with two finishes: sampled like a fair coin of 0 or 2 a day.
    assert (doc["history_days"], doc["trials"], doc["seed"]) == (10, 2000, 9)
    assert doc["history"] == {
        "start": "2024-03-02", "end": "2024-03-11", "days": 10, "finished": 10,
        "starts_at": "given",
    }  # fmt: skip
    assert doc["percentiles"]["50"] <= doc["percentiles"]["95"]
    assert (
        doc["dates"]["50"]
        == (date(2024, 3, 11) + timedelta(days=doc["percentiles"]["50"])).isoformat()
    )


def test_cli_table_output(files) -> None:
    data, workflow = files
    result = runner.invoke(
        app, ["forecast", "how-many", str(data), "-w", str(workflow), "--days", "7"]
    )
    assert result.exit_code == 0, result.output
    assert "85 %" in result.stdout and "2024-03-12" in result.stdout
    result = runner.invoke(
        app, ["forecast", "when", str(data), "-w", str(workflow), "--items", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "Done by" in result.stdout


def test_cli_bad_input(files) -> None:
    data, workflow = files
    result = runner.invoke(app, ["forecast", "how-many", str(data), "-w", str(workflow)])
    assert result.exit_code == 1
    assert "--days is 0: a horizon of no days" in " ".join(result.stderr.split())
    result = runner.invoke(
        app,
        ["forecast", "how-many", str(data), "-w", str(workflow), "--days", "5",
         "--start", "2025-01-01"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "widen the --history-days" in result.stderr
    result = runner.invoke(app, ["forecast", "when", "--items", "3"])
    assert result.exit_code == 2


def test_cli_on_a_stored_stream(files, obeya_home: Path) -> None:
    data, workflow = files
    result = runner.invoke(app, ["import", str(data), "--stream", "team", "-w", str(workflow)])
    assert result.exit_code == 0, result.output
    stored = forecast("how-many", "--stream", "team", "--days", "14")
    direct = forecast("how-many", str(data), "-w", str(workflow), "--days", "14")
    assert stored == direct
    doc = forecast("when", "--stream", "team", "--items", "4")
    assert doc["start"] == "2024-03-12"
    assert set(doc["percentiles"]) == {"50", "70", "85", "95"}
    result = runner.invoke(app, ["forecast", "when", "--stream", "nope", "--items", "4"])
    assert result.exit_code == 1
