"""A value stream map drawn as a self-contained SVG in standard VSM notation.

What is drawn, top to bottom:

- the title; the **supplier** (left) and **customer** (right) as factory outlines, the customer
  with the demand and the takt time; **production control** between them, with the map's
  information flows as arrows (electronic: a zig-zag "lightning" arrow; manual: straight);
- one **process box** per step (name, team, people) with its **data box** under it (PT, LT,
  %C&A, utilisation); before each step its **inventory triangle** (when items wait there) and
  the link it is fed by: a striped **push arrow**, a **FIFO lane** or a **supermarket** with a
  **pull circle**;
- **kaizen bursts** on the constraint (above its box) and on the step of the biggest waste
  (under its data box);
- the **timeline ladder**: upper segments are each step's wait (LT − PT plus the inventory
  wait), lower segments its PT, both × the step's visits per item so the rungs are an item's
  time; the totals (lead time, process time, activity ratio, rolled %C&A) sit at its right;
- **side branches**, steps few items visit (:attr:`StepFigures.side_branch`), hang in a band
  under their row as smaller boxes (name, share of items, PT and LT), joined by a dashed
  connector to the main line where they leave it: in the gap before the next main-line step,
  or after the last. They take no place in the row or the ladder, so a rare detour does not
  look like a stage every item goes through; an information flow to one ends where its
  connector leaves the main line. A main-line step that not every item visits says so in its
  data box (``85 % of items``). A side box's PT and LT share a line when every side box has
  room for that, else each has a line of its own, in taller boxes and a taller band.
- **rework loops** (:attr:`ValueStreamMap.rework_loops`) run back over the boxes, in a band
  that is there only when the map has loops: up from the source's box, across and down into
  the target's, with the share (``20 % back``) over them; longer loops over the shorter ones
  they overlap, so that nested loops nest. A loop to another row is a short arrow back at its
  source, ``20 % back to Develop``; a side branch's loop ends where its connector leaves the
  main line.

Up to :data:`MAX_PER_ROW` steps go in one row; more wrap into rows of equal length, joined
by numbered connector circles. No text is smaller than :data:`MIN_FONT` px, and the drawing
says how far a page may shrink it (:data:`LEAST_READABLE`): four steps a row keep it under
1,300 px wide, so that a laptop shows it whole and readable. Text never leaves its box: a step
name too long for its box wraps onto a second line, and a name still too long (there, or in
a smaller box) is cut with an ellipsis, the full text in a ``<title>`` tooltip. Figures are
never cut: a side box is never narrower than its figures, and the drawing widens when a row
has more side boxes than fit under it. All user text is
XML-escaped; the output is deterministic (the same map gives the same bytes), so it can be
snapshot-tested.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from obeya.core.maps.calculations import MapFigures, StepFigures, calculate
from obeya.core.maps.model import InformationFlow, Link, ReworkLoop, ValueStreamMap
from obeya.render import theme
from obeya.render.map_figures import map_share

#: Most steps in one row of the drawing; longer maps wrap into rows of equal length. Four keep
#: the drawing 1,270 px wide: a laptop's page (1,190 px for it at 1,280) shows it at 94 %.
MAX_PER_ROW = 4
#: The least font size in the drawing (px at its own size).
MIN_FONT = 12.0
#: The least size text may be read at: a page may shrink the drawing to LEAST_READABLE /
#: MIN_FONT of its width (the <svg>'s min-width), no further (it scrolls instead).
LEAST_READABLE = 11.0

_WHITE = "#ffffff"
_LINE = theme.INK
_BOX_TINT = "#eff6ff"  # the process box header: a wash of the "active" blue
_WAIT_DARK, _WAIT_LIGHT = theme.CATEGORY_SHADES["waiting"]
_PT_COLOUR = theme.PRIMARY
_BURST_FILL = "#fef08a"
_BURST_STROKE = theme.PERCENTILE_COLOURS[2]  # red
_WASTE_NAMES = {
    "waiting": "waiting",
    "rework": "rework",
    "handoffs": "handoffs",
    "partially_done_work": "partially done work",
}

# Fixed geometry (px at scale 1).
_MARGIN = 20.0
_LEFT = 120.0  # the supplier's column
_RIGHT = 190.0  # the customer's column and the totals
_TOP = 200.0  # title and the top band, above the first row of boxes
_BOX_H = 84.0
_LANE = 66.0  # above each row: information flows and the constraint burst
# Average glyph width as a share of the font size: DejaVu Sans (the PNG's font, and wider
# than a browser's system-ui) averages 0.50-0.59 on mixed-case names, 0.57-0.66 in bold.
_CHAR, _CHAR_BOLD = 0.62, 0.7
_NAME_SIZE, _NAME_LINE = 13.0, 15.0  # a process box's step name, and its second line
_HEAD, _HEAD_TWO = 28.0, 42.0  # a process box's header: one line of name, or two
_BRANCH_BAND = 100.0  # under each row's waste lane when the map has side branches
_SIDE_W, _SIDE_H = 138.0, 60.0  # a side branch's box (narrower when many share a row)
_SIDE_PAD, _SIDE_SIZE = 5.5, 12.0  # a side branch's padding and the size of its figures
_SIDE_LINE = 15.0  # a further line of figures in a side branch's box (and in the band)
_SIDE_GAP = 14.0  # between side branch boxes
_ARROW_DY = 22.0  # the material flow's height in a row, under the top of the boxes
_REWORK = "#b91c1c"  # rework loops: a dark red, apart from the ink of the material flow
_LOOP_BASE, _LOOP_STEP = 14.0, 20.0  # the lowest loop over the boxes' tops; between levels
_LOOP_SIZE = 12.0  # a loop's label
_NOTE_W = 170.0  # most width of a loop's note ("20 % back to Develop") across rows


# ---------------------------------------------------------------------------------------------
# Formatting


def _num(value: float) -> str:
    """A coordinate or count: one decimal at most, no ``.0``, no ``-0``."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def format_hours(hours: float) -> str:
    """A duration with its unit: hours below a day (``0.5 h``, ``8 h``), else calendar days
    of 24 h (``1.7 d``, ``12 d``)."""
    value, unit = (hours, "h") if hours < 24 else (hours / 24, "d")
    if value == 0:
        text = "0"
    elif value < 1:
        text = f"{value:.2g}"
    elif value < 100:
        text = f"{value:.1f}".removesuffix(".0")
    else:
        text = f"{value:.0f}"
    return f"{text} {unit}"


def _count(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def share_text(share: float) -> str | None:
    """How many of the items visit a step, when not all: ``85 % of items``; None at 1 (to
    two decimals), where saying it would only add noise."""
    if round(share, 2) == 1:
        return None
    return f"{'< 0.1 %' if share < 0.001 else map_share(share)} of items"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _text_width(text: str, size: float, bold: bool = False) -> float:
    return len(text) * size * (_CHAR_BOLD if bold else _CHAR)


def _room(width: float, size: float, bold: bool = False) -> int:
    """How many characters fit in ``width`` px at ``size``."""
    return max(1, int(width / (size * (_CHAR_BOLD if bold else _CHAR))))


def _fit(text: str, width: float, size: float, bold: bool = False) -> tuple[str, bool]:
    """``text`` cut to ``width`` px at ``size`` with an ellipsis; whether it was cut."""
    room = _room(width, size, bold)
    if len(text) <= room:
        return text, False
    return text[: max(1, room - 1)].rstrip() + "…", True


def wrap(text: str, width: float, size: float, *, bold: bool = False, lines: int = 2) -> list[str]:
    """``text`` on at most ``lines`` lines of ``width`` px at ``size``, broken between words
    (or after a hyphen or slash); what is left over for the last line is cut with an
    ellipsis (:func:`_fit`). A word longer than a line is cut where the line ends."""
    room = _room(width, size, bold)
    words = [w for w in re.split(r"(?<=[-/])|\s+", text.strip()) if w]
    out: list[str] = []
    current = ""
    while words and len(out) < lines - 1:
        word = words[0]
        glue = "" if not current or current.endswith(("-", "/")) else " "
        if len(current) + len(glue) + len(word) <= room:
            current += glue + word
            words.pop(0)
        elif current:
            out.append(current)
            current = ""
        else:  # a word longer than the line: cut it there
            out.append(word[:room])
            words[0] = word[room:]
    rest = current
    for word in words:
        rest += ("" if not rest or rest.endswith(("-", "/")) else " ") + word
    if rest or not out:
        out.append(_fit(rest, width, size, bold)[0])
    return out


def _name_lines(name: str, width: float = 140.0 - 16) -> list[str]:
    """A process box's step name: one line, or two (:func:`wrap`), at 13 px bold."""
    return wrap(name, width, _NAME_SIZE, bold=True)


# ---------------------------------------------------------------------------------------------
# Layout


@dataclass(frozen=True)
class _Geometry:
    rows: int
    per_row: int
    box_w: float
    gap: float
    scale: float  # spacing scale (1: the fonts no longer shrink with the boxes)
    width: float
    height: float
    data_h: float
    row_h: float
    data_rows: int = 4
    band: float = 0.0  # the side branches' band under each row; 0 without side branches
    loops: float = 0.0  # the rework loops' band over each row's boxes; 0 without loops
    head: float = _HEAD  # a process box's header (taller when a step name takes two lines)

    @property
    def box_h(self) -> float:
        """A process box's height: its header, then team, people."""
        return self.head + _BOX_H - _HEAD

    def column(self, index: int) -> tuple[float, float]:
        """The (left of the gap, top of the box) of step ``index``."""
        row, col = divmod(index, self.per_row)
        x = _MARGIN + _LEFT + col * (self.gap + self.box_w)
        return x, _TOP + _LANE + self.loops + row * self.row_h

    @property
    def rows_right(self) -> float:
        return _MARGIN + _LEFT + self.per_row * (self.gap + self.box_w)


def _geometry(
    n: int,
    *,
    data_rows: int = 4,
    band: float = 0.0,
    loops: float = 0.0,
    least: float = 0.0,
    head: float = _HEAD,
) -> _Geometry:
    """The layout of ``n`` main-line steps; the drawing ``least`` px wide at least."""
    rows = math.ceil(n / MAX_PER_ROW)
    per_row = math.ceil(n / rows)
    box_w, gap, scale = 140.0, 84.0, 1.0
    data_h = data_rows * 16 * scale + 12
    # box, data box, the waste burst lane, side branches, the ladder with its labels, the lane
    # and the rework loops over the next row's boxes
    row_h = head + _BOX_H - _HEAD + data_h + 70 + band + 70 + _LANE + loops
    width = max(least, _MARGIN + _LEFT + per_row * (gap + box_w) + 24 + _RIGHT + _MARGIN)
    height = _TOP + rows * row_h + _MARGIN
    return _Geometry(
        rows, per_row, box_w, gap, scale, width, height, data_h, row_h, data_rows, band, loops, head
    )


# ---------------------------------------------------------------------------------------------
# The drawing


class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, part: str) -> None:
        self.parts.append(part)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float,
        anchor: str = "middle",
        weight: str | None = None,
        colour: str = theme.INK,
        cls: str | None = None,
        halo: bool = False,
        tooltip: str | None = None,
    ) -> None:
        attrs = [f'x="{_num(x)}"', f'y="{_num(y)}"', f'font-size="{_num(size)}"']
        if anchor != "start":
            attrs.append(f'text-anchor="{anchor}"')
        if weight:
            attrs.append(f'font-weight="{weight}"')
        if colour != theme.INK:
            attrs.append(f'fill="{colour}"')
        if cls:
            attrs.append(f'class="{cls}"')
        if halo:
            attrs.append(f'stroke="{_WHITE}" stroke-width="3" paint-order="stroke"')
        inner = _esc(content)
        if tooltip is not None:
            inner = f"<title>{_esc(tooltip)}</title>{inner}"
        self.add(f"<text {' '.join(attrs)}>{inner}</text>")

    def fitted(
        self,
        x: float,
        y: float,
        content: str,
        width: float,
        *,
        size: float,
        anchor: str = "middle",
        weight: str | None = None,
        colour: str = theme.INK,
        cls: str | None = None,
        halo: bool = False,
    ) -> None:
        """Text cut to ``width``; when cut, the full text is the tooltip."""
        shown, cut = _fit(content, width, size)
        self.text(
            x,
            y,
            shown,
            size=size,
            anchor=anchor,
            weight=weight,
            colour=colour,
            cls=cls,
            halo=halo,
            tooltip=content if cut else None,
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, *, extra: str = "") -> None:
        self.add(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            f'stroke="{_LINE}" stroke-width="1.5"{extra}/>'
        )

    def path(self, points: Sequence[tuple[float, float]], *, extra: str = "") -> None:
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{_num(x)},{_num(y)}" for i, (x, y) in enumerate(points)
        )
        self.add(f'<path d="{d}" fill="none" stroke="{_LINE}" stroke-width="1.5"{extra}/>')


_ARROW = ' marker-end="url(#vsm-arrow)"'


def _defs() -> str:
    return (
        "<defs>"
        '<marker id="vsm-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_LINE}"/></marker>'
        '<pattern id="vsm-push" width="8" height="8" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{_WHITE}"/>'
        f'<rect width="4" height="8" fill="{_LINE}"/></pattern>'
        "</defs>"
    )


def _factory(svg: _Svg, x: float, y: float, w: float, h: float, cls: str) -> None:
    """A factory outline (saw-tooth roof and a chimney) in the box x, y, w, h."""
    roof = y + h * 0.35
    tooth = w / 3
    pts = [(x, y + h), (x, roof)]
    for i in range(3):
        pts += [(x + tooth * i + tooth, roof - h * 0.3), (x + tooth * i + tooth, roof)]
    pts[-1] = (x + w, roof - h * 0.3)
    pts += [(x + w, y + h)]
    d = " ".join(f"{_num(px)},{_num(py)}" for px, py in pts)
    svg.add(
        f'<polygon class="{cls}" points="{d}" fill="{_WHITE}" stroke="{_LINE}" '
        'stroke-width="1.5" stroke-linejoin="round"/>'
    )
    # the chimney on the first tooth
    cx = x + tooth * 0.35
    svg.add(
        f'<rect x="{_num(cx)}" y="{_num(y)}" width="{_num(tooth * 0.22)}" '
        f'height="{_num(roof - y - h * 0.1)}" fill="{_WHITE}" stroke="{_LINE}" stroke-width="1.5"/>'
    )


def _person(svg: _Svg, x: float, y: float, s: float) -> None:
    """A small operator icon with its head at x, y."""
    svg.add(
        f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(3.5 * s)}" fill="{theme.MUTED}"/>'
        f'<path d="M{_num(x - 6 * s)},{_num(y + 12 * s)} Q{_num(x)},{_num(y + 1 * s)} '
        f'{_num(x + 6 * s)},{_num(y + 12 * s)} Z" fill="{theme.MUTED}"/>'
    )


def _burst(
    svg: _Svg, cx: float, cy: float, lines: Sequence[str], size: float, kind: str, step: str
) -> None:
    """A kaizen burst: a jagged star around ``lines`` of text."""
    text_w = max(_text_width(t, size) for t in lines)
    rx = text_w / 2 + 22
    ry = len(lines) * size * 1.15 / 2 + 12
    spikes = 14
    pts = []
    for i in range(spikes * 2):
        angle = math.pi * i / spikes - math.pi / 2
        r = 1.0 if i % 2 == 0 else 0.78 + 0.06 * ((i // 2) % 2)
        pts.append(f"{_num(cx + rx * r * math.cos(angle))},{_num(cy + ry * r * math.sin(angle))}")
    svg.add(
        f'<polygon class="kaizen" data-kind="{kind}" data-step="{_esc(step)}" '
        f'points="{" ".join(pts)}" fill="{_BURST_FILL}" stroke="{_BURST_STROKE}" '
        'stroke-width="1.5" stroke-linejoin="round"/>'
    )
    top = cy - (len(lines) - 1) * size * 1.15 / 2 + size * 0.35
    for i, line in enumerate(lines):
        svg.text(cx, top + i * size * 1.15, line, size=size, weight="600" if i == 0 else None)


def _push(svg: _Svg, x1: float, x2: float, y: float) -> None:
    """The striped push arrow from x1 to x2 at height y."""
    head = 11.0
    svg.add(
        f'<g class="link-push"><rect x="{_num(x1)}" y="{_num(y - 4)}" '
        f'width="{_num(max(1.0, x2 - x1 - head))}" height="8" fill="url(#vsm-push)" '
        f'stroke="{_LINE}" stroke-width="1"/>'
        f'<polygon points="{_num(x2 - head)},{_num(y - 9)} {_num(x2)},{_num(y)} '
        f'{_num(x2 - head)},{_num(y + 9)}" fill="{_LINE}"/></g>'
    )


def _fifo(svg: _Svg, x1: float, x2: float, y: float, size: float) -> None:
    """A FIFO lane: two rails with FIFO between them, and the arrow on through."""
    mid = (x1 + x2) / 2
    half = min(26.0, (x2 - x1) / 2 - 8)
    svg.add('<g class="link-fifo">')
    svg.line(x1, y, mid - half, y)
    svg.line(mid + half, y, x2, y, extra=_ARROW)
    svg.line(mid - half, y - 9, mid + half, y - 9)
    svg.line(mid - half, y + 9, mid + half, y + 9)
    svg.text(mid, y + size * 0.35, "FIFO", size=size, weight="600")
    svg.add("</g>")


def _supermarket(svg: _Svg, x1: float, x2: float, y: float) -> None:
    """A supermarket (shelves open towards the supplying step) and a pull circle."""
    w, h = 16.0, 26.0
    sx = x1 + 12
    shelves = [y - h / 2, y, y + h / 2]
    parts = [f"M{_num(sx)},{_num(shelves[0])} L{_num(sx + w)},{_num(shelves[0])}"]
    parts.append(f"L{_num(sx + w)},{_num(shelves[2])} L{_num(sx)},{_num(shelves[2])}")
    parts.append(f"M{_num(sx)},{_num(shelves[1])} L{_num(sx + w)},{_num(shelves[1])}")
    svg.add('<g class="link-supermarket">')
    svg.line(x1, y, sx, y)
    svg.add(f'<path d="{" ".join(parts)}" fill="none" stroke="{_LINE}" stroke-width="2"/>')
    # the pull circle: a circle with a three-quarter arrow inside
    r = 8.0
    cx = sx + w + 6 + r
    svg.add(
        f'<circle class="pull" cx="{_num(cx)}" cy="{_num(y)}" r="{_num(r)}" fill="{_WHITE}" '
        f'stroke="{_LINE}" stroke-width="1.5"/>'
        f'<path d="M{_num(cx + 4.5)},{_num(y)} A4.5,4.5 0 1 1 {_num(cx)},{_num(y - 4.5)}" '
        f'fill="none" stroke="{_LINE}" stroke-width="1.2" marker-end="url(#vsm-arrow)"/>'
    )
    svg.line(cx + r, y, x2, y, extra=_ARROW)
    svg.add("</g>")


def _inventory(svg: _Svg, cx: float, top: float, count: float, s: float) -> None:
    """The inventory triangle with an I in it and the count under it."""
    h = 30 * s
    w = 34 * s
    svg.add(
        f'<polygon class="inventory" points="{_num(cx)},{_num(top)} {_num(cx + w / 2)},'
        f'{_num(top + h)} {_num(cx - w / 2)},{_num(top + h)}" fill="{_WAIT_LIGHT}" '
        f'stroke="{_WAIT_DARK}" stroke-width="1.5" stroke-linejoin="round"/>'
    )
    svg.text(cx, top + h - 5 * s, "I", size=MIN_FONT * s, weight="700", colour=_WAIT_DARK)
    svg.text(cx, top + h + 14 * s, _count(count), size=MIN_FONT * s, cls="inventory-count")


Point = tuple[float, float]


def _along(a: Point, b: Point, t: float) -> Point:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def _zigzag(a: Point, b: Point, at: float = 0.5) -> list[Point]:
    """The electronic "lightning" path from a to b, its kink ``at`` of the way along."""
    (x1, y1), (x2, y2) = a, b
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    dx, dy = (x2 - x1) / length, (y2 - y1) / length
    nx, ny = -dy, dx
    mx, my = _along(a, b, at)
    k = min(7.0, length / 6)
    return [
        a,
        (mx - dx * k + nx * k, my - dy * k + ny * k),
        (mx + dx * k - nx * k, my + dy * k - ny * k),
        b,
    ]


def _label_at(a: Point, b: Point) -> tuple[float, float, str]:
    """Where a flow's label goes on the segment a-b, clear of the line and of its kink: above
    a flat line, else beside a steep one on the side the line leaves from, and its anchor."""
    upper, lower = (a, b) if a[1] <= b[1] else (b, a)
    if abs(b[0] - a[0]) > 6 * abs(b[1] - a[1]):
        x, y = _along(a, b, 0.25)
        return x, y - 7, "middle"
    x, y = _along(upper, lower, 0.62)
    if upper[0] >= x:
        return x - 6, y - 3, "end"
    return x + 6, y - 3, "start"


# ---------------------------------------------------------------------------------------------


def render_svg(
    vsm: ValueStreamMap, figures: MapFigures | None = None, *, title: str | None = None
) -> str:
    """The map as an SVG document (a string), in standard value stream mapping notation.

    ``figures`` are :func:`obeya.core.maps.calculations.calculate` of the map, worked out here
    when not given; ``title`` defaults to the map's name."""
    figs = figures if figures is not None else calculate(vsm)
    main = [k for k, sf in enumerate(figs.steps) if not sf.side_branch]
    if not main:  # only rare steps: there is no main line to hang them on, so they are it
        main = list(range(len(figs.steps)))
    on_line = set(main)
    sides = [k for k in range(len(figs.steps)) if k not in on_line]
    counted = any(share_text(figs.steps[k].visit_share) for k in main)
    data_rows, band_h = 5 if counted else 4, _BRANCH_BAND if sides else 0.0
    # Every process box gets a two-line header when one step's name needs it.
    two = any(len(_name_lines(figs.steps[k].name)) > 1 for k in main)
    head = _HEAD_TWO if two else _HEAD
    g = _geometry(len(main), data_rows=data_rows, band=band_h, head=head)
    # Wide enough for each row's side boxes to hold their figures whole, each on its own line;
    # PT and LT each on a line of its own in every side box when one has no room for both on
    # one line, the band growing by that line (the boxes' widths and places keep).
    least = _side_boxes_width(figs, sides, main, g)
    g = _geometry(len(main), data_rows=data_rows, band=band_h, least=least, head=head)
    split = any(
        _text_width(_side_times(figs.steps[b.index]), _SIDE_SIZE) > b.w - 2 * _SIDE_PAD
        for b in _branches(sides, main, g)
    )
    if split:
        band_h += _SIDE_LINE
        g = _geometry(len(main), data_rows=data_rows, band=band_h, least=least, head=head)
    names = [step.name for step in vsm.steps]
    loops = _plan_loops(vsm.rework_loops, names, main, g)
    if loops:  # their band over the boxes moves the rows down; the x of all stays
        g = _geometry(
            len(main),
            data_rows=data_rows,
            band=band_h,
            loops=_loop_band(loops),
            least=least,
            head=head,
        )
    s = g.scale
    svg = _Svg()
    heading = title if title is not None else vsm.name
    svg.add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(g.width)}" '
        f'height="{_num(g.height)}" viewBox="0 0 {_num(g.width)} {_num(g.height)}" '
        f'style="min-width: {_num(math.ceil(g.width * LEAST_READABLE / MIN_FONT * 10) / 10)}px" '
        f'font-family="{_esc(theme.FONT)}" fill="{theme.INK}" role="img">'
    )
    svg.add(f"<title>{_esc(f'{heading} — value stream map ({vsm.variant})')}</title>")
    svg.add(_defs())
    svg.add(f'<rect width="100%" height="100%" fill="{_WHITE}"/>')

    # Title and subtitle.
    full = g.width - 2 * _MARGIN
    svg.fitted(_MARGIN, 30, heading, full, size=18, anchor="start", weight="600", cls="title")
    sub = [f"{vsm.variant} state", f"{len(vsm.steps)} steps"]
    if sides:
        sub.append(f"{len(sides)} side branch{'es' if len(sides) > 1 else ''}")
    if vsm.source:
        sub.append(f"from {vsm.source}")
    svg.fitted(_MARGIN, 50, " · ".join(sub), full, size=12, anchor="start", colour=theme.MUTED)

    # Top band: supplier, production control, customer.
    band = 66.0
    sup_x = _MARGIN + 10
    svg.add('<g class="supplier">')
    _factory(svg, sup_x, band, 90, 46, "factory")
    svg.fitted(sup_x + 45, band + 62, vsm.supplier, _LEFT - 6, size=12, weight="600")
    svg.text(sup_x + 45, band + 77, "supplier", size=MIN_FONT, colour=theme.MUTED)
    svg.add("</g>")
    cus_cx = g.width - _MARGIN - _RIGHT / 2
    svg.add('<g class="customer">')
    _factory(svg, cus_cx - 45, band, 90, 46, "factory")
    svg.fitted(cus_cx, band + 62, vsm.customer, _RIGHT - 10, size=12, weight="600")
    demand = (
        f"demand {_count(figs.demand_per_day)}/day"
        if figs.demand_per_day is not None
        else "demand not given"
    )
    svg.text(cus_cx, band + 78, demand, size=MIN_FONT, cls="demand")
    if figs.takt_time_hours is not None:
        svg.text(
            cus_cx,
            band + 93,
            f"takt {format_hours(figs.takt_time_hours)}",
            size=MIN_FONT,
            cls="takt",
        )
    svg.add("</g>")
    ctrl_w, ctrl_h = 190.0, 48.0
    ctrl_cx = (_MARGIN + _LEFT + g.rows_right) / 2
    ctrl_x, ctrl_y = ctrl_cx - ctrl_w / 2, band + 4
    svg.add(
        f'<g class="control"><rect x="{_num(ctrl_x)}" y="{_num(ctrl_y)}" width="{_num(ctrl_w)}" '
        f'height="{_num(ctrl_h)}" fill="{_WHITE}" stroke="{_LINE}" stroke-width="1.5"/>'
    )
    svg.text(ctrl_cx, ctrl_y + ctrl_h / 2 + 4.5, "Production control", size=13, weight="600")
    svg.add("</g>")

    # Material flow: supplier down to the first row, the last step across and up to the customer.
    arrow_dy = _ARROW_DY
    first_x, first_y = g.column(0)
    sup_line_x = sup_x + 45
    svg.path(
        [(sup_line_x, band + 84), (sup_line_x, first_y + arrow_dy), (first_x, first_y + arrow_dy)]
    )
    last_x, last_y = g.column(len(main) - 1)
    svg.path(
        [
            (last_x + g.gap + g.box_w, last_y + arrow_dy),
            (cus_cx, last_y + arrow_dy),
            (cus_cx, band + 100),
        ],
        extra=_ARROW,
    )

    # A step far from its capacity is no constraint, though it is the most loaded: its burst
    # says "highest load" and its box is drawn as any other.
    loaded = figs.constraint.step if figs.constraint else None
    u = figs.constraint.utilisation if figs.constraint else None
    constraint = loaded if figs.constraint and figs.constraint.binding else None
    # Side branches first, so the main line's links are drawn over their connectors' tops.
    branches = _branches(sides, main, g)
    for branch in branches:
        sf = figs.steps[branch.index]
        _side_branch(svg, sf, branch, constraint == sf.name, split)
    # Where information flows meet each step, in the map's order: a side branch's is the
    # point its connector leaves the main line.
    anchors = {b.index: (b.anchor[0] - g.box_w / 2, b.anchor[1] - arrow_dy) for b in branches}
    for i, k in enumerate(main):
        col_x, box_y = g.column(i)
        anchors[k] = (col_x + g.gap, box_y)
    boxes = {vsm.steps[k].name: anchors[k] for k in sorted(anchors)}
    waste_step, waste_lines = _biggest_waste(figs, main)
    for i, k in enumerate(main):
        step, sf = vsm.steps[k], figs.steps[k]
        col_x, box_y = g.column(i)
        box_x = col_x + g.gap
        row_start = i % g.per_row == 0
        row_end = (i + 1) % g.per_row == 0 and i + 1 < len(main)
        link_y = box_y + arrow_dy
        in_x = col_x
        if row_start and i > 0:
            _connector(svg, col_x + 4, link_y, i // g.per_row, s)
            in_x = col_x + 4 + 10
        if step.link is Link.FIFO:
            _fifo(svg, in_x, box_x, link_y, MIN_FONT)
        elif step.link is Link.SUPERMARKET:
            _supermarket(svg, in_x, box_x, link_y)
        else:
            _push(svg, in_x + 6, box_x - 2, link_y)
        if sf.inventory_before > 0:
            _inventory(svg, col_x + g.gap / 2, box_y + 40, sf.inventory_before, s)
        _process(svg, step.name, sf, box_x, box_y, g, constraint == step.name)
        if row_end:
            right = box_x + g.box_w
            svg.line(right, link_y, right + 10, link_y)
            _connector(svg, right + 10 + 10, link_y, i // g.per_row + 1, s)
        _ladder(svg, sf, col_x, box_x, box_y, g)
        if loaded == step.name:
            lines = [
                "constraint:" if constraint == step.name else "highest load:",
                f"utilisation {map_share(u)}" if u is not None else "lowest capacity",
            ]
            size = MIN_FONT
            ry = len(lines) * size * 1.15 / 2 + 12
            cy = box_y - g.loops - ry - 2  # over the rework loops
            _burst(svg, box_x + g.box_w / 2, cy, lines, size, "constraint", step.name)
        if waste_step == step.name:
            size = MIN_FONT
            ry = len(waste_lines) * size * 1.15 / 2 + 12
            cy = box_y + g.box_h + g.data_h + 8 + ry
            _burst(svg, box_x + g.box_w / 2, cy, waste_lines, size, "waste", step.name)

    _flows(
        svg, vsm.information_flows, boxes, g, (ctrl_x, ctrl_y, ctrl_w, ctrl_h), sup_x, cus_cx, band
    )
    _rework_loops(svg, loops, g)
    _totals(svg, figs, g, len(main))
    svg.add("</svg>")
    return "\n".join(svg.parts) + "\n"


def _connector(svg: _Svg, x: float, y: float, number: int, s: float) -> None:
    """An off-row connector: a small numbered circle where a row ends and the next begins."""
    svg.add(
        f'<circle class="connector" cx="{_num(x + 10)}" cy="{_num(y)}" r="10" fill="{_WHITE}" '
        f'stroke="{_LINE}" stroke-width="1.5"/>'
    )
    svg.text(x + 10, y + 4, str(number), size=MIN_FONT * s, weight="600")


def _process(
    svg: _Svg, name: str, sf: StepFigures, x: float, y: float, g: _Geometry, constraint: bool
) -> None:
    s = g.scale
    w = g.box_w
    pad = 8 * s
    svg.add(f'<g class="process" data-step="{_esc(name)}">')
    stroke = _BURST_STROKE if constraint else _LINE
    head, box_h = g.head, g.box_h
    svg.add(
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(box_h)}" '
        f'fill="{_WHITE}" stroke="{stroke}" stroke-width="{2 if constraint else 1.5}"/>'
        f'<rect x="{_num(x + 0.75)}" y="{_num(y + 0.75)}" width="{_num(w - 1.5)}" '
        f'height="{_num(head - 1)}" fill="{_BOX_TINT}"/>'
        f'<line x1="{_num(x)}" y1="{_num(y + head)}" x2="{_num(x + w)}" y2="{_num(y + head)}" '
        f'stroke="{stroke}" stroke-width="1"/>'
    )
    # The name on one line, or two, centred in the header; cut (full name in the tooltip)
    # only when two lines are not enough.
    lines = _name_lines(name, w - 2 * pad)
    first = y + head / 2 + 4.5 - (len(lines) - 1) * _NAME_LINE / 2
    cut = " ".join(lines) != " ".join(name.split())
    for k, line in enumerate(lines):
        svg.text(
            x + w / 2,
            first + k * _NAME_LINE,
            line,
            size=_NAME_SIZE,
            weight="600",
            cls="step-name",
            tooltip=name if cut else None,
        )
    below = y + head - _HEAD  # the team and people keep their places under the header
    if sf.team:
        svg.fitted(x + w / 2, below + 46, sf.team, w - 2 * pad, size=MIN_FONT, colour=theme.MUTED)
    _person(svg, x + w / 2 - 10 * s, below + 60, s)
    svg.text(
        x + w / 2 + 4 * s,
        below + 72,
        _count(sf.people),
        size=MIN_FONT,
        anchor="start",
        cls="people",
    )
    # the data box under the process box
    top = y + box_h
    svg.add(
        f'<rect class="data-box" x="{_num(x)}" y="{_num(top)}" width="{_num(w)}" '
        f'height="{_num(g.data_h)}" fill="{_WHITE}" stroke="{_LINE}" stroke-width="1"/>'
    )
    rows = [
        ("PT", format_hours(sf.process_time_hours)),
        ("LT", format_hours(sf.lead_time_hours)),
        ("%C&A", map_share(sf.complete_accurate)),
        ("Util", map_share(sf.utilisation)),
    ]
    lh = 16 * s
    for k, (label, value) in enumerate(rows):
        ty = top + 6 + lh * (k + 1) - 4 * s
        svg.text(x + pad, ty, label, size=MIN_FONT, anchor="start", colour=theme.MUTED)
        svg.text(x + w - pad, ty, value, size=MIN_FONT, anchor="end", cls=f"data-{k}")
    visits = share_text(sf.visit_share)
    if g.data_rows > len(rows) and visits is not None:
        ty = top + 6 + lh * (len(rows) + 1) - 4 * s
        svg.fitted(x + w / 2, ty, visits, w - 2 * pad, size=MIN_FONT, weight="600", cls="visits")
    svg.add("</g>")


def _ladder(
    svg: _Svg, sf: StepFigures, col_x: float, box_x: float, box_y: float, g: _Geometry
) -> None:
    """This step's rungs of the timeline: the wait over the gap, the PT under the box, each
    × its visits per item, as the totals weigh them."""
    s = g.scale
    up = box_y + g.box_h + g.data_h + 70 + g.band + 24
    down = up + 26
    visits = sf.visit_share
    wait = (sf.wait_hours + (sf.inventory_wait_hours or 0.0)) * visits
    right = box_x + g.box_w
    svg.add('<g class="timeline">')
    svg.path([(col_x, down), (col_x, up), (box_x, up), (box_x, down), (right, down)])
    svg.add(
        f'<line x1="{_num(col_x)}" y1="{_num(up)}" x2="{_num(box_x)}" y2="{_num(up)}" '
        f'stroke="{_WAIT_DARK}" stroke-width="4"/>'
        f'<line x1="{_num(box_x)}" y1="{_num(down)}" x2="{_num(right)}" y2="{_num(down)}" '
        f'stroke="{_PT_COLOUR}" stroke-width="4"/>'
    )
    svg.text((col_x + box_x) / 2, up - 7, format_hours(wait), size=MIN_FONT, cls="wait")
    svg.text(
        (box_x + right) / 2,
        down + 16 * s,
        format_hours(sf.process_time_hours * visits),
        size=MIN_FONT,
        cls="pt",
    )
    svg.add("</g>")


def _totals(svg: _Svg, figs: MapFigures, g: _Geometry, n: int) -> None:
    last_x, last_y = g.column(n - 1)
    del last_x
    x = g.width - _MARGIN - _RIGHT
    up = last_y + g.box_h + g.data_h + 70 + g.band + 24
    top = up - 34
    rows = [
        ("Lead time", format_hours(figs.lead_time_hours), "lead_time"),
        ("Process time", format_hours(figs.process_time_hours), "process_time"),
        ("Activity ratio", map_share(figs.activity_ratio), "activity_ratio"),
        ("Rolled %C&A", map_share(figs.rolled_complete_accurate), "rolled_complete_accurate"),
    ]
    h = 16.0 * len(rows) + 14
    svg.add(
        f'<g class="totals"><rect x="{_num(x)}" y="{_num(top)}" width="{_num(_RIGHT)}" '
        f'height="{_num(h)}" fill="{_WHITE}" stroke="{_LINE}" stroke-width="1.5"/>'
    )
    for k, (label, value, key) in enumerate(rows):
        ty = top + 20 + 16 * k
        svg.text(x + 8, ty, label, size=MIN_FONT, anchor="start", colour=theme.MUTED)
        svg.add(
            f'<text x="{_num(x + _RIGHT - 8)}" y="{_num(ty)}" font-size="{_num(MIN_FONT)}" '
            f'text-anchor="end" font-weight="600" class="total" data-figure="{key}">'
            f"{_esc(value)}</text>"
        )
    svg.add("</g>")


def _biggest_waste(figs: MapFigures, main: Sequence[int]) -> tuple[str | None, list[str]]:
    """The main-line step that carries most of the biggest waste category (each step's share
    × its visits, as the category's total is summed), and its burst's text."""
    category = figs.waste.biggest
    if category is None:
        return None, []

    def share(sf: StepFigures) -> float:
        if category == "waiting":
            return sf.wait_hours
        if category == "rework":
            return sf.process_time_hours * (1 / sf.complete_accurate - 1)
        if category == "handoffs":
            return sf.handoffs
        return sf.inventory_wait_hours or 0.0

    # max() keeps the first of equals
    top = max((figs.steps[k] for k in main), key=lambda sf: sf.visit_share * share(sf))
    hours = figs.waste.category(category).hours_per_item
    return top.name, [
        "biggest waste:",
        _WASTE_NAMES.get(category, category),
        f"{format_hours(hours)} per item",
    ]


@dataclass(frozen=True)
class _Branch:
    """Where a side branch is drawn: ``anchor`` is where it leaves the main line, the box is
    ``x``, ``y`` (its top), ``w`` wide; ``rail`` is the height its connector runs across at."""

    index: int  # in the map's steps
    anchor: Point
    rail: float
    x: float
    y: float
    w: float


def _leaves_at(k: int, main: Sequence[int], g: _Geometry) -> tuple[int, Point]:
    """Where side branch ``k`` leaves the main line: the main-line position whose row it is
    in, and the x there with the top of that row's boxes. In the gap before the next
    main-line step, clear of its triangle and the waste burst, or right of the last one."""
    after = sum(1 for m in main if m < k)  # the next main-line step, in main order
    if after < len(main):
        col_x, box_y = g.column(after)
        return after, (col_x + g.gap - 19 * g.scale, box_y)
    col_x, box_y = g.column(len(main) - 1)
    return len(main) - 1, (col_x + g.gap + g.box_w + 19 * g.scale, box_y)


def _branches(sides: Sequence[int], main: Sequence[int], g: _Geometry) -> list[_Branch]:
    """Each side branch's place: its connector leaves the main line in the gap before the
    next main-line step (past the triangle and the waste burst's reach), or right of the last
    one; its box hangs in the band of that step's row, centred under the connector when there
    is room, else pushed aside in order so that no boxes overlap. Branches leaving at the
    same point share their connector's rail; neighbouring points' rails run at different
    heights (three in turn), so that a rail never reads as another's."""
    rows: dict[float, list[tuple[int, Point]]] = {}
    for k in sides:
        _, (x, box_y) = _leaves_at(k, main, g)
        rows.setdefault(box_y, []).append((k, (x, box_y + _ARROW_DY)))
    placed: list[_Branch] = []
    lo, hi = _MARGIN, g.width - _MARGIN
    for box_y, row in rows.items():
        band_top = box_y + g.box_h + g.data_h + 70
        n = len(row)
        w = min(_SIDE_W, (hi - lo - (n - 1) * _SIDE_GAP) / n)
        lefts = [anchor[0] - w / 2 for _, anchor in row]
        for j in range(n):  # left to right: clear of the margin and the box before
            lefts[j] = max(lefts[j], lo if j == 0 else lefts[j - 1] + w + _SIDE_GAP)
        for j in reversed(range(n)):  # right to left: clear of the margin and the box after
            lefts[j] = min(lefts[j], hi - w if j == n - 1 else lefts[j + 1] - w - _SIDE_GAP)
        points = list(dict.fromkeys(anchor for _, anchor in row))
        placed += [
            _Branch(
                k, anchor, band_top + 3 + 5 * (points.index(anchor) % 3), left, band_top + 20, w
            )
            for (k, anchor), left in zip(row, lefts, strict=True)
        ]
    return placed


def _side_times(sf: StepFigures) -> str:
    """A side branch's PT and LT on one line."""
    return f"PT {format_hours(sf.process_time_hours)} · LT {format_hours(sf.lead_time_hours)}"


def _side_boxes_width(
    figs: MapFigures, sides: Sequence[int], main: Sequence[int], g: _Geometry
) -> float:
    """How wide the drawing must be for the side boxes of its most crowded row to sit side by
    side, each as wide as the widest of any side box's figure lines (its share of items, PT
    and LT each on a line of its own), so that no figure is cut; a name may still be, its
    full text in the tooltip. 0 without side branches."""
    if not sides:
        return 0.0
    widest = max(
        _text_width(line, _SIDE_SIZE)
        for sf in (figs.steps[k] for k in sides)
        for line in (
            share_text(sf.visit_share) or "",
            f"PT {format_hours(sf.process_time_hours)}",
            f"LT {format_hours(sf.lead_time_hours)}",
        )
    )
    box = min(_SIDE_W, widest + 2 * _SIDE_PAD + 1)  # a pixel to spare for rounding
    per_row: dict[int, int] = {}
    for k in sides:
        row = _leaves_at(k, main, g)[0] // g.per_row
        per_row[row] = per_row.get(row, 0) + 1
    n = max(per_row.values())
    return 2 * _MARGIN + n * box + (n - 1) * _SIDE_GAP


def _side_branch(svg: _Svg, sf: StepFigures, b: _Branch, constraint: bool, split: bool) -> None:
    """A side branch: its dashed connector from the main line and its smaller box with the
    name, the share of items that visit it, and its PT and LT per visit: on one line, or
    when ``split`` each on its own, the label left and the figure right as in a data box.
    The box is wide enough for each of these lines (:func:`_side_boxes_width`), so no figure
    is cut."""
    w, pad = b.w, _SIDE_PAD
    h = _SIDE_H + (_SIDE_LINE if split else 0.0)
    ax, ay = b.anchor
    stroke = _BURST_STROKE if constraint else _LINE
    svg.add(f'<g class="process side-branch" data-step="{_esc(sf.name)}">')
    if constraint:
        svg.add(f"<title>{_esc(f'{sf.name}: the constraint')}</title>")
    svg.add(
        f'<rect x="{_num(b.x)}" y="{_num(b.y)}" width="{_num(w)}" height="{_num(h)}" '
        f'fill="{_WHITE}" stroke="{stroke}" stroke-width="{2 if constraint else 1.2}"/>'
        f'<rect x="{_num(b.x + 0.6)}" y="{_num(b.y + 0.6)}" width="{_num(w - 1.2)}" '
        f'height="21" fill="{_BOX_TINT}"/>'
        f'<line x1="{_num(b.x)}" y1="{_num(b.y + 22)}" x2="{_num(b.x + w)}" '
        f'y2="{_num(b.y + 22)}" stroke="{stroke}" stroke-width="1"/>'
    )
    svg.path(
        [(ax, ay), (ax, b.rail), (b.x + w / 2, b.rail), (b.x + w / 2, b.y)],
        extra=' stroke-dasharray="5 4" class="branch-connector"',
    )
    cx = b.x + w / 2
    svg.fitted(cx, b.y + 16, sf.name, w - 2 * pad, size=12, weight="600", cls="step-name")
    share, size = share_text(sf.visit_share) or "", _SIDE_SIZE
    svg.text(cx, b.y + 37, share, size=size, weight="600", cls="visits")
    if not split:
        svg.text(cx, b.y + 52, _side_times(sf), size=size, colour=theme.MUTED, cls="side-times")
    else:
        figures = [("PT", sf.process_time_hours), ("LT", sf.lead_time_hours)]
        for k, (label, hours) in enumerate(figures):
            ty = b.y + 52 + _SIDE_LINE * k
            svg.text(b.x + pad, ty, label, size=size, anchor="start", colour=theme.MUTED)
            value = format_hours(hours)
            svg.text(b.x + w - pad, ty, value, size=size, anchor="end", cls="side-times")
    svg.add("</g>")


# ---------------------------------------------------------------------------------------------
# Rework loops


@dataclass(frozen=True)
class _Site:
    """Where loops meet a step: its row, the x span their ends share (a box's top, or the
    point where a side branch leaves the main line: left == right) and how far under the
    row's box tops the ends are (on a box's top, or on the main line's arrow)."""

    row: int
    left: float
    right: float
    dy: float

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


@dataclass(frozen=True)
class _Loop:
    """A rework loop's place: its level over the row (1: nearest the boxes), the x where it
    leaves its source and where it reaches its target; ``note`` when it is drawn as a short
    arrow with the target's name at the source, the target being in another row."""

    loop: ReworkLoop
    source: _Site
    target: _Site
    note: bool
    label: str
    level: int
    start: float
    end: float


class _Span(NamedTuple):
    """A loop before its level: its ends' sites and the x span it takes, label included."""

    loop: ReworkLoop
    source: _Site
    target: _Site
    note: bool
    label: str
    lo: float
    hi: float


def _site(k: int, main: Sequence[int], g: _Geometry) -> _Site:
    """The site of step ``k``: its box on the main line, or a side branch's leaving point."""
    if k in main:
        i = main.index(k)
        col_x, _ = g.column(i)
        return _Site(i // g.per_row, col_x + g.gap, col_x + g.gap + g.box_w, 0.0)
    i, (x, _) = _leaves_at(k, main, g)
    return _Site(i // g.per_row, x, x, _ARROW_DY - 6)


def _loop_label(loop: ReworkLoop, note: bool) -> str:
    # Moves back per item: a share up to 1 (20 % back), more than one a count ("1.7× back",
    # items sent back again and again), never a share over 100 %.
    share = f"{map_share(loop.share)} back" if loop.share <= 1 else f"{loop.share:.2g}× back"
    return f"{share} to {loop.target}" if note else share


def _plan_loops(
    loops: Sequence[ReworkLoop], names: Sequence[str], main: Sequence[int], g: _Geometry
) -> list[_Loop]:
    """Each loop's level and ends. Levels go by span (label included), shortest first, each
    one over every shorter loop it overlaps in its row, so nested loops nest and no two
    labels meet. At a site, loops leaving (heading left) take the left part of the box and
    arriving ones the right part, the outer ones on the inside, so that no loop's leg
    crosses another's line at the box."""
    index = {name: k for k, name in enumerate(names)}
    items: list[_Span] = []
    for loop in loops:
        src, tgt = _site(index[loop.source], main, g), _site(index[loop.target], main, g)
        note = src.row != tgt.row or src.centre <= tgt.centre
        label = _loop_label(loop, note)
        width = _text_width(_fit(label, _NOTE_W, _LOOP_SIZE)[0], _LOOP_SIZE)
        if note:
            lo, hi = src.left - width - 16, src.centre
        else:
            mid = (src.centre + tgt.centre) / 2
            lo, hi = min(tgt.centre, mid - width / 2 - 4), max(src.centre, mid + width / 2 + 4)
        items.append(_Span(loop, src, tgt, note, label, lo, hi))
    levels: dict[int, int] = {}
    for j in sorted(range(len(items)), key=lambda j: (items[j].hi - items[j].lo, j)):
        it = items[j]
        below = [
            levels[o]
            for o in levels
            if items[o].source.row == it.source.row and items[o].lo < it.hi and it.lo < items[o].hi
        ]
        levels[j] = 1 + max(below, default=0)
    ends: dict[tuple[int, int], float] = {}  # (item, 0: start, 1: end) -> x
    by_site: dict[tuple[int, float, bool], list[int]] = {}
    for j, it in enumerate(items):
        by_site.setdefault((it.source.row, it.source.left, True), []).append(j)
        if not it.note:
            by_site.setdefault((it.target.row, it.target.left, False), []).append(j)
    for (_, _, leaving), group in by_site.items():
        group.sort(key=lambda j: (levels[j], j))  # inner first
        site = items[group[0]].source if leaving else items[group[0]].target
        for pos, x in zip(group, _slots(site, len(group), leaving), strict=True):
            ends[pos, 0 if leaving else 1] = x
    return [
        _Loop(
            it.loop,
            it.source,
            it.target,
            it.note,
            it.label,
            levels[j],
            ends[j, 0],
            it.lo + 4 if it.note else ends[j, 1],
        )
        for j, it in enumerate(items)
    ]


def _slots(site: _Site, n: int, leaving: bool) -> list[float]:
    """The x of ``n`` loop ends at a site, inner loop first: leaving ones on the left part,
    the outer further right; arriving ones on the right part, the outer further left."""
    step = 12.0  # an arrowhead's width and a little
    w = site.right - site.left
    if w:
        centre = site.left + w * (0.27 if leaving else 0.73)
    else:
        centre = site.left + (-1 if leaving else 1) * (4 + (n - 1) * step / 2)
    sign = 1 if leaving else -1
    return [centre + sign * (j - (n - 1) / 2) * step for j in range(n)]


def _loop_band(placed: Sequence[_Loop]) -> float:
    """The band over each row's boxes the loops need: their levels and the top one's label."""
    levels = max((p.level for p in placed), default=0)
    return _LOOP_BASE - 2 + _LOOP_STEP * levels if levels else 0.0


def _rework_loops(svg: _Svg, placed: Sequence[_Loop], g: _Geometry) -> None:
    """Each rework loop as a right-angled arrow back over the boxes, up from its source, across
    at its level and down into its target, its share over it; across rows, a short arrow
    heading back from the source with the share and the target's name over it."""
    if not placed:
        return
    svg.add(
        '<g class="rework-loops"><defs>'
        '<marker id="vsm-rework" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_REWORK}"/></marker></defs>'
    )
    for p in placed:
        top = g.column(p.source.row * g.per_row)[1]
        y = top - _LOOP_BASE - (p.level - 1) * _LOOP_STEP
        pts: list[Point] = [(p.start, top + p.source.dy), (p.start, y), (p.end, y)]
        if not p.note:
            pts.append((p.end, top + p.target.dy))
        svg.add(
            f'<g class="rework-loop" data-from="{_esc(p.loop.source)}" '
            f'data-to="{_esc(p.loop.target)}">'
        )
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{_num(x)},{_num(py)}" for i, (x, py) in enumerate(pts)
        )
        svg.add(
            f'<path d="{d}" fill="none" stroke="{_REWORK}" stroke-width="1.5" '
            'stroke-linejoin="round" marker-end="url(#vsm-rework)"/>'
        )
        svg.fitted(
            (p.start + p.end) / 2,
            y - 4,
            p.label,
            _NOTE_W,
            size=_LOOP_SIZE,
            weight="600",
            colour=_REWORK,
            cls="rework-share",
            halo=True,
        )
        svg.add("</g>")
    svg.add("</g>")


def _flows(
    svg: _Svg,
    flows: Sequence[InformationFlow],
    boxes: dict[str, tuple[float, float]],
    g: _Geometry,
    ctrl: tuple[float, float, float, float],
    sup_x: float,
    cus_cx: float,
    band: float,
) -> None:
    """The information flows, each from its source's anchor to its target's."""
    ctrl_x, ctrl_y, ctrl_w, ctrl_h = ctrl
    # Flows between control and the steps leave the control box's bottom edge spread out in
    # the order of the steps, so they do not cross.
    order = {name: k for k, name in enumerate(boxes)}
    down = sorted(
        (f for f in flows if "control" in (f.source, f.target) and _other(f, "control") in boxes),
        key=lambda f: order[_other(f, "control")],
    )
    spread = min(26.0, (ctrl_w - 20) / max(1, len(down)))
    ctrl_anchor = {
        id(f): (ctrl_x + ctrl_w / 2 + (k - (len(down) - 1) / 2) * spread, ctrl_y + ctrl_h)
        for k, f in enumerate(down)
    }
    at_step: dict[str, int] = {}

    def anchor(flow: InformationFlow, end: str, other: str) -> tuple[float, float]:
        if end == "control":
            if id(flow) in ctrl_anchor:
                return ctrl_anchor[id(flow)]
            if other == "customer":
                return ctrl_x + ctrl_w, ctrl_y + ctrl_h / 2
            if other == "supplier":
                return ctrl_x, ctrl_y + ctrl_h / 2
            return ctrl_x + ctrl_w / 2, ctrl_y
        if end == "customer":
            return (
                (cus_cx - 45, band + 30)
                if other in {"control", "supplier"}
                else (cus_cx - 30, band + 46)
            )
        if end == "supplier":
            return (
                (sup_x + 90, band + 30)
                if other in {"control", "customer"}
                else (sup_x + 70, band + 46)
            )
        x, y = boxes[end]
        k = at_step.get(end, 0)
        at_step[end] = k + 1
        offset = (k - 1) * 16 * (1 if k % 2 else -1) if k else 0
        return x + g.box_w / 2 + offset, y

    first_row_y = g.column(0)[1]
    svg.add('<g class="information-flows">')
    for flow in flows:
        a = anchor(flow, flow.source, flow.target)
        b = anchor(flow, flow.target, flow.source)
        kind = "electronic" if flow.electronic else "manual"
        svg.add(f'<g class="flow flow-{kind}">')
        if flow.source in boxes and flow.target in boxes:
            # between two steps: up into the lane above the boxes, across and down
            lane = min(a[1], b[1]) - g.loops - 22
            ends = (a[0], lane), (b[0], lane)
            middle = _zigzag(*ends, at=0.6) if flow.electronic else list(ends)
            pts = [a, *middle, b]
            lx, ly, where = (a[0] + b[0]) / 2, lane - 7, "middle"
        else:
            # A step in a lower row is reached down the gap before it, not across the rows
            # above: the line runs to the top of that gap, down it, and across to the box.
            lower = flow.target if flow.target in boxes else flow.source
            tail: list[Point] = []
            if lower in boxes and boxes[lower][1] > first_row_y:
                box_x, box_y = boxes[lower]
                near, far = (b, a) if lower == flow.target else (a, b)
                gap_x = box_x - g.gap * 0.85
                lane = box_y - g.loops - 24  # over the row's rework loops
                tail = [(gap_x, lane), (near[0], lane), near]
                far_end = (gap_x, first_row_y - g.loops - 34)
                a, b = (far, far_end) if lower == flow.target else (far_end, far)
            pts = _zigzag(a, b, at=0.5 if abs(b[0] - a[0]) > 2 * abs(b[1] - a[1]) else 0.35)
            pts = pts if flow.electronic else [a, b]
            # A step's end is reckoned from over the rework loops, as the burst there is, so
            # that the label keeps where it is without loops.
            lift = 0.0 if tail else g.loops
            la = (a[0], a[1] - lift) if flow.source in boxes else a
            lb = (b[0], b[1] - lift) if flow.target in boxes else b
            lx, ly, where = _label_at(la, lb)
            if tail:
                pts = [*pts, *tail] if lower == flow.target else [*reversed(tail), *pts]
        svg.path(pts, extra=_ARROW)
        if flow.label:
            svg.fitted(
                lx, ly, flow.label, 150, size=MIN_FONT, anchor=where, halo=True, cls="flow-label"
            )
        svg.add("</g>")
    svg.add("</g>")


def _other(flow: InformationFlow, end: str) -> str:
    return flow.target if flow.source == end else flow.source
