"""A value stream at a glance, for managers and executives: flow trend, objectives' progress,
top risks and improvements in flight, from :meth:`~obeya.workspace.Workspace.overview`; and
the same as a printable report (HTML with inline SVG, or PDF), drawn by
:mod:`obeya.render.report` so the CLI can write the very same files.

``today=YYYY-MM-DD`` in the query string reads the stream as of that day (what is overdue).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.render.report import report_context, report_html, report_pdf, throughput_chart
from obeya.web.pages import templates
from obeya.web.steering_pages import stream_url, today_of

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]


def _filename(name: str, today: str, suffix: str) -> str:
    text = f"{name}-review-{today}"
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text) + suffix


@router.get("/streams/{name}/overview", response_class=HTMLResponse)
def overview_page(request: Request, ctx: Ctx, name: str, today: str | None = None) -> Response:
    """Tiles, the weekly throughput chart, objectives, top risks, improvements in flight."""
    info = ctx.workspace.stream(name)
    overview = ctx.workspace.steering.overview(name, today_of(today))
    query = f"?today={today}" if today else ""
    return templates.TemplateResponse(
        request,
        "overview.html",
        {
            "info": info,
            "overview": overview,
            "view": report_context(overview),
            "chart": throughput_chart(overview),
            "stream_url": stream_url(name),
            "report_url": f"{stream_url(name, 'report')}.html{query}",
            "pdf_url": f"{stream_url(name, 'report')}.pdf{query}",
            "today": today or "",
        },
    )


@router.get("/streams/{name}/report.html", response_class=HTMLResponse)
def report_html_page(ctx: Ctx, name: str, today: str | None = None) -> Response:
    """The review report as one self-contained HTML page (print it, or mail it)."""
    ctx.workspace.stream(name)
    overview = ctx.workspace.steering.overview(name, today_of(today))
    return HTMLResponse(report_html(overview))


@router.get("/streams/{name}/report.pdf")
def report_pdf_file(ctx: Ctx, name: str, today: str | None = None) -> Response:
    """The review report as a PDF."""
    ctx.workspace.stream(name)
    overview = ctx.workspace.steering.overview(name, today_of(today))
    filename = _filename(name, overview["today"], ".pdf")
    return Response(
        report_pdf(overview),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
