"""Rework loops in the value stream map drawing: an arrow back from the source's box to the
target's, over the boxes, with its share; nested loops apart; across rows a note at the
source; a map without loops drawn as before (the golden file of ``test_vsm_svg``)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from obeya.core.maps.calculations import calculate
from obeya.core.maps.model import InformationFlow, ReworkLoop, Step, ValueStreamMap
from obeya.render.vsm_svg import render_svg

NS = "{http://www.w3.org/2000/svg}"
CHAR = 0.6  # the drawing's own estimate of a glyph's width, as a share of the font size

Box = tuple[float, float, float]  # left, right, top


def three_steps(*loops: ReworkLoop) -> ValueStreamMap:
    steps = (
        Step("Build", 4, 16, 0.8, team="Dev", inventory_before=2),
        Step("Test", 2, 10, 0.8, team="QA", inventory_before=1),
        Step("Deploy", 1, 3, team="Ops"),
    )
    flows = (
        InformationFlow("control", "Build", "plan"),
        InformationFlow("control", "Test", "test plan", electronic=False),
    )
    return ValueStreamMap(
        "Delivery", steps, demand_per_day=2, information_flows=flows, rework_loops=loops
    )


def boxes(root: ET.Element) -> dict[str, Box]:
    """Each main-line step's box: its left, right and top."""
    found: dict[str, Box] = {}
    for g in root.iter(f"{NS}g"):
        if g.get("class") == "process":
            rect = g.find(f"{NS}rect")
            assert rect is not None
            x, w, y = (float(rect.get(a, "nan")) for a in ("x", "width", "y"))
            found[g.get("data-step", "")] = (x, x + w, y)
    return found


def loop(root: ET.Element, source: str, target: str) -> ET.Element:
    found = [
        g
        for g in root.iter(f"{NS}g")
        if g.get("class") == "rework-loop"
        and g.get("data-from") == source
        and g.get("data-to") == target
    ]
    assert len(found) == 1, f"no single loop {source} -> {target}"
    return found[0]


def points(group: ET.Element) -> list[tuple[float, float]]:
    path = group.find(f"{NS}path")
    assert path is not None and "url(#" in path.get("marker-end", "")
    return [
        (float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", path.get("d", ""))
    ]


def label(group: ET.Element) -> ET.Element:
    text = group.find(f"{NS}text")
    assert text is not None
    return text


def own_text(element: ET.Element) -> str:
    return (element.text or "") + "".join(child.tail or "" for child in element)


def bbox(text: ET.Element) -> tuple[float, float, float, float]:
    """A text's left, right, top and bottom, with the drawing's own width estimate."""
    x, y = float(text.get("x", "0")), float(text.get("y", "0"))
    size = float(text.get("font-size", "12"))
    width = len(own_text(text)) * size * CHAR
    left = {"start": x, "middle": x - width / 2, "end": x - width}[text.get("text-anchor", "start")]
    return left, left + width, y - size * 0.8, y + size * 0.25


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def test_a_loop_goes_back_over_the_boxes_from_its_source_to_its_target() -> None:
    root = ET.fromstring(render_svg(three_steps(ReworkLoop("Test", "Build", 0.2))))
    at = boxes(root)
    group = loop(root, "Test", "Build")
    path = points(group)
    (x0, y0), (x1, y1) = path[0], path[-1]
    assert at["Test"][0] <= x0 <= at["Test"][1]
    assert at["Build"][0] <= x1 <= at["Build"][1]  # the arrowhead
    top = min(box[2] for box in at.values())
    assert y0 == y1 == top  # from the source's top to the target's
    assert all(y <= top for _, y in path)
    assert min(y for _, y in path) < top - 10  # up and over, not along the tops
    share = label(group)
    assert own_text(share) == "20 % back"
    assert float(share.get("font-size", "0")) >= 11
    _, _, _, bottom = bbox(share)
    assert bottom <= top
    # no other text meets the label
    others = [t for t in root.iter(f"{NS}text") if t is not share]
    assert not [own_text(t) for t in others if overlap(bbox(share), bbox(t))]


def test_nested_loops_nest_and_their_labels_keep_apart() -> None:
    loops = (ReworkLoop("Deploy", "Build", 0.1), ReworkLoop("Test", "Build", 0.2))
    root = ET.fromstring(render_svg(three_steps(*loops)))
    outer, inner = loop(root, "Deploy", "Build"), loop(root, "Test", "Build")
    o, i = points(outer), points(inner)
    # the longer loop runs higher, and its ends are outside the shorter one's
    assert min(y for _, y in o) < min(y for _, y in i)
    assert o[-1][0] < i[-1][0] and i[0][0] < o[0][0]
    assert own_text(label(outer)) == "10 % back" and own_text(label(inner)) == "20 % back"
    assert not overlap(bbox(label(outer)), bbox(label(inner)))
    # no two texts of the drawing meet: the flows' labels and the burst moved up alike
    shown = list(root.iter(f"{NS}text"))
    assert not [
        (own_text(a), own_text(b))
        for k, a in enumerate(shown)
        for b in shown[k + 1 :]
        if overlap(bbox(a), bbox(b))
    ]


def test_loops_make_room_over_the_boxes_and_move_the_rest_down_alike() -> None:
    plain = render_svg(three_steps())
    looped = render_svg(three_steps(ReworkLoop("Test", "Build", 0.2)))
    assert "rework" not in plain
    a, b = ET.fromstring(plain), ET.fromstring(looped)
    shift = boxes(b)["Build"][2] - boxes(a)["Build"][2]
    assert shift > 0
    assert float(b.get("height", "0")) - float(a.get("height", "0")) == shift
    # the constraint burst stays over the loops
    top = boxes(b)["Build"][2]
    burst = [p for p in b.iter(f"{NS}polygon") if p.get("data-kind") == "constraint"]
    ys = [float(v) for v in re.findall(r",(-?[\d.]+)", burst[0].get("points", ""))]
    assert max(ys) < min(y for _, y in points(loop(b, "Test", "Build"))) - 10 < top


def many_steps(n: int) -> ValueStreamMap:
    steps = tuple(Step(f"Step {i}", 1, 10, 0.9) for i in range(n))
    return ValueStreamMap(f"{n} steps", steps, demand_per_day=3)


def test_a_loop_across_rows_is_a_note_at_its_source() -> None:
    vsm = replace(
        many_steps(12),
        rework_loops=(
            ReworkLoop("Step 8", "Step 3", 0.2),
            ReworkLoop("Step 11", "Step 9", 0.5),
            ReworkLoop("Step 10", "Step 9", 0.1),
        ),
    )
    root = ET.fromstring(render_svg(vsm))
    at = boxes(root)
    assert at["Step 8"][2] > at["Step 3"][2]  # two rows
    note = loop(root, "Step 8", "Step 3")
    path = points(note)
    assert at["Step 8"][0] <= path[0][0] <= at["Step 8"][1]
    assert path[-1][0] < path[0][0] and all(y <= at["Step 8"][2] for _, y in path)
    assert own_text(label(note)) == "20 % back to Step 3"
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    shares = [t for t in root.iter(f"{NS}text") if t.get("class") == "rework-share"]
    assert len(shares) == 3
    for share in shares:
        left, right, top, bottom = bbox(share)
        assert left >= 0 and right <= width and top > 0 and bottom <= height
        others = [t for t in root.iter(f"{NS}text") if t is not share]
        assert not [own_text(t) for t in others if overlap(bbox(share), bbox(t))]


def test_a_loop_from_a_side_branch_leaves_where_its_connector_does() -> None:
    steps = (
        Step("Build", 2, 10, team="Dev"),
        Step("Security review", 4, 40, team="Sec", visit_share=0.03),
        Step("Deploy", 1, 5, team="Ops"),
    )
    vsm = ValueStreamMap(
        "Release", steps, rework_loops=(ReworkLoop("Security review", "Build", 0.4),)
    )
    root = ET.fromstring(render_svg(vsm))
    at = boxes(root)
    connector = next(p for p in root.iter(f"{NS}path") if p.get("class") == "branch-connector")
    leaves = float(connector.get("d", "").split()[0][1:].split(",")[0])
    path = points(loop(root, "Security review", "Build"))
    assert at["Build"][1] < path[0][0] < at["Deploy"][0]  # in the gap, at the connector
    assert abs(path[0][0] - leaves) <= 12
    assert at["Build"][0] <= path[-1][0] <= at["Build"][1]
    assert own_text(label(loop(root, "Security review", "Build"))) == "40 % back"


def test_a_loop_sending_items_back_more_than_once_says_how_many_times() -> None:
    """1.69 moves back per item (a ping-pong) is "1.7× back", not "169 % back"."""
    vsm = ValueStreamMap(
        name="Ping-pong",
        steps=(Step("Assign", 1, 2), Step("Work", 2, 4)),
        rework_loops=(ReworkLoop("Work", "Assign", 1.69),),
        demand_per_day=2,
    )
    root = ET.fromstring(render_svg(vsm, calculate(vsm)))
    shown = " ".join(t.text or "" for t in root.iter(f"{NS}text"))
    assert "1.7× back" in shown and "169 %" not in shown
