"""A map's figures read the same on its page, in its comparison and on the CLI
(obeya.render.map_figures): expectations worked by hand."""

from __future__ import annotations

import pytest

from obeya.render import map_figures as mf


@pytest.mark.parametrize(
    ("figure", "kind"),
    [
        ("totals.lead_time_hours", "hours"),
        ("steps.Build.hours_per_item", "hours"),
        ("totals.activity_ratio", "share"),
        ("steps.Build.utilisation", "share"),
        ("totals.rolled_complete_accurate", "share"),
        ("waste.rework.money_per_period", "money"),
        ("steps.Build.people", "number"),
    ],
)
def test_a_figure_kind_comes_from_its_name(figure: str, kind: str) -> None:
    assert mf.kind(figure) == kind


def test_figures_by_kind() -> None:
    assert mf.shown(88 / 96, "share") == "91.7 %"  # 91.666... to three significant digits
    assert mf.shown(0.05, "share") == "5 %"
    assert mf.shown(96.0, "hours") == "96 h"
    assert mf.shown(12345.6, "money") == "12,346"
    assert mf.shown(None, "share") == "—"


def test_a_share_moves_in_percentage_points() -> None:
    # Utilisation 100 % → 50 %: -0.5 of a share is 50 percentage points, a change of -50 %.
    assert mf.delta(-0.5, "share") == "-50 pp"
    assert mf.change(-50.0) == "-50 %"
    assert mf.delta(3.5, "hours") == "+3.5 h"
    assert mf.delta(0.0, "hours") == "0"
    assert mf.delta(None, "money") == "—"
    assert mf.change(None) == "—"
