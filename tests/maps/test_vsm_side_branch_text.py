"""A side branch's figures in the drawing: never cut with an ellipsis, whatever their length or
however crowded the side branches' row; PT and LT go on lines of their own when one line has
no room for both, and the box and its band grow to hold them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import pairwise

from obeya.core.maps.calculations import SIDE_BRANCH_SHARE, calculate
from obeya.core.maps.model import Step, ValueStreamMap
from obeya.render.vsm_svg import render_svg

NS = "{http://www.w3.org/2000/svg}"
CHAR = 0.6  # the drawing's own estimate of a glyph's width, as a share of the font size


def side_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {
        g.get("data-step", ""): g
        for g in root.iter(f"{NS}g")
        if (g.get("class") or "").split() == ["process", "side-branch"]
    }


def own_text(element: ET.Element) -> str:
    """A text's shown content, without its tooltip (a ``<title>`` child before it)."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def box_of(group: ET.Element) -> tuple[float, float, float, float]:
    rect = group.find(f"{NS}rect")
    assert rect is not None
    x, y = float(rect.get("x", "nan")), float(rect.get("y", "nan"))
    return x, y, x + float(rect.get("width", "nan")), y + float(rect.get("height", "nan"))


def span(text: ET.Element) -> tuple[float, float]:
    """A text's left and right, from its anchor and the drawing's estimate of its width."""
    x, size = float(text.get("x", "nan")), float(text.get("font-size", "nan"))
    width = len(own_text(text)) * size * CHAR
    anchor = text.get("text-anchor", "start")
    left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
    return left, left + width


def figure_lines(group: ET.Element) -> list[str]:
    """The box's figure lines, the texts on one baseline joined: ``PT 9.5 h`` from a label
    and its figure."""
    lines: dict[float, list[str]] = {}
    for t in group.iter(f"{NS}text"):
        if t.get("class") != "step-name":
            lines.setdefault(float(t.get("y", "nan")), []).append(own_text(t))
    return [" ".join(parts) for _, parts in sorted(lines.items())]


def in_days(hours: float) -> str:
    """Hours of a day and over as the drawing shows them: days, one decimal under 100 (none
    when it is 0), else none."""
    days = hours / 24
    return f"{days:.1f}".removesuffix(".0") + " d" if days < 100 else f"{days:.0f} d"


def assert_readable(group: ET.Element) -> None:
    """Every figure whole (no ellipsis but in the name) and inside the box."""
    left, top, right, bottom = box_of(group)
    for t in group.iter(f"{NS}text"):
        if t.get("class") != "step-name":
            assert "…" not in own_text(t), own_text(t)
            assert t.find(f"{NS}title") is None  # nothing cut, so no tooltip either
        lo, hi = span(t)
        assert left < lo and hi < right, own_text(t)
        assert top < float(t.get("y", "nan")) < bottom, own_text(t)


def escalation_map() -> ValueStreamMap:
    """Two main steps and, between them, a rare escalation with a long name and a lead time
    whose figure ``PT 0.079 h · LT 9.5 h`` is longer than the side box is wide."""
    steps = (
        Step("Triage", 1, 4, team="Desk"),
        Step(
            "Escalation to the legal department",
            0.0786,
            9.4567,
            team="Legal",
            visit_share=0.026,
        ),
        Step("Resolve", 2, 8, team="Desk"),
    )
    return ValueStreamMap("Helpdesk", steps)


def test_a_side_branch_lead_time_is_shown_in_full_on_its_own_line() -> None:
    vsm = escalation_map()
    assert calculate(vsm).step("Escalation to the legal department").side_branch
    root = ET.fromstring(render_svg(vsm))
    group = side_groups(root)["Escalation to the legal department"]
    # 9.4567 h: under 100, one decimal; 0.0786 h: under 1, two significant digits
    lead, process = f"{round(9.4567, 1)} h", "0.079 h"
    assert lead == "9.5 h"
    texts = [own_text(t) for t in group.iter(f"{NS}text")]
    assert lead in texts and process in texts
    assert figure_lines(group) == ["2.6 % of items", f"PT {process}", f"LT {lead}"]
    assert_readable(group)
    # all at the size the one-line figures had: nothing needed to shrink here
    assert all(float(t.get("font-size", "0")) >= 11 for t in group.iter(f"{NS}text"))
    # only the long name is cut, its full text in the tooltip
    name = next(t for t in group.iter(f"{NS}text") if t.get("class") == "step-name")
    assert own_text(name).endswith("…")
    assert name.findtext(f"{NS}title") == "Escalation to the legal department"


def test_the_taller_side_box_stays_clear_of_the_timeline_under_it() -> None:
    root = ET.fromstring(render_svg(escalation_map()))
    _, _, _, bottom = box_of(side_groups(root)["Escalation to the legal department"])
    waits = [t for t in root.iter(f"{NS}text") if t.get("class") == "wait"]
    assert waits
    # a wait's label over the ladder: its top is a font size over its baseline
    tops = [float(t.get("y", "nan")) - float(t.get("font-size", "nan")) for t in waits]
    assert bottom + 5 < min(tops)
    # the ladder moves down by the extra line, and the drawing grows by as much, against the
    # same map with figures that fit on one line ("PT 1 h · LT 5 h")
    short = ValueStreamMap(
        "Helpdesk",
        tuple(
            Step(s.name, 1, 5, team=s.team, visit_share=s.visit_share) if s.visit_share < 1 else s
            for s in escalation_map().steps
        ),
    )
    short_root = ET.fromstring(render_svg(short))
    assert float(root.get("height", "nan")) == float(short_root.get("height", "nan")) + 15


def test_side_figures_that_fit_on_one_line_keep_it() -> None:
    steps = (
        Step("Build", 2, 10, team="Dev"),
        Step("Security review", 4, 40, team="Sec", visit_share=0.03),
        Step("Deploy", 1, 5, team="Ops"),
    )
    root = ET.fromstring(render_svg(ValueStreamMap("Release", steps)))
    group = side_groups(root)["Security review"]
    assert figure_lines(group) == ["3 % of items", "PT 4 h · LT 1.7 d"]
    assert_readable(group)


def test_every_side_box_splits_its_figures_when_one_must() -> None:
    """One layout for the whole drawing: boxes side by side line their figures up."""
    steps = (
        Step("Build", 2, 10, team="Dev"),
        Step("Security review", 4, 40, team="Sec", visit_share=0.03),
        Step("Legal review", 0.0786, 9.4567, team="Legal", visit_share=0.02),
        Step("Deploy", 1, 5, team="Ops"),
    )
    root = ET.fromstring(render_svg(ValueStreamMap("Release", steps)))
    groups = side_groups(root)
    assert figure_lines(groups["Security review"]) == ["3 % of items", "PT 4 h", "LT 1.7 d"]
    assert figure_lines(groups["Legal review"]) == ["2 % of items", "PT 0.079 h", "LT 9.5 h"]
    assert box_of(groups["Security review"])[3] == box_of(groups["Legal review"])[3]
    for group in groups.values():
        assert_readable(group)


def test_a_crowded_row_of_side_branches_widens_the_drawing_never_cuts_a_figure() -> None:
    """So many side branches leave one main step that their boxes cannot all sit under the
    row at their full width: they narrow, but never under their figures, and the drawing
    widens to hold them side by side; the main line stays where it was."""
    rare = [Step(f"Rare {k}", 123.456 + k, 1234.5 + 100 * k, visit_share=0.0004) for k in range(24)]
    assert all(s.visit_share < SIDE_BRANCH_SHARE for s in rare)
    plain = (Step("Start", 1, 2), Step("End", 1, 2))
    root = ET.fromstring(render_svg(ValueStreamMap("Crowded", (plain[0], *rare, plain[1]))))
    without = ET.fromstring(render_svg(ValueStreamMap("Crowded", plain)))
    width = float(root.get("width", "nan"))
    assert width > float(without.get("width", "nan"))
    groups = side_groups(root)
    assert len(groups) == len(rare)
    boxes = sorted(box_of(g) for g in groups.values())
    assert boxes[0][2] - boxes[0][0] < 138  # narrower than a side box's own width
    assert boxes[0][0] > 0 and boxes[-1][2] < width
    for (_, _, right, _), (left, _, _, _) in pairwise(boxes):
        assert right < left
    for k, step in enumerate(rare):
        group = groups[step.name]
        assert_readable(group)
        assert all(float(t.get("font-size", "0")) >= 11 for t in group.iter(f"{NS}text"))
        assert figure_lines(group) == [
            "< 0.1 % of items",
            f"PT {in_days(123.456 + k)}",
            f"LT {in_days(1234.5 + 100 * k)}",
        ]
    # the main line's boxes keep their places
    main = {
        g.get("data-step"): box_of(g) for g in root.iter(f"{NS}g") if g.get("class") == "process"
    }
    plain_main = {
        g.get("data-step"): box_of(g) for g in without.iter(f"{NS}g") if g.get("class") == "process"
    }
    assert [main[n][:3:2] for n in ("Start", "End")] == [
        plain_main[n][:3:2] for n in ("Start", "End")
    ]
