"""The teams page: teams, people and their skills, and the skill coverage of each value
stream (:meth:`~obeya.workspace.Workspace.coverage`): per stream and skill, how many of its
people have it, the skills it needs and nobody has, and who is split across streams.

A person's teams must be saved teams; the workspace refuses others and the page shows why.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.core.documents import Document
from obeya.core.steering.teams import Person, StreamProfile, Team
from obeya.errors import ObeyaError
from obeya.web.document_forms import posted_document
from obeya.web.map_pages import WEB_AUTHOR
from obeya.web.pages import templates
from obeya.web.steering_pages import Form, Posted

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]

#: The three forms of the page: record kind, and how a form becomes its document.
KINDS = {"team": "team", "person": "person", "profile": "stream-profile"}


#: The document each form describes, read from its declaration
#: (:func:`~obeya.web.document_forms.posted_document`).
DOCUMENTS: dict[str, type[Document]] = {"team": Team, "person": Person, "profile": StreamProfile}


def posted_record(form_name: str, form: Posted) -> dict[str, Any]:
    """The team, person or stream profile a form describes (a form without a key field
    posts a blank key, which the core calls empty)."""
    return posted_document(DOCUMENTS[form_name], {"key": "", **form.as_dict()})


def matrix(coverage: dict[str, Any]) -> dict[str, Any]:
    """The coverage as a table: a row per stream, a column per skill any stream has or
    needs; each cell the count, whether the stream needs the skill and whether it lacks it."""
    skills = sorted({s for row in coverage["streams"] for s in row["skills"]})
    rows = []
    for row in coverage["streams"]:
        cells = [
            {
                "skill": s,
                "count": row["skills"].get(s, 0),
                "needed": s in row["needs"],
                "lacking": s in row["lacking"],
            }
            for s in skills
        ]
        rows.append({**row, "cells": cells})
    return {"skills": skills, "rows": rows}


def _teams_page(
    request: Request,
    ctx: AppContext,
    *,
    form_for: str | None = None,
    values: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    workspace = ctx.workspace
    teams = [r.document for r in workspace.steering.records("team")]
    people = [r.document for r in workspace.steering.records("person")]
    profiles = [r.document for r in workspace.steering.records("stream-profile")]
    coverage = workspace.steering.coverage()
    return templates.TemplateResponse(
        request,
        "teams.html",
        {
            "teams": teams,
            "people": people,
            "profiles": profiles,
            "coverage": coverage,
            "matrix": matrix(coverage),
            "streams": [info.name for info in workspace.streams()],
            "form_for": form_for,
            "values": values or {},
            "error": error,
            "notice": notice,
        },
        status_code=status,
    )


@router.get("/teams", response_class=HTMLResponse)
def teams_page(request: Request, ctx: Ctx, saved: str | None = None) -> Response:
    notice = f"Saved {saved}." if saved else None
    return _teams_page(request, ctx, notice=notice)


@router.post("/teams/{form_name}", response_class=HTMLResponse)
def save_team_record(request: Request, ctx: Ctx, form_name: str, form: Form) -> Response:
    """Save a team, a person or a stream profile (a new version when the key exists)."""
    if form_name not in KINDS:
        return _teams_page(
            request, ctx, error=f"no form {form_name!r}; use team, person or profile", status=404
        )
    kind = KINDS[form_name]
    try:
        doc = posted_record(form_name, form)
        ctx.workspace.steering.save_record(
            kind, doc, author=WEB_AUTHOR, message=form.text("message")
        )
    except ObeyaError as error:
        return _teams_page(
            request,
            ctx,
            form_for=form_name,
            values=form.as_dict(),
            error=str(error),
            status=error.http_status,
        )
    return RedirectResponse(f"/teams?saved={kind}+{doc['key']}", status_code=303)
