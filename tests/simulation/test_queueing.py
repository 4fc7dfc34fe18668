"""The simulation against queueing theory (M/M/1, M/M/c with Erlang C, rework), the scenario
file's rules, and `obeya simulate` end to end."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.simulation import (
    Distribution,
    Scenario,
    ScenarioError,
    SimStep,
    SimulationResult,
    load_scenario,
    scenario_from_dict,
    simulate,
)

pytestmark = pytest.mark.slow  # many replications (`make test`, not `make check`)

# The minimal scenario of issue 4, exactly as written there.
MINIMAL = """\
arrival_rate_per_day = 4.0
days = 2000          # simulated span; items that arrive earlier than a warm-up are ignored
warmup_days = 200
replications = 5
seed = 1

[[step]]
name = "Build"
servers = 1
process_time_days = { distribution = "exponential", mean = 0.2 }
complete_accurate = 1.0   # share of items that pass without rework; the rest repeat this step
wip_limit = 0             # 0 = no limit
"""


def near(value: float, expected: float, ci: tuple[float, float] | None, rel: float = 0.1) -> bool:
    """Inside the simulation's 95 % CI, or within ``rel`` when the CI is too narrow."""
    inside = ci is not None and ci[0] <= expected <= ci[1]
    return inside or abs(value - expected) <= rel * expected


def one_step(
    rate: float, mean: float, servers: int = 1, ca: float = 1.0, wip: int = 0, days: float = 2000
) -> Scenario:
    return Scenario(
        arrival_rate_per_day=rate,
        days=days,
        warmup_days=days / 10,
        replications=5,
        seed=7,
        step=(
            SimStep(
                "Work",
                Distribution("exponential", mean),
                servers,
                complete_accurate=ca,
                wip_limit=wip,
            ),
        ),
    )


def erlang_c(arrival: float, service_rate: float, c: int) -> float:
    """Probability that an arrival waits in an M/M/c queue."""
    a = arrival / service_rate
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.fixture(scope="module")
def mm1(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    path = tmp_path_factory.mktemp("sim") / "minimal.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    return simulate(load_scenario(path))


def test_minimal_scenario_parses_as_written(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    sc = load_scenario(path)
    assert sc.arrival_rate_per_day == 4.0 and sc.days == 2000 and sc.warmup_days == 200
    assert sc.replications == 5 and sc.seed == 1
    assert sc.steps == (SimStep("Build", Distribution("exponential", 0.2), 1, 1.0, 0),)


def test_mm1_reproduces_time_in_system_and_utilisation(mm1: SimulationResult) -> None:
    # λ = 4/day, μ = 5/day: ρ = 0.8, W = 1/(μ − λ) = 1 day, Wq = ρ/(μ − λ) = 0.8 day.
    assert near(mm1.lead_time_mean, 1.0, mm1.lead_time_mean_ci95)
    step = mm1.steps[0]
    assert near(step.utilisation, 0.8, step.utilisation_ci95)
    assert near(step.mean_queue_days, 0.8, step.mean_queue_days_ci95, rel=0.15)
    assert near(mm1.throughput_per_day, 4.0, mm1.throughput_ci95, rel=0.05)
    # Time in an M/M/1 system is exponential with mean W: median ln 2, p85 ln(1/0.15).
    assert mm1.lead_time_p50 == pytest.approx(math.log(2), rel=0.15)
    assert mm1.lead_time_p85 == pytest.approx(math.log(1 / 0.15), rel=0.15)
    assert mm1.constraint == "Build"
    assert len(mm1.replications) == 5
    assert [r.seed for r in mm1.replications] == [1, 2, 3, 4, 5]


def test_mm2_matches_erlang_c() -> None:
    rate, mean, c = 4.0, 0.4, 2  # μ = 2.5/day per server, ρ = 0.8
    mu = 1 / mean
    wait = erlang_c(rate, mu, c) / (c * mu - rate)
    result = simulate(one_step(rate, mean, servers=c))
    assert near(result.lead_time_mean, wait + mean, result.lead_time_mean_ci95)
    assert near(result.steps[0].mean_queue_days, wait, result.steps[0].mean_queue_days_ci95, 0.15)
    assert near(result.steps[0].utilisation, 0.8, result.steps[0].utilisation_ci95)


def test_rework_multiplies_the_work_by_one_over_ca() -> None:
    rate, mean, ca = 2.0, 0.2, 0.5  # work per item 0.2 / 0.5 = 0.4 day: utilisation 0.8
    result = simulate(one_step(rate, mean, ca=ca, days=1000))
    step = result.steps[0]
    assert near(step.utilisation, rate * mean / ca, step.utilisation_ci95)
    assert near(result.throughput_per_day, rate, result.throughput_ci95, rel=0.05)


def test_wip_limit_caps_the_items_inside_a_step() -> None:
    # Two servers but room for one item: at most one server busy, so utilisation ≤ 0.5.
    capped = simulate(one_step(1.0, 0.4, servers=2, wip=1, days=400))
    assert capped.steps[0].utilisation <= 0.5
    free = simulate(one_step(1.0, 0.4, servers=2, days=400))
    assert capped.lead_time_mean > free.lead_time_mean


def test_seeded_and_reproducible() -> None:
    sc = one_step(2.0, 0.3, days=200)
    assert simulate(sc).to_dict() == simulate(sc).to_dict()
    assert simulate(replace(sc, seed=8)).to_dict() != simulate(sc).to_dict()


def test_two_steps_name_the_constraint() -> None:
    sc = Scenario(
        arrival_rate_per_day=2.0,
        days=300,
        warmup_days=30,
        replications=3,
        seed=3,
        step=(
            SimStep("Analyse", Distribution("constant", 0.2)),
            SimStep("Build", Distribution("lognormal", 0.4, sigma=0.5), wip_limit=3),
            SimStep("Test", Distribution("empirical", values=(0.1, 0.2, 0.3))),
        ),
    )
    result = simulate(sc)
    assert result.constraint == "Build"
    # Analyse is M/D/1: Pollaczek-Khinchine, Wq = ρ·s / (2(1 − ρ)) with ρ = 0.4, s = 0.2.
    analyse = result.steps[0]
    assert near(analyse.mean_queue_days, 0.4 * 0.2 / 1.2, analyse.mean_queue_days_ci95, 0.2)
    assert [round(s.utilisation, 1) for s in result.steps] == [0.4, 0.8, 0.4]
    assert result.lead_time_mean > 0.2 + 0.4 + 0.2


STEP = "step[0] ('Build'): "
TIME = f"{STEP}process_time_days: "


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("arrival_rate_per_day = 4.0", "arrival_rate_per_day = 0", "arrival_rate_per_day is 0;"),
        ("arrival_rate_per_day = 4.0", "arrival_rate_per_day = -1.5", "arrival_rate_per_day is"),
        ('"exponential"', '"weibull"', f"{TIME}distribution is 'weibull'; give one of"),
        ("mean = 0.2", "mean = 0", f"{TIME}mean is 0.0; an exponential distribution needs"),
        ("complete_accurate = 1.0", "complete_accurate = 1.5", f"{STEP}complete_accurate is 1.5"),
        ("complete_accurate = 1.0", "complete_accurate = 0", f"{STEP}complete_accurate is 0; give"),
        ("servers = 1", "servers = -1", f"{STEP}servers is -1; give a whole number ≥ 0"),
        ("days = 2000", "days = 200", "days is 200.0; it must be longer than warmup_days"),
        ("replications = 5", "replications = 0", "replications is 0; give a whole number ≥ 1"),
        ("wip_limit = 0", "wip_limit = -1", f"{STEP}wip_limit is -1"),
        ("servers = 1", 'servers = "one"', f"{STEP}servers is 'one'; give a whole number"),
        ("seed = 1", "seed = 1\nspeed = 2", "unknown field 'speed'; known fields: name,"),
    ],
)
def test_bad_input_names_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    assert old in MINIMAL
    path.write_text(MINIMAL.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert str(exc.value).startswith(f"{path}: {message}")


def test_bad_documents() -> None:
    with pytest.raises(ScenarioError, match=r"^scenario: step is missing"):
        scenario_from_dict({"arrival_rate_per_day": 1.0, "days": 10})
    with pytest.raises(
        ScenarioError, match=r"^scenario: step is empty; give at least one \[\[step"
    ):
        scenario_from_dict({"arrival_rate_per_day": 1.0, "days": 10, "step": []})
    with pytest.raises(ScenarioError, match=r"^scenario: days is missing"):
        scenario_from_dict({"arrival_rate_per_day": 1.0})
    step = {"name": "A", "process_time_days": {"distribution": "lognormal", "mean": 1.0}}
    with pytest.raises(ScenarioError, match=r"step\[0\] \('A'\): process_time_days: sigma is 0"):
        scenario_from_dict({"arrival_rate_per_day": 1.0, "days": 10, "step": [step]})
    step = {"name": "A", "process_time_days": {"distribution": "empirical"}}
    with pytest.raises(
        ScenarioError, match=r"step\[0\] \('A'\): process_time_days: values is \[\]"
    ):
        scenario_from_dict({"arrival_rate_per_day": 1.0, "days": 10, "step": [step]})
    twice = [{"name": "A", "process_time_days": {"distribution": "constant", "mean": 1}}] * 2
    with pytest.raises(ScenarioError, match=r"^scenario: step names 'A' twice") as exc:
        scenario_from_dict({"arrival_rate_per_day": 1.0, "days": 10, "step": twice})
    assert exc.value.field == "step"


runner = CliRunner()

SMALL = MINIMAL.replace("days = 2000", "days = 300").replace(
    "warmup_days = 200", "warmup_days = 30"
)


def test_cli_json(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SMALL, encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["lead_time_days"]) >= {"p50", "p85", "mean", "mean_ci95"}
    assert doc["lead_time_days"]["p50"] <= doc["lead_time_days"]["p85"]
    assert doc["throughput_per_day"] > 0
    assert len(doc["throughput_per_day_ci95"]) == 2
    (step,) = doc["steps"]
    assert step["name"] == "Build"
    assert 0 < step["utilisation"] < 1 and step["mean_queue_days"] >= 0
    assert doc["constraint"] == "Build"
    assert len(doc["per_replication"]) == 5


def test_cli_table_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SMALL, encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(path)])
    assert result.exit_code == 0, result.output
    assert "Build" in result.stdout and "constraint" in result.stdout
    path.write_text(SMALL.replace("servers = 1", "servers = -1"), encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(path)])
    assert result.exit_code == 1
    assert f"{path}: {STEP}servers is -1; give a whole number ≥ 0" in result.stderr
