"""The value stream review report: one stream at a glance, as a self-contained HTML page (print
CSS, the chart as inline SVG, no script) or as a PDF (fpdf2, the chart as a PNG).

Both are drawn from the overview document, :meth:`~obeya.workspace.Workspace.overview`
(the same document the overview page and the API show), so the report never computes a figure
of its own; this module only formats. Charts are drawn in-process by vl-convert.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import jinja2

from obeya.render import numbers
from obeya.render.numbers import DASH, count, metric_value, share, signed_share, significant
from obeya.render.parts import Spec
from obeya.render.series import throughput

Doc = Mapping[str, Any]


#: The report's chart size in pixels: a drawing has no container to fill.
CHART_WIDTH, CHART_HEIGHT = 860, 240


def throughput_chart(overview: Doc, *, width: int | str = "container") -> Spec:
    """Items finished per ISO week (the dashboard's throughput chart); ``width`` in pixels
    for a drawing (SVG, PNG), "container" on a page."""
    spec = throughput(overview["flow"])
    if width != "container":
        spec = {**spec, "width": width, "height": CHART_HEIGHT}
    return spec


def _number(value: float | None, digits: int = 1) -> str:
    """Up to ``digits`` decimals, trailing zeros dropped (5.4, 4, 2.25)."""
    return numbers.number(value, digits, trim=True)


def figures(overview: Doc) -> list[dict[str, str]]:
    """The headline figures: label, value and unit (formatted for reading)."""
    flow = overview["flow"]
    items = flow.get("items") or {}
    cycle = flow.get("cycle_time_days") or {}
    summary = overview["risks"]["summary"]
    shown: list[dict[str, str]] = [
        {"key": "finished", "label": "Items finished", "value": count(items.get("finished"))},
        {"key": "wip", "label": "In progress", "value": count(items.get("in_progress"))},
        *(
            # As the stream page's tiles: days to one decimal (numbers.days).
            {
                "key": p,
                "label": f"Cycle time {p}",
                "value": numbers.days(cycle.get(p)),
                "unit": "days",
            }
            for p in ("p50", "p85")
        ),
        {
            "key": "flow_efficiency",
            "label": "Flow efficiency",
            "value": share(flow.get("flow_efficiency")),
        },
        {
            "key": "open_exposure",
            "label": "Open risk exposure",
            "value": _number(summary.get("open_exposure"), 2),
        },
    ]
    return [{"unit": "", **f} for f in shown]


def key_result_rows(overview: Doc) -> list[dict[str, str]]:
    """A row per key result of every objective, formatted."""
    rows = []
    for objective in overview["objectives"]:
        for kr in objective["key_results"]:
            met = kr["met"]
            rows.append(
                {
                    "objective": objective["title"],
                    "title": kr["title"],
                    "value": metric_value(kr["value"], kr.get("metric")),
                    "source": kr["source"],
                    "target": f"{kr['comparator']} "
                    f"{metric_value(kr['target'], kr.get('metric'), exact=True)}",
                    "by": kr["by"] or DASH,
                    "met": "unknown" if met is None else ("met" if met else "not yet"),
                    "progress": share(kr["progress"]),
                    "overdue": "overdue" if kr["overdue"] else "",
                }
            )
    return rows


def risk_rows(overview: Doc) -> list[dict[str, str]]:
    rows = []
    for risk in overview["risks"]["top"]:
        flags = [f for f in ("overdue", "unowned") if risk[f]]
        rows.append(
            {
                "key": risk["key"],
                "title": risk["title"],
                "state": risk["state"],
                "exposure": _number(risk["exposure"], 2),
                "owner": risk["owner"] or "nobody",
                "due": risk["due"] or DASH,
                "flags": ", ".join(flags),
            }
        )
    return rows


def improvement_rows(overview: Doc) -> list[dict[str, str]]:
    return [
        {
            "rank": str(item["rank"]),
            "title": item["title"],
            "kind": item["kind"],
            "status": item["status"],
            "wsjf": _number(item["wsjf"], 2),
            "quick_win": "quick win" if item["quick_win"] else "",
        }
        for item in overview["improvements"]
    ]


def plan_rows(overview: Doc) -> list[dict[str, str]]:
    """Each dependency plan: its length, critical path, need-by misses, tasks at risk."""
    rows = []
    for plan in overview.get("dependencies") or []:
        misses = [f"{m['id']}: {count(m['days_late'], 'day')} late" for m in plan["need_by_misses"]]
        at_risk = [
            f"{r['id']} ({r['team']}): {share(r['probability_on_time'])} on time"
            for r in plan["at_risk"]
        ]
        rows.append(
            {
                "key": plan["key"],
                "duration": numbers.duration_days(plan["duration_days"]),
                "critical_path": " → ".join(plan["critical_path"]) or DASH,
                "misses": "; ".join(misses) or "none",
                "at_risk": "; ".join(at_risk) or "none",
            }
        )
    return rows


def experiment_rows(overview: Doc) -> list[dict[str, str]]:
    """Each experiment: hypothesis, metric, verdict and effect (or why there is none yet)."""
    rows = []
    for exp in overview.get("experiments") or []:
        if exp.get("verdict") is None:
            note = exp.get("note", "")
            rows.append(
                {
                    "key": exp["key"],
                    "hypothesis": note,
                    "metric": DASH,
                    "verdict": "no verdict yet",
                    "effect": DASH,
                    "guard": DASH,
                }
            )
            continue
        low, high = exp["ci95"] if exp.get("ci95") else (None, None)
        guard = exp.get("guard_ok")
        rows.append(
            {
                "key": exp["key"],
                "hypothesis": exp["hypothesis"],
                "metric": exp["metric"],
                "verdict": exp["verdict"],
                "effect": f"{signed_share(exp['effect'])} (95 % CI {signed_share(low)} to "
                f"{signed_share(high)}, p = {significant(exp['p_value'])})",
                "guard": DASH if guard is None else ("held" if guard else "worsened"),
            }
        )
    return rows


def report_context(overview: Doc) -> dict[str, Any]:
    """Everything the report shows, formatted (shared by the HTML and the PDF)."""
    return {
        "stream": overview["stream"],
        "today": overview["today"],
        "as_of": overview["flow"].get("as_of"),
        "figures": figures(overview),
        "key_results": key_result_rows(overview),
        "objectives": [
            {"title": o["title"], "progress": share(o["progress"])} for o in overview["objectives"]
        ],
        "risks": risk_rows(overview),
        "risk_summary": overview["risks"]["summary"],
        "improvements": improvement_rows(overview),
        "plans": plan_rows(overview),
        "experiments": experiment_rows(overview),
    }


# -- HTML -------------------------------------------------------------------------------------

#: The page's template sits beside this module (package data), styles and all.
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(numbers.FILTERS)  # the pages' filters: a figure reads the same in both
_HTML = _ENV.get_template("report.html")


def report_html(overview: Doc) -> str:
    """The report as one HTML page: styles inline, the chart as inline SVG, no script."""
    import vl_convert

    svg = vl_convert.vegalite_to_svg(throughput_chart(overview, width=CHART_WIDTH))
    return _HTML.render(**report_context(overview), chart_svg=svg)


# -- PDF --------------------------------------------------------------------------------------

#: The PDF's core fonts cover Latin-1 only; the few other characters the report uses.
_LATIN1 = str.maketrans(
    {"—": "-", "–": "-", "→": "->", "×": "x", "÷": "/", "≤": "<=", "≥": ">=", "✓": "v"}
)


def _latin1(text: str) -> str:
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def report_pdf(overview: Doc, *, compress: bool = True) -> bytes:
    """The report as a PDF (A4): title, date, the figures, the throughput chart (PNG) and
    the tables. ``compress=False`` leaves the page streams readable (for tests)."""
    import vl_convert
    from fpdf import FPDF

    view = report_context(overview)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.set_title(f"Value stream review: {view['stream']}")
    pdf.set_subject(f"Report of {view['today']}")
    pdf.set_creator("Obeya")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font("Helvetica", "B", size)
        pdf.cell(0, 9, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def line(text: str, size: int = 10) -> None:
        pdf.set_font("Helvetica", "", size)
        pdf.multi_cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def table(header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
        pdf.set_font("Helvetica", "", 8)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=5) as grid:
            grid.row([_latin1(h) for h in header])
            for row in rows:
                grid.row([_latin1(cell) for cell in row])
        pdf.ln(2)

    heading(f"Value stream review: {view['stream']}", 17)
    as_of = f" - flow data up to {view['as_of']}" if view["as_of"] else ""
    line(f"Report of {view['today']}{as_of}")
    pdf.ln(2)

    heading("Flow")
    table(
        [f["label"] for f in view["figures"]],
        [[f"{f['value']} {f.get('unit', '')}".strip() for f in view["figures"]]],
        (1, 1, 1, 1, 1, 1),
    )
    png = vl_convert.vegalite_to_png(throughput_chart(overview, width=CHART_WIDTH), scale=2)
    pdf.image(BytesIO(png), w=pdf.epw)
    pdf.ln(2)

    heading("Objectives")
    if view["key_results"]:
        table(
            ["Objective", "Key result", "Value now", "Target", "By", "Met", "Progress"],
            [
                [
                    r["objective"],
                    r["title"] + (" (overdue)" if r["overdue"] else ""),
                    r["value"],
                    r["target"],
                    r["by"],
                    r["met"],
                    r["progress"],
                ]
                for r in view["key_results"]
            ],
            (3, 4, 2, 2, 2, 2, 2),
        )
    else:
        line("No objectives set.")

    heading("Top risks")
    summary = view["risk_summary"]
    line(
        f"{count(summary['risks'], 'risk')} - {len(summary['overdue'])} overdue - "
        f"{len(summary['unowned'])} unowned"
    )
    if view["risks"]:
        table(
            ["Key", "Risk", "State", "Exposure", "Owner", "Due", "Flags"],
            [
                [r["key"], r["title"], r["state"], r["exposure"], r["owner"], r["due"], r["flags"]]
                for r in view["risks"]
            ],
            (2, 5, 2, 2, 2, 2, 2),
        )
    else:
        line("No open risks.")

    heading("Improvements in flight")
    if view["improvements"]:
        table(
            ["Rank", "Item", "Kind", "Status", "WSJF", ""],
            [
                [i["rank"], i["title"], i["kind"], i["status"], i["wsjf"], i["quick_win"]]
                for i in view["improvements"]
            ],
            (1, 6, 2, 2, 2, 2),
        )
    else:
        line("No improvement in flight.")

    if view["plans"]:
        heading("Dependencies")
        table(
            ["Plan", "Length", "Critical path", "Need-by missed", "At risk"],
            [
                [p["key"], p["duration"], p["critical_path"], p["misses"], p["at_risk"]]
                for p in view["plans"]
            ],
            (2, 2, 4, 3, 4),
        )
    if view["experiments"]:
        heading("Experiments")
        table(
            ["Experiment", "Hypothesis", "Metric", "Verdict", "Effect", "Guard"],
            [
                [e["key"], e["hypothesis"], e["metric"], e["verdict"], e["effect"], e["guard"]]
                for e in view["experiments"]
            ],
            (2, 5, 2, 2, 4, 2),
        )
    return bytes(pdf.output())
