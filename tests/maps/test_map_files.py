"""Map files: TOML and JSON read, written and read back; bad input names the file and field."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from obeya.core.maps.files import dump_map_toml, load_map, map_from_dict, map_to_dict
from obeya.core.maps.model import InformationFlow, Link, MapError, Step, ValueStreamMap

PLAN = """name = "Plan"
demand_per_day = 4
teams = ["Dev", "Ops"]
hourly_cost = 100

[[step]]
name = "Develop"
team = "Dev"
process_time_hours = 8
lead_time_hours = 40
complete_accurate = 0.8
people = 5

[[step]]
name = "Deploy"
team = "Ops"
process_time_hours = 0.5
lead_time_hours = 4
link = "fifo"
inventory_before = 3

[[information_flow]]
source = "customer"
target = "Develop"
label = "orders"
"""


def full_map() -> ValueStreamMap:
    """Every kind of field, including text that needs escaping in TOML."""
    return ValueStreamMap(
        name='Ops "delivery"',
        steps=(
            Step("Analyse\tfirst", 1.0, 9.0, 0.8, team="Dev", inventory_before=8.5, handoffs=1),
            Step(
                "Ship",
                0.5,
                4.0,
                team="Ops",
                people=2,
                capacity_per_day=10,
                batch_size=3,
                availability=0.5,
                link=Link.SUPERMARKET,
                items=42,
                states=("Deploying", "Verifying"),
            ),
        ),
        demand_per_day=4.0,
        available_hours_per_day=7.5,
        supplier="Product",
        customer="Users",
        teams=("Dev", "Ops"),
        information_flows=(
            InformationFlow("customer", "Analyse\tfirst", "orders"),
            InformationFlow("control", "Ship", "weekly plan", electronic=False),
        ),
        hourly_cost=80.0,
        variant="future",
        notes="line one\nline two — ünïcode",
        source="hand",
        extra={"owner": "Ana", "odd key": "x"},
    )


def test_load_toml(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(PLAN, encoding="utf-8")
    vsm = load_map(path)
    assert vsm.name == "Plan"
    assert [s.name for s in vsm.steps] == ["Develop", "Deploy"]
    assert vsm.step("Develop").people == 5.0
    assert vsm.step("Deploy").link is Link.FIFO
    assert vsm.information_flows == (InformationFlow("customer", "Develop", "orders"),)


def test_toml_round_trip(tmp_path: Path) -> None:
    vsm = full_map()
    text = dump_map_toml(vsm)
    tomllib.loads(text)  # valid TOML
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    assert load_map(path) == vsm


def test_json_round_trip(tmp_path: Path) -> None:
    vsm = full_map()
    path = tmp_path / "map.json"
    path.write_text(json.dumps(map_to_dict(vsm)), encoding="utf-8")
    assert load_map(path) == vsm
    assert map_from_dict(map_to_dict(vsm)) == vsm


def test_name_defaults_to_file_stem() -> None:
    data = {"steps": [{"name": "A", "process_time_hours": 1, "lead_time_hours": 2}]}
    assert map_from_dict(data, "delivery.json").name == "delivery"


def step(**fields: object) -> dict[str, object]:
    return {"name": "A", "process_time_hours": 1, "lead_time_hours": 2, **fields}


def two_steps(second: dict[str, object], **top: object) -> dict[str, object]:
    return {"name": "Plan", "step": [step(), {**step(name="B"), **second}], **top}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "Plan", "step": []}, "field 'steps' is empty"),
        ({"name": "Plan"}, "steps is missing"),
        (two_steps({"process_time_hours": -1}), "steps[1].process_time_hours is -1.0"),
        (two_steps({"lead_time_hours": 0.5}), "steps[1].lead_time_hours (0.5) is shorter"),
        (two_steps({"complete_accurate": 1.4}), "steps[1].complete_accurate is 1.4"),
        (two_steps({"complete_accurate": 0}), "steps[1].complete_accurate is 0"),
        (two_steps({"team": "QA"}, teams=["Dev"]), "steps[1].team 'QA' is not a team"),
        (two_steps({"complete_acurate": 0.9}), "steps[1] has unknown key(s) 'complete_acurate'"),
        (two_steps({"people": "two"}), "steps[1].people is 'two'; give a number"),
        (two_steps({"batch_size": 1.5}), "steps[1].batch_size is 1.5; give a whole number"),
        (two_steps({"link": "kanban"}), "steps[1].link is 'kanban'; give one of push"),
        (two_steps({}, demand=3), "the map has unknown key(s) 'demand'"),
        (two_steps({}, demand_per_day=-2), "demand_per_day is -2.0"),
        (two_steps({}, steps=[]), "give 'step' or 'steps', not both"),
        (
            two_steps(
                {},
                information_flow=[
                    {"source": "A", "target": "B"},
                    {"source": "B", "target": "A"},
                ],
            ),
            "information_flows form a cycle (A -> B -> A)",
        ),
        (
            two_steps({}, information_flow=[{"source": "A", "target": "Z"}]),
            "information_flows[0].target 'Z'",
        ),
    ],
)
def test_bad_input_names_file_and_field(data: dict[str, object], expected: str) -> None:
    with pytest.raises(MapError) as caught:
        map_from_dict(data, "plan.toml")
    message = str(caught.value)
    assert message.startswith("plan.toml: ")
    assert expected in message


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(MapError, match=r"known keys: name, process_time_hours, lead_time_hours"):
        map_from_dict(two_steps({"cost": 1}), "plan.toml")


def test_bad_files(tmp_path: Path) -> None:
    yaml = tmp_path / "plan.yaml"
    yaml.write_text("name: x", encoding="utf-8")
    with pytest.raises(MapError, match=r"plan.yaml: a map file ends in .toml or .json"):
        load_map(yaml)
    broken = tmp_path / "plan.toml"
    broken.write_text("name = ", encoding="utf-8")
    with pytest.raises(MapError, match=r"plan.toml: not valid TOML"):
        load_map(broken)
    with pytest.raises(MapError, match=r"cannot read the map"):
        load_map(tmp_path / "missing.json")
    listed = tmp_path / "list.json"
    listed.write_text("[]", encoding="utf-8")
    with pytest.raises(MapError, match=r"list.json: a map is a table of fields, not list"):
        load_map(listed)


def test_lead_time_includes_inventory_round_trips(tmp_path: Path) -> None:
    vsm = ValueStreamMap(
        "Measured",
        (Step("Do", process_time_hours=1, lead_time_hours=10, inventory_before=2),),
        demand_per_day=6,
        lead_time_includes_inventory=True,
    )
    assert map_from_dict(map_to_dict(vsm)) == vsm
    path = tmp_path / "measured.toml"
    path.write_text(dump_map_toml(vsm), encoding="utf-8")
    assert load_map(path) == vsm
