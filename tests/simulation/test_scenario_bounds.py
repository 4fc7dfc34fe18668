"""Numbers a scenario cannot hold: non-finite floats, counts too large for the engine's
arithmetic, shares that would stretch a time to infinity. Each is refused when the scenario
is built (file, JSON body or change), with the field named, instead of failing in the run."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from obeya.core.simulation import ScenarioError, load_scenario, scenario_from_dict
from obeya.core.simulation.whatif import Change, apply_changes, parse_change

SMALL: dict[str, Any] = {
    "name": "small",
    "arrival_rate_per_day": 2.0,
    "days": 300,
    "warmup_days": 30,
    "seed": 3,
    "step": [{"name": "Build", "process_time_days": {"distribution": "exponential", "mean": 0.3}}],
}


def with_value(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SMALL)
    target: Any = doc
    *parents, last = path.split(".")
    for key in parents:
        target = target["step"][0] if key == "step0" else target[key]
    target[last] = value
    return json.loads(json.dumps(doc))  # as a JSON body arrives: 1e400 is inf, NaN is nan


STEP = "step[0] ('Build'): "
TIME = f"{STEP}process_time_days: "


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("step0.servers", 1e400, f"{STEP}servers is inf; give a whole number ≥ 0"),
        ("step0.servers", 10**40, f"{STEP}servers is 10000000000000000000000000000000000000000"),
        ("step0.wip_limit", 10**12, f"{STEP}wip_limit is 1000000000000"),
        ("step0.batch_size", 10**12, f"{STEP}batch_size is 1000000000000"),
        ("step0.availability", 5e-324, f"{STEP}availability is 5e-324; give a share in (0, 1]"),
        ("step0.complete_accurate", float("nan"), f"{STEP}complete_accurate is nan"),
        ("step0.process_time_days.mean", 1e308, f"{TIME}mean is 1e+308"),
        ("step0.process_time_days.mean", float("inf"), f"{TIME}mean is inf"),
        ("days", 1e308, "days is 1e+308"),
        ("days", float("nan"), "days is nan"),
        ("warmup_days", float("nan"), "warmup_days is nan"),
        ("arrival_rate_per_day", 1e300, "arrival_rate_per_day is 1e+300"),
        ("replications", 10**30, "replications is 1000000000000000000000000000000"),
        ("seed", 2**64, "seed is 18446744073709551616; give a whole number within ±2**62"),
    ],
)
def test_out_of_range_numbers_are_refused_naming_the_field(
    path: str, value: Any, message: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(with_value(path, value))
    assert str(caught.value).startswith(f"scenario: {message}")
    assert caught.value.field == path.rpartition(".")[2]


def test_a_lognormal_sigma_whose_square_overflows() -> None:
    doc = with_value("step0.process_time_days", {"distribution": "lognormal", "mean": 1})
    doc["step"][0]["process_time_days"]["sigma"] = 1e200  # 1e200 ** 2 raises OverflowError
    with pytest.raises(ScenarioError, match=re.escape(f"{TIME}sigma is 1e+200; give a number")):
        scenario_from_dict(doc)


def test_replayed_arrivals_must_be_finite() -> None:
    doc = copy.deepcopy(SMALL)
    del doc["arrival_rate_per_day"]
    doc["arrival_times_days"] = [0.5, float("inf")]
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(doc)
    assert str(caught.value).startswith(
        "scenario: arrival_times_days[1] is inf; give a number of days ≥ 0, at most 1e+09"
    )
    assert caught.value.field == "arrival_times_days[1]"


def test_a_file_names_itself_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text(
        'arrival_rate_per_day = 2\ndays = 300\n[[step]]\nname = "Build"\nservers = 1e400\n'
        'process_time_days = { distribution = "constant", mean = 0.1 }\n'
    )
    with pytest.raises(ScenarioError, match=r"big\.toml: step\[0\] \('Build'\): servers is inf"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # A share is read as one (0.9, 90 %): a float no share is, is no share.
        ("Build.availability=1e400", "availability is '1e400'; give a share"),
        ("Build.availability=nan", "availability is 'nan'; give a share"),
        ("arrivals=1e400", "arrival_rate_per_day needs a number (finite)"),
        ("arrivals=nan", "arrival_rate_per_day needs a number (finite)"),
        ("Build.servers=" + "9" * 400, "servers needs a whole number up to 1,000,000,000"),
    ],
)
def test_changes_no_float_holds_are_refused(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        parse_change(text)


def test_a_change_out_of_range_names_the_change() -> None:
    baseline = scenario_from_dict(SMALL)
    with pytest.raises(
        ScenarioError,
        match=re.escape("what-if 'Big': scenario: step[0] ('Build'): availability is 1e-09; give"),
    ) as caught:
        apply_changes(baseline, [Change("availability", 1e-9, "Build")], "Big")
    assert (caught.value.field, caught.value.value) == ("availability", 1e-9)
