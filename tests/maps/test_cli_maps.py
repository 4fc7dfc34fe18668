"""``obeya map show | compare`` end to end on map files, through a root app like main.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from obeya.cli.maps import maps_app

root = typer.Typer()
root.add_typer(maps_app, name="map")
runner = CliRunner()

# Three steps, demand 4/day, 8 h/day. By hand:
#   Build  PT 2, LT 10, %C&A 0.5, 1 person  -> capacity 8/2 = 4, utilisation 1.0
#   Check  PT 1, LT 5,  %C&A 1.0, 1 person, inventory 2 -> wait 2/4 × 24 = 12 h; util 0.5
#   Ship   PT 1, LT 1,  %C&A 1.0, 1 person  -> utilisation 0.5
# total LT = 10 + 5 + 1 + 12 = 28; PT = 4; activity 4/28; rolled %C&A 0.5; takt 2 h.
# Waste per item: waiting 8 + 4 + 0 = 12; rework 2 × (1/0.5 − 1) = 2; partially done 12.
# With --hourly-cost 10 over 30 days: rework 2 × 4 × 30 × 10 = 2,400.
BASE = """name = "Line"
demand_per_day = 4

[[step]]
name = "Build"
process_time_hours = 2
lead_time_hours = 10
complete_accurate = 0.5

[[step]]
name = "Check"
process_time_hours = 1
lead_time_hours = 5
inventory_before = 2

[[step]]
name = "Ship"
process_time_hours = 1
lead_time_hours = 1
"""


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "line.toml"
    path.write_text(BASE, encoding="utf-8")
    return path


def test_show_json(base: Path) -> None:
    result = runner.invoke(root, ["map", "show", str(base), "--json", "--hourly-cost", "10"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["name"] for s in doc["steps"]] == ["Build", "Check", "Ship"]
    assert [s["utilisation"] for s in doc["steps"]] == [1.0, 0.5, 0.5]
    totals = doc["totals"]
    assert totals["lead_time_hours"] == 28.0
    assert totals["process_time_hours"] == 4.0
    assert totals["activity_ratio"] == pytest.approx(4 / 28)
    assert totals["rolled_complete_accurate"] == 0.5
    assert totals["takt_time_hours"] == 2.0
    assert doc["constraint"]["step"] == "Build"
    waste = doc["waste"]["categories"]
    assert waste["waiting"]["hours_per_item"] == 12.0
    assert waste["rework"] == {"hours_per_item": 2.0, "money_per_period": 2400.0}
    assert waste["partially_done_work"]["hours_per_item"] == 12.0
    assert doc["waste"]["biggest"] == "waiting"  # ties with partially done: the first wins


def test_show_tables(base: Path) -> None:
    result = runner.invoke(root, ["map", "show", str(base)])
    assert result.exit_code == 0, result.output
    assert "Build: utilisation 100 %" in result.stdout
    assert "Biggest waste" in result.stdout
    # Shares as the map page shows them: activity ratio 4 / 28 = 14.3 %, rolled %C&A 50 %.
    totals = {
        " ".join(w for w in line.split() if w != "│")
        for line in result.stdout.splitlines()
        if "activity ratio" in line or "rolled %C&A" in line
    }
    assert totals == {"activity ratio 14.3 %", "rolled %C&A 50 %"}


def test_compare(base: Path, tmp_path: Path) -> None:
    # Build gets two people: capacity 8 -> utilisation 0.5 (−0.5, −50 %).
    future = tmp_path / "future.toml"
    text = BASE.replace("complete_accurate = 0.5", "complete_accurate = 0.5\npeople = 2")
    future.write_text(text.replace('name = "Line"', 'name = "Line"\nvariant = "future"'))
    result = runner.invoke(root, ["map", "compare", str(base), str(future), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    figures = {f["figure"]: f for f in doc["variants"][0]["figures"]}
    util = figures["steps.Build.utilisation"]
    assert (util["base"], util["value"], util["delta"], util["change_pct"]) == (1, 0.5, -0.5, -50)
    assert doc["variants"][0]["variant"] == "future"

    table = runner.invoke(root, ["map", "compare", str(base), str(future)])
    assert table.exit_code == 0, table.output
    # As the map page's comparison: utilisation 100 % → 50 %, -50 pp, a change of -50 %.
    row = next(line for line in table.stdout.splitlines() if "steps.Build.utilisation" in line)
    assert [w for w in row.split() if w != "│"][1:] == [
        "100",
        "%",
        "50",
        "%",
        "-50",
        "pp",
        "-50",
        "%",
    ]


def test_bad_map_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(BASE.replace("complete_accurate = 0.5", "complete_accurate = 1.4"))
    result = runner.invoke(root, ["map", "show", str(path)])
    assert result.exit_code == 1
    assert "plan.toml" in result.stderr
    assert "steps[0].complete_accurate is 1.4" in result.stderr


def test_bad_option_exits_1(base: Path) -> None:
    result = runner.invoke(root, ["map", "show", str(base), "--period-days", "0"])
    assert result.exit_code == 1
    assert "period" in result.stderr
