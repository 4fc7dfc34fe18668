"""Golden tests of the chart specs: marks, encodings and data for a small hand-made report.

They pin what a person sees (which mark, which field on which axis, which numbers), not the
exact JSON Altair writes, so an Altair upgrade that reorders keys does not break them.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from typing import Any

import pytest

from obeya.errors import NotFoundError
from obeya.render import charts, theme
from obeya.render.parts import histogram, percentile

CATEGORIES = {"To Do": "backlog", "Doing": "active", "Review": "active", "Done": "done"}


def hand_made() -> dict[str, Any]:
    """A report document as ``FlowReport.to_dict(detail=True)`` shapes it."""
    ct = {"p50": 3.0, "p70": 3.6, "p85": 4.4, "p95": 4.8, "mean": 3.0, "count": 2}
    return {
        "source": "hand-made",
        "workflow": True,
        "filter": {"types": [], "since": None, "until": None, "calendar_days": False},
        "items": {"total": 4, "started": 3, "finished": 2, "in_progress": 1, "not_started": 1},
        "cycle_time_days": ct,
        "lead_time_days": ct,
        "flow_efficiency": 0.5,
        "throughput_daily": {"2024-01-04": 1, "2024-01-09": 1},
        "throughput_weekly": {"2024-01-01": 1, "2024-01-08": 3},
        "wip_daily": {"2024-01-02": 1, "2024-01-03": 2, "2024-01-04": 1},
        "arrivals_weekly": {"2024-01-01": 3},
        "net_flow_weekly": {"2024-01-01": -2},
        "cumulative_flow": {
            "states": ["To Do", "Doing", "Review", "Done"],
            "days": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "counts": {
                "To Do": [2, 3, 4],
                "Doing": [0, 1, 3],
                "Review": [0, 0, 2],
                "Done": [0, 0, 1],
            },
        },
        "time_in_state_hours": {
            "Doing": {"median": 30.0, "p85": 40.0, "items": 2},
            "To Do": {"median": 12.0, "p85": 20.0, "items": 3},
            "Gone": {"median": None, "p85": None, "items": 0},
        },
        "aging_wip": {
            "items": 2,
            "as_of": "2024-01-10",
            "bands": {"below_p50": 1, "p50_to_p85": 0, "p85_to_p95": 0, "above_p95": 1},
            "items_detail": [
                {
                    "item_id": "C",
                    "type": "Bug",
                    "state": "Review",
                    "started": "2024-01-05",
                    "age_days": 5.0,
                },
                {
                    "item_id": 7,
                    "type": None,
                    "state": "Doing",
                    "started": "2024-01-09",
                    "age_days": 1.0,
                },
            ],
        },
        "flow_framework": {
            "velocity_per_week": 2.0,
            "time_days": ct,
            "efficiency": 0.5,
            "load": 2,
            "distribution": {"Bug": 0.5, "Story": 0.5},
            "distribution_wip": {"Bug": 1.0},
        },
        "unmapped_states": [],
        "scatter": [
            {
                "item_id": "B",
                "type": "Story",
                "cycle_time_days": 4.0,
                "lead_time_days": 5.0,
                "flow_efficiency": 0.5,
                "finished": "2024-01-09",
            },
            {
                "item_id": "A",
                "type": None,
                "cycle_time_days": 2.0,
                "lead_time_days": None,
                "flow_efficiency": 0.5,
                "finished": "2024-01-04",
            },
        ],
    }


def empty_report() -> dict[str, Any]:
    doc = hand_made()
    doc.update(
        cycle_time_days={
            "p50": None,
            "p70": None,
            "p85": None,
            "p95": None,
            "mean": None,
            "count": 0,
        },
        throughput_weekly={},
        wip_daily={},
        cumulative_flow={"states": [], "days": [], "counts": {}},
        time_in_state_hours={},
        aging_wip={"items": 0, "as_of": None, "bands": {}, "items_detail": []},
        scatter=[],
    )
    doc["flow_framework"].update(distribution={}, distribution_wip={}, load=0)
    return doc


def units(spec: dict[str, Any], data: Any = None) -> list[dict[str, Any]]:
    """Every single-mark view of a spec, layers flattened in drawing order, each with the data
    it reads (its own or the one it inherits from its layer)."""
    data = spec.get("data", data)
    if "layer" in spec:
        return [u for layer in spec["layer"] for u in units(layer, data)]
    return [{**spec, "data": data}]


def mark_of(unit: dict[str, Any]) -> str:
    mark = unit["mark"]
    return str(mark["type"] if isinstance(mark, dict) else mark)


def find(spec: dict[str, Any], mark: str, dataset: str | None = None) -> dict[str, Any]:
    """The first view drawing ``mark`` (from ``dataset`` if given)."""
    for unit in units(spec):
        if mark_of(unit) == mark and (dataset is None or unit["data"]["name"] == dataset):
            return unit
    raise AssertionError(f"no {mark} mark in {[mark_of(u) for u in units(spec)]}")


def subtitle(spec: dict[str, Any]) -> str:
    lines = spec["title"]["subtitle"]
    return " / ".join(lines) if isinstance(lines, list) else str(lines)


# -- every chart ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_every_chart_is_complete_vega_lite(name: str) -> None:
    spec = charts.chart(name, hand_made(), CATEGORIES)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert spec["width"] == "container"
    assert spec["config"]["font"] == theme.FONT
    # Every view reads a dataset the spec carries inline.
    for unit in units(spec):
        assert unit["data"]["name"] in spec["datasets"]
    json.dumps(spec, allow_nan=False)


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_a_chart_without_data_says_so(name: str) -> None:
    spec = charts.chart(name, empty_report())
    assert mark_of(spec) == "text"
    [message] = spec["datasets"]["message"]
    assert message["text"].startswith("No ")


def test_an_unknown_chart_names_the_charts() -> None:
    with pytest.raises(NotFoundError, match="cumulative-flow"):
        charts.chart("pie", hand_made())


def test_the_charts_do_not_change_the_report() -> None:
    doc = hand_made()
    before = copy.deepcopy(doc)
    for name in charts.CHARTS:
        charts.chart(name, doc, CATEGORIES)
    assert doc == before


# -- cumulative flow --------------------------------------------------------------------------


def test_cumulative_flow_bands_are_differences_of_reached_counts() -> None:
    spec = charts.cumulative_flow(hand_made(), CATEGORIES)
    # Band of a state = reached it or beyond − reached the next state or beyond.
    assert spec["datasets"]["cfd"] == [
        {"day": "2024-01-01", "s0": 2, "s1": 0, "s2": 0, "s3": 0},
        {"day": "2024-01-02", "s0": 2, "s1": 1, "s2": 0, "s3": 0},
        {"day": "2024-01-03", "s0": 1, "s1": 1, "s2": 1, "s3": 1},
    ]
    # The bands of one day stack up to every item that arrived.
    for row in spec["datasets"]["cfd"]:
        index = spec["datasets"]["cfd"].index(row)
        assert sum(v for k, v in row.items() if k != "day") == [2, 3, 4][index]
    assert spec["datasets"]["cfd_states"] == [
        {"key": "s0", "state": "To Do", "stack": 4},
        {"key": "s1", "state": "Doing", "stack": 3},
        {"key": "s2", "state": "Review", "stack": 2},
        {"key": "s3", "state": "Done", "stack": 1},
    ]


def test_cumulative_flow_stacks_done_at_the_bottom_in_flow_order() -> None:
    spec = charts.cumulative_flow(hand_made(), CATEGORIES)
    area = find(spec, "area")
    stack = next(t for t in area["transform"] if "stack" in t)
    assert stack["groupby"] == ["day"]
    assert stack["sort"] == [{"field": "stack", "order": "ascending"}]
    encoding = area["encoding"]
    assert encoding["x"]["field"] == "day" and encoding["x"]["type"] == "temporal"
    assert encoding["x"]["scale"]["type"] == "utc"
    assert (encoding["y"]["field"], encoding["y2"]["field"]) == ("top", "bottom")
    colour = encoding["color"]["scale"]
    assert colour["domain"] == ["To Do", "Doing", "Review", "Done"]
    assert colour["range"] == theme.state_colours(colour["domain"], CATEGORIES)


def test_cumulative_flow_tooltip_follows_the_pointer() -> None:
    spec = charts.cumulative_flow(hand_made())
    rule = find(spec, "rule")
    titles = [t["title"] for t in rule["encoding"]["tooltip"]]
    assert titles == ["Day", "To Do", "Doing", "Review", "Done"]
    [hover] = spec["params"]
    assert hover["select"]["nearest"] is True and hover["select"]["fields"] == ["day"]
    assert hover["views"] == [rule["name"]]


def test_a_long_history_keeps_every_nth_day_and_the_last() -> None:
    days = [(date(2020, 1, 1) + timedelta(days=i)).isoformat() for i in range(2_500)]
    doc = hand_made()
    doc["cumulative_flow"] = {
        "states": ["Done"],
        "days": days,
        "counts": {"Done": list(range(2_500))},
    }
    rows = charts.cumulative_flow(doc)["datasets"]["cfd"]
    assert len(rows) <= 1_001
    assert rows[0]["day"] == days[0] and rows[-1] == {"day": days[-1], "s0": 2_499}


def test_a_long_quiet_lead_in_is_skipped_and_said() -> None:
    """400 quiet days with 1 arrival, then 200 arrivals in 100 days: draw the busy part."""
    days = [(date(2020, 1, 1) + timedelta(days=i)).isoformat() for i in range(500)]
    arrived = [1] * 400 + [1 + 2 * (i + 1) for i in range(100)]
    doc = hand_made()
    doc["cumulative_flow"] = {"states": ["To Do"], "days": days, "counts": {"To Do": arrived}}
    doc["wip_daily"] = dict.fromkeys(days, 1)
    cfd = charts.cumulative_flow(doc)
    # 1% of the 201 items is 2.01: day 400 is the first with 3 arrived; 1 arrived before it.
    assert cfd["datasets"]["cfd"][0] == {"day": days[400], "s0": 3}
    assert f"Drawn from {days[400]}: only 1 item (under 1%) arrived before it" in subtitle(cfd)
    wip = charts.wip(doc)
    assert wip["datasets"]["wip"][0]["day"] == days[400]
    assert f"Drawn from {days[400]}" in subtitle(wip)
    # An ordinary history is drawn whole.
    assert "Drawn from" not in subtitle(charts.cumulative_flow(hand_made()))


# -- cycle time -------------------------------------------------------------------------------


def test_scatter_plots_finish_date_against_cycle_time_with_percentile_lines() -> None:
    spec = charts.cycle_time_scatter(hand_made())
    dots = find(spec, "circle")
    assert dots["encoding"]["x"]["field"] == "finished"
    assert dots["encoding"]["x"]["type"] == "temporal"
    assert dots["encoding"]["y"]["field"] == "cycle_time_days"
    assert "scale" not in dots["encoding"]["y"]  # linear: no long tail here
    assert spec["datasets"]["scatter"] == [
        {
            "item_id": "A",
            "type": "(none)",
            "finished": "2024-01-04",
            "cycle_time_days": 2.0,
            "lead_time_days": None,
        },
        {
            "item_id": "B",
            "type": "Story",
            "finished": "2024-01-09",
            "cycle_time_days": 4.0,
            "lead_time_days": 5.0,
        },
    ]
    assert spec["datasets"]["percentiles"] == [
        {"label": "p50", "value": 3.0, "text": "p50 3.0 d"},
        {"label": "p85", "value": 4.4, "text": "p85 4.4 d"},
        {"label": "p95", "value": 4.8, "text": "p95 4.8 d"},
    ]
    rule = find(spec, "rule")
    assert rule["encoding"]["y"]["field"] == "value"
    assert rule["encoding"]["color"]["scale"]["range"] == list(theme.PERCENTILE_COLOURS)
    assert {mark_of(u) for u in units(spec)} == {"circle", "rule", "text"}
    assert "p85 4.4 d" in subtitle(spec)


def test_a_long_tail_turns_the_cycle_time_axis_logarithmic() -> None:
    doc = hand_made()
    doc["scatter"].append(dict(doc["scatter"][0], item_id="Z", cycle_time_days=400.0))
    y = find(charts.cycle_time_scatter(doc), "circle")["encoding"]["y"]
    assert y["scale"]["type"] == "log"
    assert y["axis"]["values"][-1] == 500
    assert min(y["axis"]["values"]) > 0  # a log scale has no 0 (tests/render/test_chart_axes.py)
    assert "log scale" in y["title"]


def test_thousands_of_items_are_sampled_the_same_way_every_time() -> None:
    doc = hand_made()
    doc["scatter"] = [
        {
            "item_id": f"I-{i:05}",
            "type": "Bug",
            "cycle_time_days": float(i % 17),
            "lead_time_days": None,
            "flow_efficiency": None,
            "finished": f"2024-{1 + i % 12:02}-{1 + i % 28:02}",
        }
        for i in range(12_000)
    ]
    first = charts.cycle_time_scatter(doc)
    again = charts.cycle_time_scatter(doc)
    assert len(first["datasets"]["scatter"]) == 5_000
    assert first["datasets"]["scatter"] == again["datasets"]["scatter"]
    assert "12,000 finished items" in subtitle(first) and "5,000 shown" in subtitle(first)
    # The histogram still counts every item.
    bins = charts.cycle_time_histogram(doc)["datasets"]["histogram"]
    assert sum(b["items"] for b in bins) == 12_000


def test_histogram_counts_cycle_times_in_bins_with_percentile_lines() -> None:
    spec = charts.cycle_time_histogram(hand_made())
    bars = find(spec, "bar")
    assert bars["encoding"]["x"]["bin"] == "binned"
    assert (bars["encoding"]["x"]["field"], bars["encoding"]["x2"]["field"]) == ("start", "end")
    assert bars["encoding"]["y"]["field"] == "items"
    bins = spec["datasets"]["histogram"]
    assert [(b["start"], b["items"]) for b in bins] == [(2.0, 1), (4.0, 1)]
    assert bins[0]["range"] == "2.0–2.2 days"
    # The vertical percentile lines, labels stacked so they do not overlap.
    assert find(spec, "rule")["encoding"]["x"]["field"] == "value"
    assert [p["offset"] for p in spec["datasets"]["percentiles"]] == [2, 16, 30]


def test_histogram_gathers_the_longest_percent_in_one_bar() -> None:
    values = [1.0] * 150 + [2.0] * 50 + [900.0]
    rows = histogram(values)
    assert sum(r["items"] for r in rows) == len(values)
    assert rows[-1]["overflow"] and rows[-1]["items"] == 1
    assert rows[-1]["range"].endswith("days or more")
    assert not any(r["overflow"] for r in rows[:-1])


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([2.0, 4.0, 6.0], 85) == pytest.approx(5.4)
    assert percentile([7.0], 50) == 7.0


# -- throughput and WIP -----------------------------------------------------------------------


def test_throughput_bars_per_week_with_the_mean() -> None:
    spec = charts.throughput(hand_made())
    # The data ends on Wednesday 2024-01-10 (as_of): its week counts three of its days.
    assert spec["datasets"]["weeks"] == [
        {"week": "2024-01-01", "week_end": "2024-01-08", "items": 1, "partial": False,
         "counted": "all 7"},
        {"week": "2024-01-08", "week_end": "2024-01-15", "items": 3, "partial": True,
         "counted": "Jan 8 to Jan 10 (part of the week)"},
    ]  # fmt: skip
    assert spec["title"]["subtitle"][1] == "lighter: part of a week (Jan 8 to Jan 10)"
    assert spec["datasets"]["mean"] == [{"value": 2.0, "text": "mean 2.0 / week"}]
    bars = find(spec, "bar")
    assert (bars["encoding"]["x"]["field"], bars["encoding"]["x2"]["field"]) == (
        "week",
        "week_end",
    )
    assert bars["encoding"]["y2"] == {"datum": 0}
    opacity = bars["encoding"]["opacity"]
    assert opacity["condition"] == {"test": "datum.partial", "value": 0.45}
    # Ticks on the Mondays the bars start on.
    assert len(bars["encoding"]["x"]["axis"]["values"]) == 2
    assert find(spec, "rule", "mean")["encoding"]["y"]["field"] == "value"


def test_a_week_ending_on_the_last_day_of_data_is_whole() -> None:
    doc = hand_made()
    doc["aging_wip"]["as_of"] = "2024-01-14"  # a Sunday: the week of the 8th is all there
    spec = charts.throughput(doc)
    assert [w["partial"] for w in spec["datasets"]["weeks"]] == [False, False]
    assert "lighter" not in subtitle(spec)


def test_a_window_starting_mid_week_marks_its_first_week() -> None:
    doc = hand_made()
    doc["filter"]["since"] = "2024-01-03"  # a Wednesday: the week of the 1st from its 3rd
    doc["aging_wip"]["as_of"] = "2024-01-14"
    spec = charts.throughput(doc)
    weeks = spec["datasets"]["weeks"]
    assert [(w["partial"], w["counted"]) for w in weeks] == [
        (True, "Jan 3 to Jan 7 (part of the week)"),
        (False, "all 7"),
    ]
    assert spec["title"]["subtitle"][1] == "lighter: part of a week (Jan 3 to Jan 7)"


def test_wip_is_a_daily_step_line() -> None:
    spec = charts.wip(hand_made())
    assert spec["datasets"]["wip"] == [
        {"day": "2024-01-02", "wip": 1},
        {"day": "2024-01-03", "wip": 2},
        {"day": "2024-01-04", "wip": 1},
    ]
    line = find(spec, "line")
    assert line["mark"]["interpolate"] == "step-after"
    assert (line["encoding"]["x"]["field"], line["encoding"]["y"]["field"]) == ("day", "wip")
    assert "peak 2" in subtitle(spec) and "now 2" in subtitle(spec)


# -- aging, distribution, time in state -------------------------------------------------------


def test_aging_dots_by_state_and_age_coloured_by_band() -> None:
    spec = charts.aging_wip(hand_made())
    rows = {r["item_id"]: r for r in spec["datasets"]["aging"]}
    assert rows["C"]["band"] == "above p95" and rows["C"]["age_days"] == 5.0
    assert rows["7"]["band"] == "below p50" and rows["7"]["type"] == "(none)"
    assert all(0 <= r["jitter"] <= 1 for r in rows.values())
    assert charts.aging_wip(hand_made())["datasets"] == spec["datasets"]
    dots = find(spec, "circle")
    assert dots["encoding"]["x"]["field"] == "state"
    assert dots["encoding"]["x"]["scale"]["domain"] == ["Doing", "Review"]  # flow order
    assert dots["encoding"]["y"]["field"] == "age_days"
    assert dots["encoding"]["color"]["scale"]["domain"] == list(theme.AGING_BANDS)
    assert find(spec, "rule")["encoding"]["y"]["field"] == "value"
    assert "1 older than p85" in subtitle(spec)


def test_flow_distribution_shares_by_type() -> None:
    spec = charts.flow_distribution(hand_made())
    assert spec["datasets"]["distribution"] == [
        {"type": "Bug", "set": "Finished", "share": 0.5},
        {"type": "Bug", "set": "In progress", "share": 1.0},
        {"type": "Story", "set": "Finished", "share": 0.5},
        {"type": "Story", "set": "In progress", "share": 0.0},
    ]
    bars = find(spec, "bar")
    assert bars["encoding"]["y"]["field"] == "type"
    assert bars["encoding"]["yOffset"]["field"] == "set"
    assert bars["encoding"]["x"]["axis"]["format"] == "%"


def test_time_in_state_in_flow_order_with_p85_ticks() -> None:
    spec = charts.time_in_state(hand_made(), CATEGORIES)
    assert spec["datasets"]["states"] == [
        {"state": "To Do", "median": 12.0, "p85": 20.0, "items": 3},
        {"state": "Doing", "median": 30.0, "p85": 40.0, "items": 2},
    ]
    assert find(spec, "bar")["encoding"]["x"]["title"] == "Median time in state (hours)"
    assert find(spec, "tick")["encoding"]["x"]["field"] == "p85"


def test_time_in_state_switches_to_days_for_long_stays() -> None:
    doc = hand_made()
    doc["time_in_state_hours"]["Doing"] = {"median": 48.0, "p85": 96.0, "items": 2}
    spec = charts.time_in_state(doc)
    assert spec["datasets"]["states"][1] == {
        "state": "Doing",
        "median": 2.0,
        "p85": 4.0,
        "items": 2,
    }
    assert find(spec, "bar")["encoding"]["x"]["title"] == "Median time in state (days)"


# -- colours ----------------------------------------------------------------------------------


def test_states_of_one_category_get_distinct_shades_of_its_hue() -> None:
    states = [f"Wait {i}" for i in range(9)]
    colours = theme.state_colours(states, dict.fromkeys(states, "waiting"))
    assert len(set(colours)) == 9
    dark, light = theme.CATEGORY_SHADES["waiting"]
    assert dark in colours and light in colours


def test_without_a_workflow_states_get_the_categorical_palette() -> None:
    assert theme.state_colours(["a", "b"], None) == list(theme.CATEGORICAL[:2])
