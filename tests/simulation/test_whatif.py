"""What-if: future states made by changes, compared with paired replications, against
queueing theory; `obeya what-if` end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.simulation import Distribution, Scenario, ScenarioError, SimStep, scenario_toml
from obeya.core.simulation.whatif import Change, apply_changes, parse_change, what_if

pytestmark = pytest.mark.slow  # many replications (`make test`, not `make check`)

# λ = 4/day on one server of mean 0.2 day: M/M/1 with ρ = 0.8, W = 1/(μ − λ) = 1 day.
MM1 = Scenario(
    name="current",
    arrival_rate_per_day=4.0,
    days=2500,
    warmup_days=200,
    replications=5,
    seed=11,
    step=(SimStep("Build", Distribution("exponential", 0.2)),),
)


def erlang_c_time(rate: float, mean: float, servers: int) -> float:
    """Mean time in an M/M/c system: the Erlang C wait plus the service."""
    a, mu = rate * mean, 1 / mean
    top = a**servers / math.factorial(servers) / (1 - a / servers)
    wait_probability = top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)
    return wait_probability / (servers * mu - rate) + mean


def test_changes_parse_and_refuse_what_cannot_change() -> None:
    assert parse_change("Build.servers=2") == Change("servers", 2.0, "Build")
    assert parse_change(" Code review.availability = 0.5") == Change(
        "availability", 0.5, "Code review"
    )
    assert parse_change("arrival_rate_per_day=5") == Change("arrival_rate_per_day", 5.0)
    with pytest.raises(ScenarioError, match=r"STEP\.FIELD=VALUE"):
        parse_change("Build.servers")
    with pytest.raises(ScenarioError, match="'colour' cannot be changed; use servers"):
        parse_change("Build.colour=3")
    with pytest.raises(ScenarioError, match=r"servers needs a whole number, not '1\.5'"):
        parse_change("Build.servers=1.5")


def test_apply_names_the_step_and_the_field() -> None:
    two = apply_changes(MM1, [Change("servers", 2, "Build")], "two")
    assert (two.name, two.steps[0].servers, type(two.steps[0].servers)) == ("two", 2, int)
    assert MM1.steps[0].servers == 1  # the baseline is untouched
    with pytest.raises(ScenarioError, match="no step 'Test'; the steps are Build"):
        apply_changes(MM1, [Change("servers", 2, "Test")], "x")
    with pytest.raises(
        ScenarioError, match=r"what-if 'x': scenario: step\[0\] \('Build'\): availability is 2\.0;"
    ) as caught:
        apply_changes(MM1, [Change("availability", 2.0, "Build")], "x")
    assert caught.value.field == "availability"


def test_a_second_server_matches_erlang_c_and_the_paired_difference() -> None:
    comparison = what_if(MM1, [("two servers", [Change("servers", 2, "Build")])])
    base, two = comparison.results
    assert base.lead_time_mean_ci95 is not None and two.lead_time_mean_ci95 is not None
    expected_base, expected_two = erlang_c_time(4, 0.2, 1), erlang_c_time(4, 0.2, 2)
    assert expected_base == pytest.approx(1.0)
    # M/M/2 in closed form: W = 1 / (μ (1 − ρ²)) with ρ = λ/(2μ) = 0.4 → 0.2 / 0.84.
    assert expected_two == pytest.approx(0.2 / 0.84)
    assert base.lead_time_mean == pytest.approx(expected_base, rel=0.1)
    assert two.lead_time_mean == pytest.approx(expected_two, rel=0.05)
    diff = comparison.differences(1)["lead_time_mean"]
    assert diff.significant and diff.ci95 is not None
    assert diff.value == pytest.approx(expected_two - expected_base, rel=0.12)
    # The arrivals are the same draws, so throughput barely moves: λ = 4 either way.
    assert comparison.differences(1)["throughput_per_day"].value == pytest.approx(0, abs=0.05)


def test_no_real_change_is_exactly_no_difference() -> None:
    # Same model, same seeds: every replication pair is identical, the difference exactly 0.
    comparison = what_if(MM1, [("same", [Change("wip_limit", 0, "Build")])])
    for diff in comparison.differences(1).values():
        assert diff.value == 0.0 and diff.ci95 == (0.0, 0.0) and not diff.significant


def test_futures_share_the_baselines_seed_and_span() -> None:
    other = Scenario(
        name="other", arrival_rate_per_day=4.0, days=100, seed=99, replications=2, step=MM1.steps
    )
    comparison = what_if(MM1, [other])
    future = comparison.results[1].scenario
    assert (future.seed, future.replications, future.days) == (11, 5, 2500)
    with pytest.raises(ScenarioError, match="names must differ"):
        what_if(MM1, [("current", [Change("servers", 2, "Build")])])
    with pytest.raises(ScenarioError, match="at least one future"):
        what_if(MM1, [])


def test_cli_table_json_and_chart(tmp_path: Path) -> None:
    base = tmp_path / "current.toml"
    base.write_text(scenario_toml(MM1), encoding="utf-8")
    runner = CliRunner()
    args = ["what-if", str(base), "--future", "Two: Build.servers=2"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["baseline"] == "current"
    assert [s["scenario"] for s in doc["scenarios"]] == ["current", "Two"]
    assert doc["scenarios"][1]["changes"] == ["Build.servers=2"]
    assert doc["scenarios"][1]["difference"]["lead_time_mean"]["significant"] is True
    assert doc["scenarios"][1]["steps"][0]["utilisation"] == pytest.approx(0.4, rel=0.05)

    chart = tmp_path / "whatif.svg"
    result = runner.invoke(app, [*args, "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "Two" in result.stdout and "against current" in result.stdout
    svg = chart.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Mean lead time (days)" in svg

    result = runner.invoke(app, ["what-if", str(base), "--future", "Two: Test.servers=2"])
    assert result.exit_code == 1
    assert "no step 'Test'" in result.stderr


def test_relative_changes_as_a_manager_asks() -> None:
    """``+1`` person, ``-1``, ``+10%`` demand: each against the baseline's own value."""
    assert parse_change("Build.servers=+1") == Change("servers", 1.0, "Build", "add")
    assert parse_change("arrivals=+10%") == Change("arrival_rate_per_day", 1.1, None, "scale")
    three = Scenario(
        name="three", arrival_rate_per_day=4.0, days=100,
        step=(SimStep("Build", Distribution("exponential", 0.2), servers=3),),
    )  # fmt: skip
    cases = {
        "Build.servers=+1": (4.0, 4, 1.0),
        "Build.servers=-1": (4.0, 2, 1.0),
        "Build.servers=+50%": (4.0, 4, 1.0),  # 4.5 people round to the nearest: 4
        "arrivals=+10%": (4.4, 3, 1.0),
        "arrival_rate_per_day=-1": (3.0, 3, 1.0),
        "Build.availability=-10%": (4.0, 3, 0.9),
    }
    for text, (rate, servers, availability) in cases.items():
        change = parse_change(text)
        assert str(change) == text.replace("arrivals", "arrival_rate_per_day")
        made = apply_changes(three, [change], text)
        assert made.arrival_rate_per_day == pytest.approx(rate), text
        assert (made.steps[0].servers, made.steps[0].availability) == (servers, availability)
    for bad in ("arrivals=-100%", "arrivals=+lots%", "Build.colour=+1"):
        with pytest.raises(ScenarioError):
            parse_change(bad)
    with pytest.raises(ScenarioError, match="must leave at least 1"):
        apply_changes(three, [parse_change("Build.servers=-3")], "none left")


def test_relative_demand_keeps_replayed_arrivals_replayed() -> None:
    """A calibrated scenario replays real arrivals: +100 % demand brings them twice as close
    together (same order, same weekly shape); −50 % spreads them out, and those pushed past
    ``days`` fall away."""
    replay = Scenario(
        name="replay", arrival_rate_per_day=None, days=10,
        arrival_times_days=(1.0, 2.0, 4.0, 6.0, 9.0),
        step=(SimStep("Build", Distribution("constant", 0.1)),),
    )  # fmt: skip
    doubled = apply_changes(replay, [parse_change("arrivals=+100%")], "x2")
    assert doubled.arrival_times_days == (0.5, 1.0, 2.0, 3.0, 4.5)
    halved = apply_changes(replay, [parse_change("arrivals=-50%")], "x0.5")
    assert halved.arrival_times_days == (2.0, 4.0, 8.0)
    # +0.5 a day on a replay of 5 arrivals in 10 days (0.5 a day) is the same as +100 %.
    added = apply_changes(replay, [parse_change("arrivals=+0.5")], "plus")
    assert added.arrival_times_days == doubled.arrival_times_days
    # An absolute rate replaces the replay with Poisson arrivals.
    poisson = apply_changes(replay, [parse_change("arrivals=3")], "rate")
    assert (poisson.arrival_rate_per_day, poisson.arrival_times_days) == (3.0, ())


def test_one_more_person_is_the_same_run_as_naming_two(tmp_path: Path) -> None:
    """Relative and absolute say the same thing on M/M/1: the same seeds give the very same
    figures; and --days/--replications override the file's for every state."""
    by_name = what_if(MM1, [("two", [parse_change("Build.servers=2")])])
    relative = what_if(MM1, [("two", [parse_change("Build.servers=+1")])])
    assert by_name.results[1].to_dict() == relative.results[1].to_dict()

    base = tmp_path / "current.toml"
    base.write_text(scenario_toml(MM1), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["what-if", str(base), "--future", "More: Build.servers=+1", "--future",
         "Busier: arrivals=+10%", "--days", "400", "--replications", "2", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["changes"] for s in doc["scenarios"][1:]] == [
        ["Build.servers=+1"],
        ["arrival_rate_per_day=+10%"],
    ]
    for state in doc["scenarios"]:
        assert (state["days"], state["replications"]) == (400, 2), state["scenario"]
    busier = doc["scenarios"][2]
    assert busier["steps"][0]["utilisation"] == pytest.approx(0.88, rel=0.1)  # 4.4 × 0.2
