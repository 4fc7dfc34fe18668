"""A stream's twin page: what the twin fitted to the stream's history holds (people per step
and by which rule, the calendar, states and routing, arrivals, WIP), and, on request, its
hold-out check with a plain verdict — the documents of ``GET /api/streams/{name}/twin`` and
``.../twin/holdout``, both from :class:`~obeya.workspace.Workspace`. The form is a plain GET:
a check is a link that can be shared."""

from __future__ import annotations

import threading
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.running import run_cancellable
from obeya.core.twin.holdout import TARGETS
from obeya.core.twin.summary import twin_summary
from obeya.errors import InputError
from obeya.web.forms import form_date, form_int, form_number
from obeya.web.pages import templates

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]


@router.get("/streams/{name}/twin", response_class=HTMLResponse)
async def twin_page(
    request: Request,
    ctx: Ctx,
    name: str,
    holdout: str | None = None,
    validate_from: str | None = None,
    replications: str | None = None,
    more_people: str | None = None,
    demand: str | None = None,
    days: str | None = None,
) -> Response:
    """The twin; with a hold-out share or a date, its check; with a step or a demand change,
    its what-if."""
    raw = {
        k: v
        for k, v in (
            ("holdout", holdout),
            ("validate_from", validate_from),
            ("replications", replications),
            ("more_people", more_people),
            ("demand", demand),
            ("days", days),
        )
        if v
    }

    def work(cancel: threading.Event) -> dict[str, Any]:
        info = ctx.workspace.stream(name)  # an unknown stream is a 404 page
        view: dict[str, Any] = {"info": info, "raw": raw, "error": None, "check": None}
        twin = ctx.workspace.stream_twin(name)
        view["twin"] = twin_summary(twin)
        if raw.get("holdout") or raw.get("validate_from"):
            try:
                reps = form_int(raw.get("replications"), "replications") or 5
                cut = form_date(raw.get("validate_from"), "validate_from")
                share = None if cut else raw.get("holdout")
                check = ctx.workspace.simulations.twin_check(name, share, cut, reps, cancel)
                view["check"] = check.to_dict()
            except InputError as exc:
                view["error"], view["status"] = str(exc), exc.http_status
        futures = []
        if raw.get("more_people"):
            futures.append(
                (f"+1 person at {raw['more_people']}", [f"{raw['more_people']}.people=+1"])
            )
        if raw.get("demand"):
            # The field is a change in percent ("+10" is +10 %, never 10 more items a day).
            change = raw["demand"].strip().removesuffix("%").strip()
            if change and change[0] not in "+-":
                change = f"+{change}"
            futures.append((f"demand {change} %", [f"arrivals={change}%"]))
        if futures:
            try:
                run_days = form_number(raw.get("days") or "90", "days", float)
                if not 0 < run_days <= 3650:
                    raise InputError(f"days is {run_days:g}; give 1 to 3650")
                view["what_if"] = ctx.workspace.simulations.twin_what_if(
                    name, futures, run_days, None, cancel, twin
                )
            except InputError as exc:
                view["what_if_error"], view["status"] = str(exc), exc.http_status
        return view

    view = await run_cancellable(request, work)
    query = urlencode({k: v for k, v in raw.items()})
    return templates.TemplateResponse(
        request,
        "twin.html",
        {
            **view,
            "targets": TARGETS,
            "page_url": f"/streams/{quote(name, safe='')}/twin",
            "api_url": f"/api/streams/{quote(name, safe='')}/twin",
            "check_api_url": f"/api/streams/{quote(name, safe='')}/twin/holdout?{query}",
        },
        status_code=view.get("status", 200),
    )
