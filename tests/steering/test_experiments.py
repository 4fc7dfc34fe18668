"""Experiments (docs/steering.md): power and A/A behaviour of the verdict on synthetic cycle
times, the figures on the real BPIC 2013 log against an independent pandas + scipy computation,
the bootstrap interval by a second method, windows by hand, and the direction of each metric."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu, norm
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.steering import experiments as ex
from obeya.core.steering.experiments import Window, evaluate, parse_window, run_experiment
from obeya.core.workflow import Workflow
from obeya.errors import InputError
from obeya.ingest import ColumnMap
from obeya.workspace import analyse_file

from support import DATASETS, SAMPLES

runner = CliRunner()

BPIC = DATASETS / "bpic2013_incidents_transitions.csv.gz"
BPIC_WORKFLOW = SAMPLES / "bpic2013_workflow.toml"
BPIC_COLUMNS = ["--item-column", "case_id", "--state-column", "status"]

# -- (a) power and A/A on synthetic cycle times -------------------------------------------------

RUNS = 400
N = 60
SHIFT = 0.8  # the trial median 20 % lower


def _rates(draw, n: int = N, runs: int = RUNS, shift: float = SHIFT) -> tuple[float, float]:
    """Share of seeded runs judged "improved" with the trial scaled by ``shift``, and share
    judged "no change" in an A/A comparison (both windows from the same distribution).

    One bootstrap resample per evaluation: only the p-value and the effect's sign decide the
    verdict (``test_verdict_does_not_depend_on_the_bootstrap``), so the interval is not needed.
    """
    improved = unchanged = 0
    for run in range(runs):
        rng = np.random.default_rng([run, n])
        baseline = draw(rng, n)
        trial = draw(rng, n) * shift
        control = draw(rng, n)
        improved += evaluate(baseline, trial, resamples=1).verdict == "improved"
        unchanged += evaluate(baseline, control, resamples=1).verdict == "no change"
    return improved / runs, unchanged / runs


def _lognormal(sigma: float):
    return lambda rng, n: rng.lognormal(math.log(8.0), sigma, n)


def _noether_power(sigma: float, n: int = N, shift: float = SHIFT, alpha: float = 0.05) -> float:
    """Mann–Whitney power by Noether's normal approximation, for a shift of the log median
    (the test is rank-based, so lognormal data behave as the normal data of their logs)."""
    p_less = norm.cdf(-math.log(shift) / (sigma * math.sqrt(2)))  # P(trial < baseline)
    z = math.sqrt(12 * n * n / (2 * n + 1)) * abs(p_less - 0.5)
    return float(norm.cdf(z - norm.ppf(1 - alpha / 2)))


def test_verdict_does_not_depend_on_the_bootstrap() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        baseline, trial = rng.lognormal(2, 0.5, 60), rng.lognormal(1.8, 0.5, 60)
        full = evaluate(baseline, trial, resamples=2_000)
        quick = evaluate(baseline, trial, resamples=1)
        assert (quick.verdict, quick.p_value, quick.effect) == (
            full.verdict,
            full.p_value,
            full.effect,
        )


@pytest.mark.parametrize(
    "sigma",
    [
        0.20,  # the log-cycle-time spread of the real Helpdesk log (a regular service process)
        0.40,  # about the widest spread at which 60 items a window reach 80 % power
    ],
)
def test_a_20_percent_shift_is_detected_in_80_percent_of_runs(sigma: float) -> None:
    power, aa = _rates(_lognormal(sigma))
    assert power >= 0.80
    assert aa >= 0.90


@pytest.mark.parametrize("sigma", [0.40, 0.80, 1.23])
def test_power_is_what_mann_whitney_theory_predicts(sigma: float) -> None:
    """At the spread of real software cycle times (σ of log cycle time 1.37 in the Jira
    dataset, 3.4 in BPIC 2013) 60 items a window detect a 20 % shift in only ~16 % of runs:
    no rank test can do better there. The verdict's power matches theory at every spread."""
    power, aa = _rates(_lognormal(sigma))
    assert power == pytest.approx(_noether_power(sigma), abs=0.06)
    assert aa >= 0.90


@pytest.fixture(scope="module")
def bpic_rows() -> list[dict]:
    report = analyse_file(
        BPIC,
        Workflow.from_toml(BPIC_WORKFLOW),
        columns=ColumnMap(item_id="case_id", state="status"),
        detail=True,
    )
    return report.scatter


@pytest.mark.slow  # the whole BPIC log, resampled (~5 s)
def test_power_on_resampled_real_cycle_times(bpic_rows) -> None:
    """Windows drawn from BPIC 2013's own cycle times — minutes for the quarter of incidents
    solved during the call, weeks for others (σ of log cycle time 3.4) —: a 20 % shift is
    found in about a fifth of the runs with 60 items a window, two thirds with 200, and
    nine in ten with 600. A manager reading "no change" on 60 items has learnt little."""
    real = np.array([r["cycle_time_days"] for r in bpic_rows])

    def draw(rng, n):
        return rng.choice(real, n)

    power_60, aa_60 = _rates(draw, runs=200)
    power_200, aa_200 = _rates(draw, n=200, runs=200)
    power_600, aa_600 = _rates(draw, n=600, runs=200)
    assert 0.10 <= power_60 < 0.40
    assert 0.45 <= power_200 < 0.85
    assert power_600 >= 0.90
    assert min(aa_60, aa_200, aa_600) >= 0.90


# -- (b) the real log against pandas + scipy ----------------------------------------------------


@pytest.fixture(scope="module")
def independent() -> pd.DataFrame:
    """Per-item finish date, cycle time (days) and flow efficiency of BPIC 2013, computed item
    by item from the raw CSV following docs/conventions.md, without Obeya."""
    workflow = Workflow.from_toml(BPIC_WORKFLOW)
    started = set(workflow.active) | set(workflow.waiting) | set(workflow.done)
    events = pd.read_csv(BPIC, usecols=["case_id", "status", "timestamp"])
    events["t"] = pd.to_datetime(events["timestamp"], utc=True)
    events = events.sort_values(["case_id", "t"], kind="stable")  # ties keep file order
    rows = []
    for item, group in events.groupby("case_id", sort=False):
        states, times = list(group["status"]), list(group["t"])
        if states[-1] not in workflow.done:
            continue  # in progress (or reopened)
        start = next(t for s, t in zip(states, times, strict=True) if s in started)
        finish = times[-1]
        active = sum(
            (times[i + 1] - times[i]).total_seconds()
            for i in range(len(states) - 1)
            if states[i] in workflow.active and times[i] >= start
        )
        cycle = (finish - start).total_seconds()
        rows.append(
            {
                "item": item,
                "finished": finish.date(),
                "cycle_time": cycle / 86_400,
                "flow_efficiency": active / cycle if cycle > 0 else None,
            }
        )
    return pd.DataFrame(rows)


def _in(frame: pd.DataFrame, window: str, column: str) -> np.ndarray:
    start, end = (date.fromisoformat(d) for d in window.split(".."))
    chosen = frame[(frame["finished"] >= start) & (frame["finished"] <= end)][column]
    return chosen.dropna().to_numpy(dtype=float)


REAL_WINDOWS = [
    ("2012-05-09..2012-05-09", "2012-05-10..2012-05-10"),  # p ≈ 0.14: no change
    ("2012-05-02..2012-05-04", "2012-05-08..2012-05-10"),  # the bulk closing: worse
]


@pytest.mark.slow  # the whole BPIC log (~5 s each)
@pytest.mark.parametrize(("baseline", "trial"), REAL_WINDOWS)
def test_real_log_figures_equal_scipy(independent, baseline: str, trial: str) -> None:
    base, test = _in(independent, baseline, "cycle_time"), _in(independent, trial, "cycle_time")
    expected_p = mannwhitneyu(test, base, alternative="two-sided").pvalue
    args = ["--baseline", baseline, "--trial", trial, "--guard", "flow_efficiency", "--json"]
    result = runner.invoke(
        app,
        ["experiment", "evaluate", str(BPIC), "-w", str(BPIC_WORKFLOW), *BPIC_COLUMNS, *args],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)

    assert doc["baseline"]["items"] == len(base) > 200
    assert doc["trial"]["items"] == len(test) > 200
    assert doc["baseline"]["median"] == pytest.approx(np.median(base), rel=1e-12)
    assert doc["trial"]["median"] == pytest.approx(np.median(test), rel=1e-12)
    assert doc["effect"] == pytest.approx(np.median(test) / np.median(base) - 1, rel=1e-9)
    assert doc["p_value"] == pytest.approx(expected_p, rel=1e-9, abs=1e-12)
    better = doc["effect"] < 0
    expected = "no change" if expected_p >= 0.05 else ("improved" if better else "worse")
    assert doc["verdict"] == expected
    low, high = doc["ci95"]
    assert low <= doc["effect"] <= high

    base_fe = _in(independent, baseline, "flow_efficiency")
    test_fe = _in(independent, trial, "flow_efficiency")
    guard = doc["guard"]
    assert guard["metric"] == "flow_efficiency"
    assert guard["baseline_median"] == pytest.approx(np.median(base_fe), rel=1e-9)
    assert guard["trial_median"] == pytest.approx(np.median(test_fe), rel=1e-9)
    guard_p = mannwhitneyu(test_fe, base_fe, alternative="two-sided").pvalue
    assert guard["p_value"] == pytest.approx(guard_p, rel=1e-9, abs=1e-12)
    # Lower flow efficiency is worse.
    assert guard["worsened"] == (guard_p < 0.05 and guard["effect"] < 0)
    assert doc["guard_ok"] == (not guard["worsened"])


def test_real_log_same_seed_same_interval(bpic_rows) -> None:
    windows = (
        parse_window(REAL_WINDOWS[0][0], "--baseline"),
        parse_window(REAL_WINDOWS[0][1], "--trial"),
    )
    first = run_experiment(bpic_rows, *windows, resamples=500, seed=3).to_dict()
    again = run_experiment(bpic_rows, *windows, resamples=500, seed=3).to_dict()
    other = run_experiment(bpic_rows, *windows, resamples=500, seed=4).to_dict()
    assert first == again
    assert first["ci95"] != other["ci95"]
    assert first["p_value"] == other["p_value"]


# -- (c) the bootstrap interval by a second method ----------------------------------------------


def test_bootstrap_equals_a_plain_loop_with_the_same_draws(monkeypatch) -> None:
    rng = np.random.default_rng(11)
    baseline, trial = rng.lognormal(2, 1, 61), rng.lognormal(1.8, 1, 47)
    monkeypatch.setattr(ex, "_CHUNK_CELLS", 500)  # several chunks: same draws as one array
    vectorised = ex.bootstrap_effects(baseline, trial, resamples=300, seed=7)
    base_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(7).spawn(2))
    loop = []
    for _ in range(300):
        b = [baseline[base_rng.integers(0, len(baseline))] for _ in range(len(baseline))]
        t = [trial[test_rng.integers(0, len(trial))] for _ in range(len(trial))]
        loop.append(np.median(t) / np.median(b) - 1)
    np.testing.assert_allclose(vectorised, loop, rtol=1e-15)
    low, high = np.percentile(loop, [2.5, 97.5])
    assert ex.bootstrap_ci(baseline, trial, resamples=300, seed=7) == (low, high)


def test_bootstrap_interval_covers_the_true_effect() -> None:
    """Lognormal windows whose true medians differ by exactly −20 %: the interval holds
    −0.2 in about 95 % of seeded runs."""
    covered = 0
    runs = 200
    for run in range(runs):
        rng = np.random.default_rng([run, 99])
        baseline = rng.lognormal(math.log(8.0), 0.5, 60)
        trial = rng.lognormal(math.log(6.4), 0.5, 60)
        low, high = evaluate(baseline, trial, resamples=1_000, seed=run).ci95
        covered += low <= -0.2 <= high
    assert 0.90 <= covered / runs <= 1.0


# -- (d) windows by hand on a tiny log ----------------------------------------------------------

WORKFLOW = """backlog = ["To Do"]
active = ["In Progress"]
waiting = ["Blocked"]
done = ["Done"]
"""

# Cycle times: A 1 d, B 2 d, C 3 d finish in the baseline 2024-01-01..2024-01-07 (C at the
# window's last second); D 0.5 d, E 1 d, F 0.25 d in the trial 2024-01-08..2024-01-14 (D at
# midnight opening the trial, F on its last day); G finishes after both; H is reopened.
TINY = """item_id,state,timestamp
A,In Progress,2024-01-01T10:00:00Z
A,Done,2024-01-02T10:00:00Z
B,To Do,2023-12-20T10:00:00Z
B,In Progress,2024-01-02T10:00:00Z
B,Done,2024-01-04T10:00:00Z
C,In Progress,2024-01-04T23:59:59Z
C,Done,2024-01-07T23:59:59Z
D,In Progress,2024-01-07T12:00:00Z
D,Done,2024-01-08T00:00:00Z
E,In Progress,2024-01-09T09:00:00Z
E,Blocked,2024-01-09T21:00:00Z
E,Done,2024-01-10T09:00:00Z
F,In Progress,2024-01-14T12:00:00Z
F,Done,2024-01-14T18:00:00Z
G,In Progress,2024-01-14T12:00:00Z
G,Done,2024-01-15T00:00:00Z
H,In Progress,2024-01-02T10:00:00Z
H,Done,2024-01-03T10:00:00Z
H,In Progress,2024-01-05T10:00:00Z
"""


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "items.csv"
    data.write_text(TINY)
    workflow = tmp_path / "workflow.toml"
    workflow.write_text(WORKFLOW)
    return data, workflow


def _evaluate(files: tuple[Path, Path], *args: str):
    data, workflow = files
    return runner.invoke(app, ["experiment", "evaluate", str(data), "-w", str(workflow), *args])


def test_items_belong_to_the_window_they_finished_in(tiny) -> None:
    result = _evaluate(
        tiny, "--baseline", "2024-01-01..2024-01-07", "--trial", "2024-01-08..2024-01-14", "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["baseline"]["items"] == 3  # A, B, C (C on the end date); H reopened
    assert doc["trial"]["items"] == 3  # D (on the start date), E, F; not G
    assert doc["baseline"]["median"] == pytest.approx(2.0)
    assert doc["trial"]["median"] == pytest.approx(0.5)
    assert doc["effect"] == pytest.approx(0.5 / 2.0 - 1)
    expected_p = mannwhitneyu([0.5, 1.0, 0.25], [1.0, 2.0, 3.0], alternative="two-sided").pvalue
    assert doc["p_value"] == pytest.approx(expected_p, abs=1e-12)
    assert doc["verdict"] == "no change"  # three items a window cannot reach p < 0.05
    assert doc["baseline"]["start"] == "2024-01-01"
    assert doc["trial"]["end"] == "2024-01-14"


def test_text_output(tiny) -> None:
    result = _evaluate(
        tiny,
        "--baseline",
        "2024-01-01..2024-01-07",
        "--trial",
        "2024-01-08..2024-01-14",
        "--guard",
        "lead_time",
    )
    assert result.exit_code == 0, result.output
    for text in ("baseline", "trial", "-75 %", "Mann–Whitney", "no change", "Guard lead_time"):
        assert text in result.stdout


@pytest.mark.parametrize(
    ("baseline", "trial", "message"),
    [
        (
            "2024-01-01..2024-01-08",
            "2024-01-08..2024-01-14",
            "--trial: 2024-01-08..2024-01-14 overlaps --baseline",
        ),
        (
            "2024-01-01..2024-01-07",
            "2024-02-01..2024-02-07",
            "--trial: no finished item in 2024-02-01..2024-02-07",
        ),
        (
            "2023-12-01..2023-12-31",
            "2024-01-08..2024-01-14",
            "--baseline: no finished item in 2023-12-01..2023-12-31",
        ),
        (
            "2024-01-07..2024-01-01",
            "2024-01-08..2024-01-14",
            "--baseline: the end 2024-01-01 is before the start",
        ),
        ("2024-01-01", "2024-01-08..2024-01-14", "--baseline: '2024-01-01' is not a window"),
        (
            "2024-01-01..2024-01-07",
            "2024-01-08..2024-13-01",
            "--trial: '2024-01-08..2024-13-01' is not a window",
        ),
    ],
)
def test_bad_windows_are_refused_naming_the_field(tiny, baseline, trial, message) -> None:
    result = _evaluate(tiny, "--baseline", baseline, "--trial", trial)
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())


def test_unknown_metric_names_the_option(tiny) -> None:
    windows = ["--baseline", "2024-01-01..2024-01-07", "--trial", "2024-01-08..2024-01-14"]
    result = _evaluate(tiny, *windows, "--guard", "happiness")
    assert result.exit_code == 1
    assert "--guard: unknown metric 'happiness'" in result.stderr


def test_a_zero_baseline_median_is_refused() -> None:
    rows = [
        {"finished": "2024-01-01", "cycle_time_days": 0.0},
        {"finished": "2024-01-02", "cycle_time_days": 1.0},
    ]
    with pytest.raises(InputError, match="--baseline: the median cycle_time is 0"):
        run_experiment(
            rows,
            Window(date(2024, 1, 1), date(2024, 1, 1), "--baseline"),
            Window(date(2024, 1, 2), date(2024, 1, 2), "--trial"),
        )


# -- (e) direction of each metric ---------------------------------------------------------------


def test_flow_efficiency_higher_is_better() -> None:
    rng = np.random.default_rng(2)
    low, high = rng.uniform(0.1, 0.3, 60), rng.uniform(0.3, 0.5, 60)
    assert evaluate(low, high, lower_is_better=False).verdict == "improved"
    assert evaluate(high, low, lower_is_better=False).verdict == "worse"
    assert evaluate(low, high, lower_is_better=True).verdict == "worse"
    assert evaluate(high, low, lower_is_better=True).verdict == "improved"


def test_metrics_carry_their_direction() -> None:
    rows = [
        {"finished": "2024-01-01", "flow_efficiency": v, "cycle_time_days": 1 / v}
        for v in np.linspace(0.1, 0.3, 30)
    ]
    rows += [
        {"finished": "2024-01-09", "flow_efficiency": v, "cycle_time_days": 1 / v}
        for v in np.linspace(0.3, 0.5, 30)
    ]
    windows = (
        Window(date(2024, 1, 1), date(2024, 1, 7), "--baseline"),
        Window(date(2024, 1, 8), date(2024, 1, 14), "--trial"),
    )
    result = run_experiment(
        rows, *windows, target="flow_efficiency", guard="cycle_time", resamples=200
    )
    doc = result.to_dict()
    assert doc["verdict"] == "improved"
    assert doc["lower_is_better"] is False
    assert doc["guard"]["worsened"] is False  # cycle time fell too
    assert doc["guard_ok"] is True
    worse = run_experiment(
        rows, windows[1], windows[0], target="cycle_time", guard="flow_efficiency", resamples=200
    )
    assert worse.verdict == "worse"
    assert worse.guard_ok is False


# -- (f) quality beside the target ----------------------------------------------------------------


def _fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact test by hand: the hypergeometric probabilities of every table with the
    same margins that are no more likely than the one seen, summed."""
    from math import comb

    row1, col1, n = a + b, a + c, a + b + c + d

    def p(x: int) -> float:
        return comb(col1, x) * comb(n - col1, row1 - x) / comb(n, row1)

    seen = p(a)
    lo, hi = max(0, row1 - (n - col1)), min(row1, col1)
    return sum(p(x) for x in range(lo, hi + 1) if p(x) <= seen * (1 + 1e-7))


def test_a_flow_gain_that_raises_the_reopen_rate_is_flagged() -> None:
    # Baseline: 40 items of 10 days, 2 reopened (5 %); trial: 40 items of 5 days, 14 reopened
    # (35 %). Cycle time improved; the reopen rate rose.
    rows = [
        {"finished": "2024-01-03", "cycle_time_days": 10.0 + k / 100, "reopened": k < 2}
        for k in range(40)
    ] + [
        {"finished": "2024-01-10", "cycle_time_days": 5.0 + k / 100, "reopened": k < 14}
        for k in range(40)
    ]
    windows = (
        Window(date(2024, 1, 1), date(2024, 1, 7), "--baseline"),
        Window(date(2024, 1, 8), date(2024, 1, 14), "--trial"),
    )
    result = run_experiment(rows, *windows, change_failures=((1, 20), (2, 20)), resamples=200)
    assert result.verdict == "improved"
    reopen, failures = result.quality
    assert (reopen.baseline, reopen.trial) == ((2, 40), (14, 40))
    assert reopen.p_value == pytest.approx(_fisher_two_sided(2, 38, 14, 26), rel=1e-9)
    assert reopen.rose
    # 1 of 20 deployments failed, then 2 of 20: Fisher p = 1, nothing to flag.
    assert failures.p_value == pytest.approx(_fisher_two_sided(1, 19, 2, 18), rel=1e-9)
    assert not failures.rose
    doc = result.to_dict()
    assert [q["metric"] for q in doc["quality"]] == ["reopen_rate", "change_failure_rate"]
    [flag] = doc["quality_flags"]
    assert "reopen rate rose from 5.0% to 35.0%" in flag


def test_no_reopen_rate_without_a_workflow_to_tell() -> None:
    rows = [
        {"finished": "2024-01-03", "cycle_time_days": 1.0 + k, "reopened": None} for k in range(5)
    ]
    rows += [
        {"finished": "2024-01-10", "cycle_time_days": 2.0 + k, "reopened": None} for k in range(5)
    ]
    windows = (
        Window(date(2024, 1, 1), date(2024, 1, 7), "--baseline"),
        Window(date(2024, 1, 8), date(2024, 1, 14), "--trial"),
    )
    result = run_experiment(rows, *windows, resamples=100)
    assert result.quality == () and result.to_dict()["quality_flags"] == []
