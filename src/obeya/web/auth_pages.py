"""Signing in and out: the password form, the one-time link ``obeya serve`` prints, sign-out.

A successful sign-in starts a new session (a new cookie with a new nonce, so a session made
before sign-in cannot be carried over) and goes back to the page that asked for it. Wrong
passwords are counted per user name and client address (:mod:`obeya.auth.ratelimit`), the
address being the socket's peer unless that is a proxy named in ``$OBEYA_TRUSTED_PROXIES``
(:mod:`obeya.auth.addresses`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from obeya.api.auth import codec
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.auth.addresses import client_address, over_https
from obeya.auth.sessions import COOKIE, MAX_AGE_SECONDS, Session
from obeya.errors import AuthError
from obeya.web.pages import templates

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (no ``//host`` or ``https:``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def address_of(request: Request) -> str:
    """The client's address, for counting its wrong passwords."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.getlist("x-forwarded-for"))


def with_session(request: Request, response: Response, session: Session) -> Response:
    response.set_cookie(
        COOKIE,
        codec(context(request)).dump(session),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=over_https(
            request.url.scheme,
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-proto"),
        ),
        path="/",
    )
    return response


def _form(
    request: Request, ctx: AppContext, *, next: str, name: str = "", error: str = "", status: int
) -> Response:
    session = getattr(request.state, "session", None) or Session.anonymous()
    request.state.csrf = codec(ctx).csrf_token(session)
    response = templates.TemplateResponse(
        request,
        "sign_in.html",
        {"next": safe_next(next), "name": name, "error": error},
        status_code=status,
    )
    return with_session(request, response, session)


@router.get("/sign-in")
def sign_in_page(request: Request, ctx: Ctx, next: Annotated[str, Query()] = "/") -> Response:
    return _form(request, ctx, next=next, status=200)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    ctx: Ctx,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:  # 429 with Retry-After when over the limit, before any password is tried
        user = await run_in_threadpool(
            ctx.workspace.access.sign_in, name, password, address_of(request), ctx.sign_in_limiter
        )
    except AuthError as error:
        return _form(request, ctx, next=next, name=name, error=str(error), status=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    return with_session(request, response, Session.of_user(user.id, user.session_epoch))


@router.get("/sign-in/link")
def sign_in_link_page(
    request: Request, ctx: Ctx, token: Annotated[str, Query(max_length=200)]
) -> Response:
    """The page of a one-time link (``obeya serve`` prints one): a button that uses it. A GET
    changes nothing — a link followed by a mail client's preview, or planted in another
    site's page, must not spend it or sign anyone in."""
    session = getattr(request.state, "session", None) or Session.anonymous()
    request.state.csrf = codec(ctx).csrf_token(session)
    response = templates.TemplateResponse(request, "sign_in_link.html", {"token": token})
    return with_session(request, response, session)


@router.post("/sign-in/link")
def sign_in_by_link(
    request: Request, ctx: Ctx, token: Annotated[str, Form(max_length=200)]
) -> Response:
    """Use a one-time link: it signs in, and works only once."""
    try:
        user = ctx.workspace.access.use_sign_in_link(token)
    except AuthError as error:
        return _form(request, ctx, next="/", error=str(error), status=401)
    response = RedirectResponse("/", status_code=303)
    return with_session(request, response, Session.of_user(user.id, user.session_epoch))


@router.post("/sign-out")
def sign_out(request: Request, ctx: Ctx) -> Response:
    """End the user's sessions: this cookie, and any copy of it, stops working (sessions of
    the same user in other browsers end too)."""
    session = getattr(request.state, "session", None)
    if session is not None and session.user_id is not None:
        ctx.workspace.access.end_sessions(session.user_id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
