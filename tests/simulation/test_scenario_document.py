"""A scenario is a declared document: what it reads it writes back (``to_dict``, the TOML
form), an unknown field is refused naming the known ones, and a scenario built in code is
held to the rules a file is, with the same message."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from typing import Any

import pytest

from obeya.core.simulation import (
    Distribution,
    Scenario,
    ScenarioError,
    SimStep,
    scenario_from_dict,
    scenario_to_dict,
    scenario_toml,
)

DOC: dict[str, Any] = {
    "name": "review line",
    "arrival_rate_per_day": 4,
    "days": 400,
    "warmup_days": 40,
    "replications": 2,
    "seed": 5,
    "step": [
        {
            "name": "Build",
            "servers": 2,
            "process_time_days": {"distribution": "lognormal", "mean": 0.3, "sigma": 0.8},
            "complete_accurate": "90 %",
            "availability": "75%",
        },
        {
            "name": "Wait",
            "servers": 0,
            "process_time_days": {"distribution": "empirical", "values": [0.5, 0, 2]},
            "visit_share": 0.5,
            "wip_limit": 6,
            "batch_size": 3,
        },
    ],
}


def test_a_scenario_reads_back_what_it_writes() -> None:
    sc = scenario_from_dict(DOC, "review.toml")
    build, wait = sc.steps
    assert build.complete_accurate == pytest.approx(0.9)  # "90 %" is 90 / 100
    assert build.availability == pytest.approx(0.75)
    assert (build.process_time.kind, wait.process_time.values) == ("lognormal", (0.5, 0.0, 2.0))
    doc = sc.to_dict()
    assert doc["step"][0]["complete_accurate"] == pytest.approx(0.9)  # written as a number
    assert list(doc) == [
        "name",
        "arrival_rate_per_day",
        "arrival_times_days",
        "days",
        "warmup_days",
        "replications",
        "seed",
        "step",
    ]
    assert Scenario.from_dict(doc) == sc
    assert Scenario.from_dict(json.loads(json.dumps(scenario_to_dict(sc)))) == sc
    assert scenario_from_dict(tomllib.loads(scenario_toml(sc))) == sc


def test_replayed_arrivals_read_back_without_a_rate() -> None:
    replayed = {**DOC, "arrival_times_days": [0, 1.5, 1.5, 7]}
    del replayed["arrival_rate_per_day"]
    sc = scenario_from_dict(replayed)
    assert (sc.arrival_rate_per_day, sc.arrival_times_days) == (None, (0.0, 1.5, 1.5, 7.0))
    assert sc.to_dict()["arrival_rate_per_day"] is None  # JSON null; TOML leaves it out
    assert Scenario.from_dict(sc.to_dict()) == sc
    text = scenario_toml(sc)
    assert "arrival_rate_per_day" not in text
    assert scenario_from_dict(tomllib.loads(text)) == sc


def test_the_toml_form_leaves_out_defaults() -> None:
    sc = Scenario(
        arrival_rate_per_day=2.0,
        days=100,
        step=(SimStep("Build", Distribution("exponential", 0.25)),),
    )
    assert scenario_toml(sc) == (
        "arrival_rate_per_day = 2.0\n"
        "days = 100\n"
        "\n"
        "[[step]]\n"
        'name = "Build"\n'
        'process_time_days = { distribution = "exponential", mean = 0.25 }\n'
    )


def test_an_unknown_field_names_the_known_ones() -> None:
    doc = json.loads(json.dumps(DOC))
    doc["step"][1]["process_time_days"]["median"] = 1
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(doc, "review.toml")
    assert str(caught.value) == (
        "review.toml: step[1] ('Wait'): process_time_days: unknown field 'median'; known "
        "fields: distribution, mean, sigma, values"
    )
    assert (caught.value.field, caught.value.value) == ("median", 1)


def test_a_scenario_built_in_code_meets_the_rules_of_a_file() -> None:
    sc = scenario_from_dict(DOC)
    bad = replace(sc.steps[1], wip_limit=2)  # a batch of 3 never fits
    with pytest.raises(ScenarioError) as built:
        replace(sc, step=(sc.steps[0], bad))
    doc = json.loads(json.dumps(DOC))
    doc["step"][1]["wip_limit"] = 2
    with pytest.raises(ScenarioError) as read:
        scenario_from_dict(doc)
    message = (
        "scenario: step[1] ('Wait'): wip_limit is 2; it must hold a whole batch (batch_size 3) "
        "or the step never starts"
    )
    assert str(built.value) == str(read.value) == message
    assert built.value.field == read.value.field == "wip_limit"
