"""The value stream map drawing: well-formed SVG in VSM notation, escaped, readable at 3 and 25
steps, and byte-for-byte equal to a golden file (``OBEYA_UPDATE_SNAPSHOTS=1`` rewrites it)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from obeya.core.maps.calculations import calculate
from obeya.core.maps.model import InformationFlow, Link, Step, ValueStreamMap
from obeya.render.map_figures import map_share
from obeya.render.vsm_svg import format_hours, render_svg

NS = "{http://www.w3.org/2000/svg}"
SNAPSHOTS = Path(__file__).parent / "snapshots"
CHAR = 0.6  # the drawing's own estimate of a glyph's width, as a share of the font size


def five_steps() -> ValueStreamMap:
    """The five-step software map of ``test_calculations`` (constraint Review, biggest waste
    partially done work at Analyse), with a FIFO lane, a supermarket and information flows."""
    steps = (
        Step("Analyse", 1, 9, 0.8, team="Product", inventory_before=8, handoffs=1),
        Step("Develop", 8, 40, 0.8, team="Dev", people=5, inventory_before=4, handoffs=1),
        Step(
            "Review",
            2,
            20,
            0.5,
            team="Dev",
            availability=0.8,
            inventory_before=6,
            handoffs=1,
            link=Link.FIFO,
        ),
        Step(
            "Test",
            3,
            24,
            0.75,
            team="QA",
            people=2,
            inventory_before=2,
            handoffs=1,
            link=Link.SUPERMARKET,
        ),
        Step("Deploy", 0.5, 4, team="Ops", availability=0.5, capacity_per_day=10, handoffs=2),
    )
    flows = (
        InformationFlow("customer", "control", "feature requests"),
        InformationFlow("control", "Analyse", "weekly priorities", electronic=False),
        InformationFlow("control", "Develop", "sprint backlog"),
        InformationFlow("Deploy", "control", "release notes"),
    )
    return ValueStreamMap(
        "Software delivery",
        steps,
        demand_per_day=4,
        hourly_cost=100,
        information_flows=flows,
        source="sample",
    )


def many_steps(n: int) -> ValueStreamMap:
    links = (Link.PUSH, Link.FIFO, Link.SUPERMARKET)
    steps = tuple(
        Step(
            f"Step {i} with a rather long name that cannot fit" if i % 5 == 0 else f"Step {i}",
            1 + i % 3,
            10 + i,
            0.9,
            team="A team whose name is long as well",
            inventory_before=i % 3,
            link=links[i % 3],
        )
        for i in range(n)
    )
    flows = tuple(
        InformationFlow("control", steps[i].name, "plan", electronic=i % 2 == 0)
        for i in range(0, n, 4)
    )
    return ValueStreamMap(f"{n} steps", steps, demand_per_day=3, information_flows=flows)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in root.iter(f"{NS}text")]


def own_text(element: ET.Element) -> str:
    """A text element's shown text, without its <title> tooltip."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def test_the_drawing_is_well_formed_svg_with_a_view_box() -> None:
    root = parse(render_svg(five_steps()))
    assert root.tag == f"{NS}svg"
    assert root.get("viewBox", "").startswith("0 0 ")
    # self-contained: no scripts, no external references, a system font stack
    svg = render_svg(five_steps())
    assert "<script" not in svg and "http://" not in svg.replace(NS[1:-1], "")
    assert "sans-serif" in (root.get("font-family") or "")


def test_a_process_box_with_its_data_box_per_step() -> None:
    vsm = five_steps()
    figures = calculate(vsm)
    root = parse(render_svg(vsm, figures))
    boxes = [g for g in root.iter(f"{NS}g") if g.get("class") == "process"]
    assert [g.get("data-step") for g in boxes] == [s.name for s in vsm.steps]
    for box, sf in zip(boxes, figures.steps, strict=True):
        shown = texts(box)
        assert sf.name in shown
        assert sf.team in shown
        assert format_hours(sf.process_time_hours) in shown
        assert format_hours(sf.lead_time_hours) in shown
        assert map_share(sf.complete_accurate) in shown
        assert map_share(sf.utilisation) in shown
        assert box.find(f"{NS}rect[@class='data-box']") is not None
    review = next(g for g in boxes if g.get("data-step") == "Review")
    assert {"PT", "LT", "%C&A", "Util", "2 h", "20 h", "50 %", "125 %"} <= set(texts(review))


def test_inventory_triangles_links_and_ends() -> None:
    vsm = five_steps()
    root = parse(render_svg(vsm))
    triangles = [p for p in root.iter(f"{NS}polygon") if p.get("class") == "inventory"]
    assert len(triangles) == sum(1 for s in vsm.steps if s.inventory_before > 0) == 4
    counts = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "inventory-count"]
    assert counts == ["8", "4", "6", "2"]
    classes = [g.get("class") for g in root.iter(f"{NS}g")]
    assert classes.count("link-push") == 3
    assert classes.count("link-fifo") == 1
    assert classes.count("link-supermarket") == 1
    assert sum(1 for c in root.iter(f"{NS}circle") if c.get("class") == "pull") == 1
    assert {"supplier", "customer", "control"} <= set(classes)
    shown = texts(root)
    assert {"Requesters", "Customers", "demand 4/day", "takt 2 h", "Production control"} <= set(
        shown
    )
    assert "FIFO" in shown


def test_information_flows_are_drawn_and_labelled() -> None:
    root = parse(render_svg(five_steps()))
    flows = [g for g in root.iter(f"{NS}g") if (g.get("class") or "").startswith("flow ")]
    kinds = [g.get("class") for g in flows]
    assert kinds.count("flow flow-electronic") == 3
    assert kinds.count("flow flow-manual") == 1
    labels = {t for g in flows for t in texts(g)}
    assert labels == {"feature requests", "weekly priorities", "sprint backlog", "release notes"}
    # the manual flow is one straight segment; an electronic one has its zig-zag
    manual = next(g for g in flows if g.get("class") == "flow flow-manual")
    path = manual.find(f"{NS}path")
    assert path is not None and path.get("d", "").count("L") == 1
    electronic = flows[0].find(f"{NS}path")
    assert electronic is not None and electronic.get("d", "").count("L") == 3


def test_kaizen_bursts_on_the_constraint_and_the_biggest_waste() -> None:
    vsm = five_steps()
    figures = calculate(vsm)
    root = parse(render_svg(vsm, figures))
    bursts = {
        p.get("data-kind"): p.get("data-step")
        for p in root.iter(f"{NS}polygon")
        if p.get("class") == "kaizen"
    }
    assert figures.constraint is not None
    assert bursts == {"constraint": "Review", "waste": "Analyse"}
    assert bursts["constraint"] == figures.constraint.step
    shown = texts(root)
    assert "utilisation 125 %" in shown and "constraint:" in shown
    assert "partially done work" in shown
    assert (
        f"{format_hours(figures.waste.category('partially_done_work').hours_per_item)} per item"
        in (shown)
    )


def test_timeline_shows_waits_process_times_and_the_totals_of_the_figures() -> None:
    vsm = five_steps()
    figures = calculate(vsm)
    root = parse(render_svg(vsm, figures))
    totals = {
        t.get("data-figure"): t.text for t in root.iter(f"{NS}text") if t.get("class") == "total"
    }
    assert totals == {
        "lead_time": format_hours(figures.lead_time_hours),
        "process_time": format_hours(figures.process_time_hours),
        "activity_ratio": map_share(figures.activity_ratio),
        "rolled_complete_accurate": map_share(figures.rolled_complete_accurate),
    }
    assert totals == {
        "lead_time": "9 d",  # 217 h
        "process_time": "14.5 h",
        "activity_ratio": "6.68 %",  # 14.5 / 217, three significant digits as on the page
        "rolled_complete_accurate": "24 %",
    }
    waits = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "wait"]
    pts = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "pt"]
    # wait = LT − PT + inventory ÷ demand × 24 h: 8+48, 32+24, 18+36, 21+12, 3.5
    assert waits == ["2.3 d", "2.3 d", "2.2 d", "1.4 d", "3.5 h"]  # 56, 56, 54, 33, 3.5 h
    assert pts == ["1 h", "8 h", "2 h", "3 h", "0.5 h"]


def test_user_text_is_escaped() -> None:
    vsm = ValueStreamMap(
        'Map "A" <&>',
        (
            Step("<R&D>", 1, 2, team="Q&A <team>", inventory_before=1),
            Step("Ship 'it'", 1, 2),
        ),
        supplier="<script>alert(1)</script>",
        customer="A & B",
        information_flows=(InformationFlow("control", "<R&D>", "<b>plan</b> & more"),),
    )
    svg = render_svg(vsm, title="Title <&>")
    assert "<R&D>" not in svg and "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    shown = texts(root)
    assert "<R&D>" in shown and "Q&A <team>" in shown and "A & B" in shown
    assert "Title <&>" in shown
    assert "<b>plan</b> & more" in shown
    assert [g.get("data-step") for g in root.iter(f"{NS}g") if g.get("class") == "process"] == [
        "<R&D>",
        "Ship 'it'",
    ]


def test_a_map_without_demand_or_waste_still_draws() -> None:
    vsm = ValueStreamMap("Plain", (Step("Only", 0, 0),))
    root = parse(render_svg(vsm))
    shown = texts(root)
    assert "demand not given" in shown
    assert not [p for p in root.iter(f"{NS}polygon") if p.get("class") == "kaizen"]
    assert "—" in shown  # unknown utilisation


def extent(element: ET.Element) -> tuple[float, float, float]:
    """A text's left, right and baseline, with the drawing's own width estimate."""
    x, y = float(element.get("x", "0")), float(element.get("y", "0"))
    size = float(element.get("font-size", "12"))
    width = len(own_text(element)) * size * CHAR
    anchor = element.get("text-anchor", "start")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return left, left + width, y


@pytest.mark.parametrize("n", [1, 3, 9, 10, 12, 25])
def test_text_stays_in_the_view_box_and_in_its_box(n: int) -> None:
    vsm = many_steps(n)
    root = parse(render_svg(vsm))
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    for element in root.iter(f"{NS}text"):
        left, right, y = extent(element)
        assert left >= 0 and right <= width, own_text(element)
        assert 0 < y <= height, own_text(element)
    boxes = [g for g in root.iter(f"{NS}g") if g.get("class") == "process"]
    assert len(boxes) == n
    for box in boxes:
        rect = box.find(f"{NS}rect")
        assert rect is not None
        x0 = float(rect.get("x", "0"))
        x1 = x0 + float(rect.get("width", "0"))
        for element in box.iter(f"{NS}text"):
            left, right, _ = extent(element)
            assert x0 < left and right < x1, own_text(element)
    # long names are cut with an ellipsis, the full name in a tooltip
    names = [t for t in root.iter(f"{NS}text") if t.get("class") == "step-name"]
    long = [t for t in names if own_text(t).endswith("…")]
    assert long and all((t.findtext(f"{NS}title") or "").endswith("cannot fit") for t in long)


def test_many_steps_wrap_into_rows_of_at_most_four() -> None:
    # 25 steps, four a row at most (a laptop shows such a row unshrunk): 7 rows, of 4 (7 × 4
    # = 28 places for 25), and the same at every count of rows.
    root = parse(render_svg(many_steps(25)))
    boxes = [g for g in root.iter(f"{NS}g") if g.get("class") == "process"]
    tops = sorted({float(b.find(f"{NS}rect").get("y", "0")) for b in boxes})  # type: ignore[union-attr]
    assert len(tops) == 7
    connectors = [c for c in root.iter(f"{NS}circle") if c.get("class") == "connector"]
    assert len(connectors) == 12  # six row ends, six row starts


def test_the_drawing_matches_the_golden_file() -> None:
    svg = render_svg(five_steps())
    golden = SNAPSHOTS / "vsm_five_steps.svg"
    if os.environ.get("OBEYA_UPDATE_SNAPSHOTS") == "1":
        golden.write_text(svg, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing; run with OBEYA_UPDATE_SNAPSHOTS=1 to write it"
    assert svg == golden.read_text(encoding="utf-8"), (
        "the drawing changed; look at it, then run with OBEYA_UPDATE_SNAPSHOTS=1"
    )


def test_the_same_map_gives_the_same_bytes() -> None:
    assert render_svg(five_steps()) == render_svg(five_steps(), calculate(five_steps()))


def test_a_most_loaded_step_far_from_capacity_is_not_drawn_as_the_constraint() -> None:
    """The same map at a fifth of the demand: Review is at 1.25 ÷ 5 = 25 % (the most loaded),
    under the 80 % of a constraint, so its burst says "highest load", not "constraint"."""
    from dataclasses import replace

    vsm = five_steps()
    assert vsm.demand_per_day is not None
    light = replace(vsm, demand_per_day=vsm.demand_per_day / 5)
    figures = calculate(light)
    assert figures.constraint is not None and figures.constraint.step == "Review"
    assert figures.constraint.utilisation == pytest.approx(0.25)
    root = parse(render_svg(light, figures))
    shown = texts(root)
    assert "highest load:" in shown and "constraint:" not in shown
    assert "utilisation 25 %" in shown
