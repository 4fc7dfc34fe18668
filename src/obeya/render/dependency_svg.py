"""A plan's dependency graph drawn as a self-contained SVG (no Graphviz).

Tasks are boxes in columns by depth: a task sits one column right of the deepest task it
depends on, so every arrow points right, from the provider to the task waiting for it. The
reported critical path runs along the top row; the other tasks of a column are ordered by
the mean row of their dependencies (fewer crossings), then by early start and plan order.
Each box shows the id and name, the team (its colour in the stripe on the left), the
duration with early start → early finish, and the total slack; with a need-by date, the date,
in red when the early finish misses it. Critical tasks and the arrows between them are red.

All user text is XML-escaped and the output is deterministic (the same plan gives the same
bytes).
"""

from __future__ import annotations

import html
from datetime import date
from fractions import Fraction

from obeya.core.steering.dependencies import Schedule, TaskTimes, finish_date
from obeya.render import theme

_CRITICAL = theme.PERCENTILE_COLOURS[2]  # red
_WHITE = "#ffffff"
_MARGIN = 24.0
_TOP = 70.0
_BOX_W = 210.0
_BOX_H = 100.0
_GAP_X = 70.0
_GAP_Y = 26.0
_STRIPE = 7.0
_CHAR = 0.6


def _num(value: float) -> str:
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _days(value: Fraction | float) -> str:
    """Days for a label: whole days plainly, else up to two decimals."""
    number = float(value)
    if number == int(number):
        return f"{int(number)}"
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _fit(text: str, width: float, size: float) -> str:
    room = max(1, int(width / (size * _CHAR)))
    return text if len(text) <= room else text[: max(1, room - 1)].rstrip() + "…"


def _layout(sched: Schedule) -> dict[str, tuple[int, int]]:
    """Per task, its (column, row)."""
    depth: dict[str, int] = {}
    for t in sched.times:  # topological order
        depth[t.task.id] = 1 + max((depth[d] for d in t.task.depends_on), default=-1)
    on_path = set(sched.critical_path)
    position = {t.id: i for i, t in enumerate(sched.plan.tasks)}
    columns: dict[int, list[TaskTimes]] = {}
    for t in sched.times:
        columns.setdefault(depth[t.task.id], []).append(t)
    place: dict[str, tuple[int, int]] = {}
    for col in sorted(columns):
        rows_of_deps = {
            t.task.id: [place[d][1] for d in t.task.depends_on if d in place] for t in columns[col]
        }

        def key(t: TaskTimes, rows: dict[str, list[int]] = rows_of_deps) -> tuple[float, ...]:
            deps = rows[t.task.id]
            mean = sum(deps) / len(deps) if deps else 0.0
            return (
                0 if t.task.id in on_path else 1,
                mean,
                float(t.early_start),
                position[t.task.id],
            )

        for row, t in enumerate(sorted(columns[col], key=key)):
            place[t.task.id] = (col, row)
    return place


def dependency_svg(sched: Schedule) -> str:
    """The dependency graph of a scheduled plan as SVG text (see the module docstring)."""
    place = _layout(sched)
    columns = 1 + max(c for c, _ in place.values())
    rows = 1 + max(r for _, r in place.values())
    teams = sched.plan.teams
    # Team colours leave out red, which marks the critical path.
    palette = [c for c in theme.CATEGORICAL if c != _CRITICAL]
    colour = {team: palette[i % len(palette)] for i, team in enumerate(teams)}
    width = 2 * _MARGIN + columns * _BOX_W + (columns - 1) * _GAP_X
    legend_y = _TOP + rows * (_BOX_H + _GAP_Y) + 8
    height = legend_y + 40
    width = max(width, 2 * _MARGIN + 150 + 130 * len(teams))

    def box(task_id: str) -> tuple[float, float]:
        col, row = place[task_id]
        return _MARGIN + col * (_BOX_W + _GAP_X), _TOP + row * (_BOX_H + _GAP_Y)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" '
        f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'font-family="{_esc(theme.FONT)}" class="dependency-graph">',
        f'<rect width="{_num(width)}" height="{_num(height)}" fill="{_WHITE}"/>',
        "<defs>"
        + "".join(
            f'<marker id="dep-arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" '
            f'fill="{fill}"/></marker>'
            for name, fill in (("plain", theme.MUTED), ("critical", _CRITICAL))
        )
        + "</defs>",
    ]
    path_text = " → ".join(sched.critical_path)
    title = f"{sched.plan.name}: {_days(sched.duration)} days"
    if sched.end is not None and sched.plan.start is not None:
        title += f" ({sched.plan.start.isoformat()} to {sched.end.isoformat()})"
    parts.append(
        f'<text x="{_num(_MARGIN)}" y="30" font-size="18" font-weight="600" '
        f'fill="{theme.INK}">{_esc(title)}</text>'
    )
    parts.append(
        f'<text x="{_num(_MARGIN)}" y="52" font-size="13" fill="{_CRITICAL}">'
        f"{_esc('Critical path: ' + path_text)}</text>"
    )

    # Arrows first, the critical ones last so that they lie on top; boxes over all of them.
    by_id = sched.by_id
    on_path = list(zip(sched.critical_path, sched.critical_path[1:], strict=False))
    edges = [(d, t.task.id) for t in sched.times for d in t.task.depends_on]
    edges.sort(key=lambda e: e in on_path)
    parts.append('<g class="arrows">')
    for provider, waiting in edges:
        p, w = by_id[provider], by_id[waiting]
        critical = (provider, waiting) in on_path or (
            p.critical and w.critical and p.early_finish == w.early_start
        )
        x1, y1 = box(provider)
        x2, y2 = box(waiting)
        ax, ay = x1 + _BOX_W, y1 + _BOX_H / 2
        bx, by = x2 - 2, y2 + _BOX_H / 2
        bend = max(30.0, (bx - ax) / 2)
        stroke, name, thick = (
            (_CRITICAL, "critical", "2.5") if critical else (theme.MUTED, "plain", "1.3")
        )
        parts.append(
            f'<path class="dependency{" critical" if critical else ""}" '
            f'data-from="{_esc(provider)}" data-to="{_esc(waiting)}" '
            f'd="M{_num(ax)},{_num(ay)} C{_num(ax + bend)},{_num(ay)} '
            f'{_num(bx - bend)},{_num(by)} {_num(bx)},{_num(by)}" fill="none" '
            f'stroke="{stroke}" stroke-width="{thick}" marker-end="url(#dep-arrow-{name})"/>'
        )
    parts.append("</g>")

    start = sched.plan.start
    parts.append('<g class="tasks">')
    for t in sched.times:
        x, y = box(t.task.id)
        parts.append(_task_box(t, x, y, colour[t.task.team], start))
    parts.append("</g>")

    # Legend: the critical path and the team colours.
    lx = _MARGIN
    parts.append(
        f'<g class="legend"><line x1="{_num(lx)}" y1="{_num(legend_y)}" x2="{_num(lx + 26)}" '
        f'y2="{_num(legend_y)}" stroke="{_CRITICAL}" stroke-width="2.5"/>'
        f'<text x="{_num(lx + 32)}" y="{_num(legend_y + 4)}" font-size="12" '
        f'fill="{theme.INK}">critical (slack 0)</text>'
    )
    lx += 150
    for team in teams:
        parts.append(
            f'<rect x="{_num(lx)}" y="{_num(legend_y - 6)}" width="12" height="12" '
            f'fill="{colour[team]}"/><text x="{_num(lx + 18)}" y="{_num(legend_y + 4)}" '
            f'font-size="12" fill="{theme.INK}">{_esc(_fit(team, 100, 12))}</text>'
        )
        lx += 130
    parts.append("</g></svg>")
    return "\n".join(parts) + "\n"


def _task_box(t: TaskTimes, x: float, y: float, team_colour: str, start: date | None) -> str:
    task = t.task
    stroke, thick = (_CRITICAL, "2.5") if t.critical else (theme.MUTED, "1.2")
    inner = _BOX_W - _STRIPE - 14
    tx = x + _STRIPE + 8
    lines: list[tuple[str, str | None, str]] = [
        (_fit(f"{task.id} · {task.team}", inner, 13), "600", team_colour),
        (_fit(task.name or "", inner, 11.5), None, theme.MUTED),
        (
            f"{_days(task.duration_days)} d · day {_days(t.early_start)} → {_days(t.early_finish)}",
            None,
            theme.INK,
        ),
        (f"slack {_days(t.total_slack)} d", "600" if t.critical else None, stroke),
    ]
    if task.need_by is not None:
        done = None if start is None else finish_date(start, t.early_start, t.early_finish)
        late = 0 if done is None else (done - task.need_by).days
        text = f"need by {task.need_by.isoformat()}" + (f" ({late} d late)" if late > 0 else "")
        lines.append((text, "600" if late > 0 else None, _CRITICAL if late > 0 else theme.INK))
    tooltip = f"{task.id}: {task.name or ''} ({task.team}), slack {_days(t.total_slack)} d"
    out = [
        f'<g class="task{" critical" if t.critical else ""}" data-id="{_esc(task.id)}">'
        f"<title>{_esc(tooltip)}</title>",
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(_BOX_W)}" height="{_num(_BOX_H)}" '
        f'rx="6" fill="{_WHITE}" stroke="{stroke}" stroke-width="{thick}"/>',
        f'<rect x="{_num(x + 1)}" y="{_num(y + 1)}" width="{_num(_STRIPE)}" '
        f'height="{_num(_BOX_H - 2)}" rx="3" fill="{team_colour}"/>',
    ]
    for i, (text, weight, fill) in enumerate(lines):
        size = 13 if i == 0 else 11.5
        weight_attr = f' font-weight="{weight}"' if weight else ""
        out.append(
            f'<text x="{_num(tx)}" y="{_num(y + 19 + i * 17)}" font-size="{_num(size)}"'
            f'{weight_attr} fill="{fill}">{_esc(text)}</text>'
        )
    out.append("</g>")
    return "".join(out)
