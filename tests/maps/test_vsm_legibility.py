"""The value stream map is readable on a laptop: no text under 11 px as the page shows it,
no step name cut without its full text in a tooltip, no text line wider than its box.

"As the page shows it": the map and compare pages put the drawing in a card of the page's
width and shrink it to fit (``max-width: 100%``), but never under the <svg>'s ``min-width``.
At a 1,280 px laptop the card holds 1,280 − 15 (scroll bar) − 48 (page padding) − 24 (card
padding) − 2 (border) = 1,191 px (src/obeya/web/static/obeya.css). Widths are estimated as
``len × size × 0.62`` (0.70 in bold); and measured too with DejaVu Sans, the PNG's font (its
files in obeya/render/fonts), which is wider than a browser's system-ui.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
from PIL import ImageFont

from obeya.core.maps.discovery import discover_with_twin
from obeya.core.maps.model import Step, ValueStreamMap
from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap, read_events
from obeya.render.raster import FONTS, svg_to_png
from obeya.render.vsm_svg import render_svg

from support import SAMPLES

NS = "{http://www.w3.org/2000/svg}"
LAPTOP_CARD = 1280 - 15 - 48 - 24 - 2
CHAR, CHAR_BOLD = 0.62, 0.70
LONG_NAME = "Second-level investigation by the application support team (EU)"
assert len(LONG_NAME) == 63


@cache
def sample_map() -> ValueStreamMap:
    """The bundled sample's map as `obeya map discover` makes it (with its twin)."""
    log = read_events(
        SAMPLES / "bpic2013_incidents_transitions.csv.gz",
        columns=ColumnMap(item_id="case_id", state="status", assignee="resource", team="group"),
    )
    workflow = Workflow.from_toml(SAMPLES / "bpic2013_workflow.toml")
    discovery, twin = discover_with_twin(log, workflow)
    return discovery.to_map("VINST incidents", twin)


def long_name_map() -> ValueStreamMap:
    steps = (
        Step("Triage", 1, 4, team="Service desk"),
        Step(LONG_NAME, 2, 30, team="Application support", inventory_before=3),
        Step("Close", 0.5, 2, team="Service desk"),
    )
    return ValueStreamMap("Incidents", steps, demand_per_day=5)


def own_text(element: ET.Element) -> str:
    return (element.text or "") + "".join(child.tail or "" for child in element)


def shown_scale(root: ET.Element, card: float = LAPTOP_CARD) -> float:
    """How much the page shrinks the drawing in a card ``card`` px wide."""
    width = float(root.get("width", "nan"))
    least = re.fullmatch(r"min-width: ([\d.]+)px", root.get("style", ""))
    assert least, "the drawing says how far it may shrink"
    return min(1.0, max(card, float(least[1])) / width)


@cache
def dejavu(bold: bool, size: float) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(FONTS) / name), size)


def boxes(root: ET.Element) -> list[tuple[ET.Element, float, float]]:
    """Each process box (main line and side branch): its group, its left and right."""
    found = []
    for group in root.iter(f"{NS}g"):
        if "process" in (group.get("class") or "").split():
            rect = group.find(f"{NS}rect")
            assert rect is not None
            left = float(rect.get("x", "nan"))
            found.append((group, left, left + float(rect.get("width", "nan"))))
    return found


def span(text: ET.Element, width: float) -> tuple[float, float]:
    x = float(text.get("x", "nan"))
    anchor = text.get("text-anchor", "start")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return left, left + width


@pytest.mark.parametrize("which", ["sample", "long name"])
def test_every_text_is_11_px_or_more_on_a_laptop(which: str) -> None:
    vsm = sample_map() if which == "sample" else long_name_map()
    root = ET.fromstring(render_svg(vsm))
    scale = shown_scale(root)
    sizes = [float(t.get("font-size", "nan")) for t in root.iter(f"{NS}text")]
    assert sizes and min(sizes) * scale >= 11, (min(sizes), scale)
    # and at any width: shrunk to its min-width, the smallest text is still 11 px
    assert min(sizes) * shown_scale(root, card=300) >= 11 - 1e-9


@pytest.mark.parametrize("which", ["sample", "long name"])
def test_no_text_line_is_wider_than_its_box(which: str) -> None:
    vsm = sample_map() if which == "sample" else long_name_map()
    root = ET.fromstring(render_svg(vsm))
    checked = 0
    for group, left, right in boxes(root):
        for text in group.iter(f"{NS}text"):
            content, size = own_text(text), float(text.get("font-size", "nan"))
            bold = text.get("font-weight") in ("600", "700", "bold")
            estimated = len(content) * size * (CHAR_BOLD if bold else CHAR)
            measured = dejavu(bold, size).getlength(content)
            for width in (estimated, measured):
                lo, hi = span(text, width)
                assert left < lo and hi < right, (content, width, left, right)
            checked += 1
    assert checked > 10


def test_a_long_step_name_wraps_and_its_full_text_is_the_tooltip() -> None:
    root = ET.fromstring(render_svg(long_name_map()))
    group = next(g for g, _, _ in boxes(root) if g.get("data-step") == LONG_NAME)
    lines = [t for t in group.iter(f"{NS}text") if t.get("class") == "step-name"]
    shown = [own_text(t) for t in lines]
    # Two lines of at most int(124 / (13 × 0.7)) = 13 characters, broken between words; 63
    # characters cannot fit in 26, so the second line ends with an ellipsis.
    assert len(shown) == 2
    assert shown[0] == "Second-level"
    assert shown[1].endswith("…") and LONG_NAME.startswith(f"{shown[0]} {shown[1][:-1]}")
    assert all(len(line) <= 13 for line in shown)
    assert all(t.findtext(f"{NS}title") == LONG_NAME for t in lines)
    # a name that fits keeps one line and has no tooltip
    triage = next(g for g, _, _ in boxes(root) if g.get("data-step") == "Triage")
    names = [t for t in triage.iter(f"{NS}text") if t.get("class") == "step-name"]
    assert [own_text(t) for t in names] == ["Triage"] and names[0].find(f"{NS}title") is None


def test_every_cut_text_carries_its_full_text() -> None:
    for vsm in (sample_map(), long_name_map()):
        root = ET.fromstring(render_svg(vsm))
        for text in root.iter(f"{NS}text"):
            if own_text(text).endswith("…"):
                full = text.findtext(f"{NS}title")
                assert full and len(full) > len(own_text(text)) - 1, own_text(text)


def test_the_png_export_still_draws_the_wrapped_map() -> None:
    svg = render_svg(long_name_map())
    png = svg_to_png(svg)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    root = ET.fromstring(svg)
    width = int.from_bytes(png[16:20], "big")
    assert width == int(float(root.get("width", "nan")))
