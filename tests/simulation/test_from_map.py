"""A map becomes a scenario whose simulated utilisation is the map's own
(demand × PT ÷ capacity)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from obeya.cli.maps import maps_app
from obeya.core.maps.calculations import calculate
from obeya.core.maps.model import MapError, Step, ValueStreamMap
from obeya.core.simulation import simulate
from obeya.core.simulation.from_map import scenario_from_map
from obeya.core.simulation.scenario import ScenarioError, load_scenario, scenario_toml

# Demand 3/day, 8 h a day. Build: PT 2 h, 1 person -> 2/8 = 0.25 day an item; utilisation
# 3 × 2 / 8 = 0.75. Check: PT 1 h, 2 people at 50 % availability -> 1/8 = 0.125 day of work an
# item, stretched to 0.25 by the availability, on each of 2 servers; utilisation
# 3 × 1 / (2 × 0.5 × 8) = 0.375.
LINE = ValueStreamMap(
    "Line",
    (
        Step("Build", process_time_hours=2, lead_time_hours=4),
        Step("Check", process_time_hours=1, lead_time_hours=2, people=2, availability=0.5),
    ),
    demand_per_day=3,
)


def test_conversion_by_hand() -> None:
    sc = scenario_from_map(LINE)
    assert sc.arrival_rate_per_day == 3
    build, check = sc.steps
    assert (build.servers, build.process_time.mean) == (1, pytest.approx(0.25))
    assert (check.servers, check.process_time.mean) == (2, pytest.approx(0.125))
    assert (build.availability, check.availability) == (1.0, 0.5)
    assert build.process_time.kind == "exponential"


def test_a_process_time_holding_its_rework_is_simulated_per_pass() -> None:
    """Build's 2 h at %C&A 0.8, drawn with every pass in it (a map of the twin): the
    simulation repeats a pass with probability 0.2, so a pass is 2 × 0.8 = 1.6 h (0.2 of an
    8-hour day), and its passes add back up to the map's 2 h."""
    build = Step("Build", 2.0, 2.0, complete_accurate=0.8)
    vsm = ValueStreamMap(
        name="Twin-drawn", steps=(build,), demand_per_day=1, process_time_includes_rework=True
    )
    (step,) = scenario_from_map(vsm).steps
    assert step.process_time.mean == pytest.approx(1.6 / 8)
    assert step.process_time.mean * 8 / step.complete_accurate == pytest.approx(2.0)
    (one_pass,) = scenario_from_map(replace(vsm, process_time_includes_rework=False)).steps
    assert one_pass.process_time.mean == pytest.approx(2.0 / 8)


def test_simulated_utilisation_is_the_maps() -> None:
    expected = {s.name: s.utilisation for s in calculate(LINE).steps}
    assert expected == {"Build": pytest.approx(0.75), "Check": pytest.approx(0.375)}
    result = simulate(scenario_from_map(LINE, days=1500, warmup_days=100, replications=4))
    for step in result.to_dict()["steps"]:
        assert step["utilisation"] == pytest.approx(expected[step["name"]], rel=0.06)


def test_a_map_without_demand_cannot_be_simulated() -> None:
    no_demand = ValueStreamMap("Line", LINE.steps)
    with pytest.raises(ScenarioError, match="demand_per_day"):
        scenario_from_map(no_demand)
    with pytest.raises(ScenarioError, match="distribution"):
        scenario_from_map(LINE, distribution="weibull")
    with pytest.raises(MapError):
        ValueStreamMap("Bad", (), demand_per_day=1)


def test_cli_writes_a_scenario_that_simulate_reads(tmp_path: Path) -> None:
    from obeya.core.maps.files import dump_map_toml

    path = tmp_path / "line.toml"
    path.write_text(dump_map_toml(LINE), encoding="utf-8")
    root = typer.Typer()
    root.add_typer(maps_app, name="map")
    out = tmp_path / "line-scenario.toml"
    result = CliRunner().invoke(root, ["map", "to-scenario", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_scenario(out) == scenario_from_map(LINE)
    assert scenario_toml(load_scenario(out)) == out.read_text(encoding="utf-8")


def test_a_step_few_items_visit_is_skipped_by_the_others_in_the_simulation() -> None:
    """Check visited by 40 % of the items: the map's utilisation is 3 × 0.4 × 1 ÷ (2 × 0.5 ×
    8) = 0.15; the scenario carries the share, and the simulated utilisation is the map's."""
    line = ValueStreamMap(
        "Line",
        (LINE.steps[0], replace(LINE.steps[1], visit_share=0.4)),
        demand_per_day=3,
    )
    expected = {s.name: s.utilisation for s in calculate(line).steps}
    assert expected == {"Build": pytest.approx(0.75), "Check": pytest.approx(0.15)}
    sc = scenario_from_map(line, days=1500, warmup_days=100, replications=4)
    assert [s.visit_share for s in sc.steps] == [1.0, 0.4]
    for step in simulate(sc).to_dict()["steps"]:
        assert step["utilisation"] == pytest.approx(expected[step["name"]], rel=0.08)
