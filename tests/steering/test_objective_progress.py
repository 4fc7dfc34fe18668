"""An objective's progress is the share of its key results that are met: never above 100 %,
and never 100 % while one is not met (each case worked by hand in its comment)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from obeya.core.steering.objectives import Objective, objective_progress

TODAY = date(2024, 6, 1)


def by_hand(
    key: str, comparator: str, target: float, current: float | None, **more: Any
) -> dict[str, Any]:
    return {"key": key, "title": key, "comparator": comparator, "target": target,
            "current": current, **more}  # fmt: skip


def view(*results: dict[str, Any]) -> dict[str, Any]:
    doc = {"key": "O-1", "title": "Better", "key_results": list(results)}
    return Objective.from_dict(doc).view({}, TODAY)


def test_two_of_three_met_is_two_thirds() -> None:
    # KR-1: 8 <= 10 met; KR-2: 0.4 >= 0.3 met; KR-3: 12 <= 10 not met → 2 ÷ 3 = 66.7 %.
    doc = view(
        by_hand("KR-1", "<=", 10, 8),
        by_hand("KR-2", ">=", 0.3, 0.4),
        by_hand("KR-3", "<=", 10, 12, baseline=20),
    )
    assert [r["met"] for r in doc["key_results"]] == [True, True, False]
    assert doc["met"] == 2
    assert doc["progress"] == pytest.approx(2 / 3)
    assert round(doc["progress"] * 100, 1) == 66.7


def test_a_key_result_far_past_its_target_counts_once() -> None:
    # KR-1: 500 >= 50, ten times the target: met, counts 1. KR-2: 4 >= 5 not met → 1 ÷ 2.
    doc = view(by_hand("KR-1", ">=", 50, 500, baseline=0), by_hand("KR-2", ">=", 5, 4))
    assert doc["key_results"][0]["progress"] == 1.0  # clamped, never 10
    assert doc["progress"] == 0.5


def test_never_100_while_a_key_result_without_baseline_is_unmet() -> None:
    # The old mean of partial shares skipped KR-2 (no baseline, so no share) and read 100 %.
    # Met ÷ all: KR-1 met, KR-2 (3 < 5) not → 1 ÷ 2.
    doc = view(by_hand("KR-1", "<=", 10, 8), by_hand("KR-2", ">=", 5, 3))
    assert doc["key_results"][1]["progress"] is None
    assert doc["progress"] == 0.5


def test_a_key_result_without_a_value_is_not_met() -> None:
    # KR-2 has no value yet: unknown, so not met → 1 ÷ 2.
    doc = view(by_hand("KR-1", "<=", 10, 10), by_hand("KR-2", ">=", 5, None))
    assert doc["key_results"][1]["met"] is None
    assert doc["progress"] == 0.5


def test_all_met_is_exactly_one_and_none_without_key_results() -> None:
    doc = view(by_hand("KR-1", "<=", 10, 10), by_hand("KR-2", ">=", 5, 9))
    assert doc["progress"] == 1.0
    assert view()["progress"] is None
    assert objective_progress(0, 0) is None
    with pytest.raises(ValueError):
        objective_progress(4, 3)
