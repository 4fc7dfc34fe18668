"""The axes of the chart specs: years on time axes that span years, dates (not milliseconds)
as tick values, and log scales without 0.

Besides the spec's fields, the time axes are drawn (vl-convert, the Vega of the Python wheel)
and their labels read back, so the test sees what a person reads under the chart.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

import vl_convert

from obeya.render import charts

SVG = "{http://www.w3.org/2000/svg}"


def daily(start: date, days: int) -> dict[str, int]:
    return {(start + timedelta(days=i)).isoformat(): 3 + i % 5 for i in range(days)}


def x_of(spec: dict[str, Any], mark: str | None = None) -> dict[str, Any]:
    """The x encoding of the first layer (of mark ``mark``)."""
    for layer in spec["layer"]:
        kind = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        if mark is None or kind == mark:
            return dict(layer["encoding"]["x"])
    raise AssertionError(f"no {mark} layer")


def axis_labels(spec: dict[str, Any], axis: str) -> list[str]:
    """The labels of the ``axis`` ("X" or "Y") of the drawn chart."""
    root = ET.fromstring(vl_convert.vegalite_to_svg(spec))
    for group in root.iter(f"{SVG}g"):
        if group.get("aria-roledescription") == "axis" and (
            group.get("aria-label") or ""
        ).startswith(f"{axis}-axis"):
            return [
                "".join(text.itertext())
                for g in group.iter(f"{SVG}g")
                if "role-axis-label" in (g.get("class") or "")
                for text in g.iter(f"{SVG}text")
            ]
    raise AssertionError(f"no {axis} axis drawn")


def test_an_axis_over_two_years_labels_months_with_their_year() -> None:
    # 700 days from 2021-03-01: to 2023-01-29, 22 months, so month ticks 2 months apart
    # (22 / 2 = 11 labels at most, under the 12 an axis asks for).
    spec = charts.wip({"wip_daily": daily(date(2021, 3, 1), 700)})
    axis = x_of(spec)["axis"]
    assert axis["format"] == "%b %Y"
    assert axis["tickCount"] == {"interval": "month", "step": 2}
    labels = axis_labels(spec, "X")
    assert labels, "the time axis has labels"
    assert all(re.fullmatch(r"[A-Z][a-z]{2} 20(21|22|23)", label) for label in labels), labels
    assert {label[-4:] for label in labels} >= {"2021", "2022"}


def test_an_axis_over_two_months_of_one_year_labels_days_one_way() -> None:
    spec = charts.wip({"wip_daily": daily(date(2021, 3, 1), 60)})  # March and April 2021
    axis = x_of(spec)["axis"]
    assert axis["format"] == "%b %d" and "tickCount" not in axis
    labels = axis_labels(spec, "X")
    # Vega's own would mix "Mon 08" and "March"; every label here is a month and a day.
    assert labels and all(re.fullmatch(r"(Mar|Apr) \d\d", label) for label in labels), labels


def test_a_few_days_have_a_tick_on_each_day_and_none_between() -> None:
    # Vega's own labels of three days: "Mon 08", "12 PM", "Tue 09", "12 PM", "Wed 10".
    spec = charts.wip({"wip_daily": daily(date(2024, 1, 8), 3)})
    assert axis_labels(spec, "X") == ["Jan 08", "Jan 09", "Jan 10"]
    assert x_of(spec)["axis"]["tickCount"] == {"interval": "day", "step": 1}
    # A single finish: one label, the day.
    one = {"scatter": [{"item_id": "A", "finished": "2024-01-04", "cycle_time_days": 2.0}]}
    assert axis_labels(charts.cycle_time_scatter(one), "X") == ["Jan 04"]


def test_months_of_one_year_are_month_ticks_with_the_year() -> None:
    # Vega's own: "February", "March"… beside "Mar 25" on a span just over four months.
    spec = charts.wip({"wip_daily": daily(date(2024, 1, 8), 200)})  # to 2024-07-25
    assert x_of(spec)["axis"]["format"] == "%b %Y"
    assert axis_labels(spec, "X") == [
        "Feb 2024", "Mar 2024", "Apr 2024", "May 2024", "Jun 2024", "Jul 2024"
    ]  # fmt: skip


def test_two_months_across_a_new_year_say_the_year_on_each_day() -> None:
    spec = charts.wip({"wip_daily": daily(date(2021, 12, 1), 60)})  # to 2022-01-29
    assert x_of(spec)["axis"]["format"] == "%b %d, %Y"
    labels = axis_labels(spec, "X")
    assert {label[-4:] for label in labels} == {"2021", "2022"}, labels


def test_weekly_ticks_are_dates_and_carry_the_year_across_a_new_year() -> None:
    # vega-embed's expression interpreter (the pages allow no eval) drew no label at all for
    # ticks given as epoch milliseconds: they are Vega-Lite DateTimes, months from 1.
    one_year = charts.throughput({"throughput_weekly": {"2024-01-01": 2, "2024-01-08": 5}})
    axis = x_of(one_year, "bar")["axis"]
    assert axis["values"] == [
        {"year": 2024, "month": 1, "date": 1, "utc": True},
        {"year": 2024, "month": 1, "date": 8, "utc": True},
    ]
    assert axis["format"] == "%b %d"
    assert axis_labels(one_year, "X") == ["Jan 01", "Jan 08"]
    across = charts.throughput({"throughput_weekly": {"2023-12-25": 2, "2024-01-01": 5}})
    assert x_of(across, "bar")["axis"]["format"] == "%b %d, %Y"
    assert axis_labels(across, "X") == ["Dec 25, 2023", "Jan 01, 2024"]


def long_tail(cycle_times: list[float]) -> dict[str, Any]:
    """Finished items with these cycle times, p85 4.4 d: a tail past 8 × p85 makes the axis
    logarithmic."""
    return {
        "cycle_time_days": {"p50": 3.0, "p85": 4.4, "p95": 4.8},
        "scatter": [
            {
                "item_id": f"I-{i}",
                "type": "Bug",
                "finished": f"2024-01-{1 + i:02}",
                "cycle_time_days": ct,
                "lead_time_days": None,
            }
            for i, ct in enumerate(cycle_times)
        ],
    }


def circle_y(spec: dict[str, Any]) -> dict[str, Any]:
    return next(
        layer["encoding"]["y"] for layer in spec["layer"] if layer["mark"]["type"] == "circle"
    )


def test_a_log_axis_has_no_zero_and_draws_a_zero_at_its_floor() -> None:
    # Cycle times 0, 2, 4 and 400 days; 400 > 8 × 4.4 = 35.2, so log. The floor is the
    # round number at or under the least positive value (2; three decades under p85 would be
    # 0.0044, lower): 2. The top: the first round number at or over 400: 500. Ticks 2 … 500.
    spec = charts.cycle_time_scatter(long_tail([0.0, 2.0, 4.0, 400.0]))
    y = circle_y(spec)
    assert y["scale"]["type"] == "log"
    assert y["scale"]["domain"] == [2, 500]
    assert y["axis"]["values"] == [2, 5, 10, 20, 50, 100, 200, 500]
    rows = spec["datasets"]["scatter"]
    drawn = [row[y["field"]] for row in rows]
    assert drawn == [2, 2.0, 4.0, 400.0]  # the 0 raised to the floor
    assert [row["cycle_time_days"] for row in rows] == [0.0, 2.0, 4.0, 400.0]  # tooltips
    assert "1 item under 2 d drawn at 2 d" in spec["title"]["subtitle"]
    labels = axis_labels(spec, "Y")
    assert "0" not in labels and labels[0] == "2" and labels[-1] == "500", labels


def test_a_log_axis_over_many_decades_ticks_the_powers_of_ten() -> None:
    # Least positive 0.002 d (3 minutes); three decades under p85 is 0.0044, over it; the
    # round numbers go down to 0.01, so the floor is 0.01. 0.01 to 500 is 4.7 decades: powers
    # of ten, and the top. 0 and 0.002 are under the floor: 2 items.
    spec = charts.cycle_time_scatter(long_tail([0.0, 0.002, 0.5, 1.0, 400.0]))
    y = circle_y(spec)
    assert y["scale"]["domain"] == [0.01, 500]
    assert y["axis"]["values"] == [0.01, 0.1, 1, 10, 100, 500]
    assert min(row[y["field"]] for row in spec["datasets"]["scatter"]) == 0.01
    assert "2 items under 0.01 d drawn at 0.01 d" in spec["title"]["subtitle"]


def test_aging_on_a_log_axis_keeps_its_percentile_lines_on_the_scale() -> None:
    doc = long_tail([])
    doc["cycle_time_days"] = {"p50": 0.0, "p85": 1.0, "p95": 2.0}  # half done at once
    doc["aging_wip"] = {
        "as_of": "2024-02-01",
        "items_detail": [
            {"item_id": "A", "type": "Bug", "state": "Doing", "age_days": 0.5},
            {"item_id": "B", "type": "Bug", "state": "Doing", "age_days": 30.0},
        ],
    }
    spec = charts.aging_wip(doc)
    y = circle_y(spec)
    # 30 > 8 × 1: log. Least positive 0.5 (over 1 / 1000): floor 0.5; top 50.
    assert y["scale"]["type"] == "log" and y["scale"]["domain"] == [0.5, 50]
    lines = {row["label"]: row for row in spec["datasets"]["percentiles"]}
    assert lines["p50"]["value"] == 0.5 and lines["p50"]["text"] == "p50 0.0 d"
    assert lines["p85"]["value"] == 1.0
    assert min(row[y["field"]] for row in spec["datasets"]["aging"]) == 0.5


def test_a_short_tail_keeps_a_linear_axis_and_the_rows_as_they_are() -> None:
    spec = charts.cycle_time_scatter(long_tail([0.0, 2.0, 4.0, 30.0]))  # 30 < 35.2
    y = circle_y(spec)
    assert y["field"] == "cycle_time_days" and "scale" not in y
    assert "cycle_time_days_drawn" not in spec["datasets"]["scatter"][0]


def test_a_forecast_of_a_few_outcomes_ticks_whole_numbers_only() -> None:
    # Each bar spans ±0.5 around its outcome, and Vega's own ticks over 9.5–12.5 fall on
    # halves ("9.5", "10.0", "10.5" …); over one outcome, on fifths. A count has neither.
    from obeya.render.forecast import how_many_histogram

    for histogram, whole in (({"10": 5, "11": 3, "12": 1}, {"10", "11", "12"}), ({"3": 7}, {"3"})):
        doc = {"days": 14, "histogram": histogram, "trials": 9}
        labels = axis_labels(how_many_histogram(doc), "X")
        assert set(labels) == whole, labels
