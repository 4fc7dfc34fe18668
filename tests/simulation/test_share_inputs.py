"""Shares in a scenario file and in a what-if change are read as everywhere else: a fraction
(0.9) or a percentage ("90%", "90 %"); a bare number above 1 is refused, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from obeya.core.simulation.scenario import ScenarioError, load_scenario, scenario_from_dict
from obeya.core.simulation.whatif import Change, parse_change

STEP = '[[step]]\nname = "Build"\nprocess_time_days = { distribution = "constant", mean = 0.5 }\n'


def _scenario(tmp_path: Path, shares: str) -> Path:
    path = tmp_path / "shares.toml"
    path.write_text(f"arrival_rate_per_day = 1\ndays = 100\n{STEP}{shares}")
    return path


def test_shares_in_a_scenario_file_may_be_written_in_percent(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path, 'complete_accurate = "90%"\nvisit_share = "50 %"\navailability = "0.8"\n'
    )
    step = load_scenario(path).steps[0]
    assert step.complete_accurate == pytest.approx(0.9)  # 90 / 100
    assert step.visit_share == pytest.approx(0.5)  # 50 / 100
    assert step.availability == pytest.approx(0.8)  # a fraction typed as text


def test_a_share_as_a_number_is_read_as_before(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "complete_accurate = 0.9\nvisit_share = 1\n")
    step = load_scenario(path).steps[0]
    assert (step.complete_accurate, step.visit_share) == (0.9, 1.0)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            '"90"',
            "step[0] ('Build'): complete_accurate is '90'; a share is a fraction up to 1 "
            "or a percentage: write 0.9 or 90 %",
        ),
        (
            '"150%"',
            "step[0] ('Build'): complete_accurate is '150%'; give a share from 0 % to 100 %",
        ),
        ('"ninety"', "step[0] ('Build'): complete_accurate is 'ninety'; give a share"),
        ('"0 %"', "step[0] ('Build'): complete_accurate is '0 %'; give a share in (0, 1]"),
    ],
)
def test_a_share_that_is_none_names_the_file_and_field(
    tmp_path: Path, typed: str, message: str
) -> None:
    path = _scenario(tmp_path, f"complete_accurate = {typed}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_a_share_in_a_scenario_document_carries_its_field() -> None:
    doc = {
        "days": 10,
        "arrival_rate_per_day": 1,
        "step": [
            {
                "name": "A",
                "process_time_days": {"distribution": "constant", "mean": 0.5},
                "visit_share": "120 %",
            }
        ],
    }
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(doc)
    assert str(caught.value).startswith("scenario: step[0] ('A'): visit_share is '120 %'")
    assert (caught.value.field, caught.value.value) == ("visit_share", "120 %")


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("Build.complete_accurate=0.9", 0.9),
        ("Build.complete_accurate=90%", 0.9),  # 90 / 100
        ("Build.complete_accurate=90 %", 0.9),
        ("Review.visit_share=12.5%", 0.125),  # 12.5 / 100
        ("Review.availability=80%", 0.8),
    ],
)
def test_a_what_if_sets_a_share_as_a_fraction_or_in_percent(text: str, share: float) -> None:
    change = parse_change(text)
    assert change.how == "set"
    assert change.value == pytest.approx(share)
    assert change.applied(0.5) == pytest.approx(share)  # set outright, whatever it was


def test_a_signed_percentage_still_scales_a_share() -> None:
    # -20 % of the baseline's availability: 0.9 × 0.8 = 0.72, not a share of 20 %.
    change = parse_change("Review.availability=-20%")
    assert change == Change("availability", pytest.approx(0.8), "Review", "scale")
    assert change.applied(0.9) == pytest.approx(0.72)
    # ... and a signed fraction adds: 0.8 + 0.1.
    assert parse_change("Build.complete_accurate=+0.1").applied(0.8) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Build.complete_accurate=90", "write 0.9 or 90 %"),
        ("Build.complete_accurate=150%", "give a share from 0 % to 100 %"),
        ("Build.visit_share=most", "give a share: a fraction (0.2) or a percentage (20 %)"),
    ],
)
def test_a_what_if_share_that_is_none_is_refused_naming_the_change(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_change(text)
    assert str(caught.value).startswith(f"change {text!r}: ")
    assert message in str(caught.value)
