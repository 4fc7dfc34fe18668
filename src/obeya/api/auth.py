"""Who is asking, and may they: the guard every route of the app runs first.

A request is signed in by ``Authorization: Bearer TOKEN`` (scripts) or by the session cookie
the sign-in page sets (browsers). A cookie-signed request that changes something must also
carry the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``): a
bearer token is never sent by a browser on its own, so it needs none. Then the route's rule
(:mod:`obeya.api.policy`) is applied to the stream the request is about. The user becomes the
store's :data:`~obeya.store.audit.ACTOR`, so every change is audited under their name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from obeya.api.deps import AppContext, context
from obeya.api.policy import Rule, rule_for
from obeya.auth.sessions import COOKIE, Session, SessionCodec
from obeya.core.access import Principal, Role
from obeya.errors import AuthError, ForbiddenError, InputError, NotFoundError
from obeya.store.audit import ACTOR
from obeya.workspace import Workspace
from obeya.workspace_access import principal_of

#: What a name in a path or a query may be: no control characters (the pattern of
#: :func:`obeya.api.models.stream_query`).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f]*$"
_CONTROL = re.compile(r"[\x00-\x1f]")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: What the API passes the store as a version's author: the store writes the signed-in user
#: (:data:`~obeya.store.audit.ACTOR`) instead, so a body cannot claim to be someone else.
API_AUTHOR = "api"


@dataclass(frozen=True)
class Caller:
    """The signed-in principal of a request, and how it signed in."""

    principal: Principal
    via: str  # "token" or "session"


def codec(ctx: AppContext) -> SessionCodec:
    return ctx.session_codec(lambda: ctx.workspace.access.session_key())


def session_of(request: Request) -> Session | None:
    return codec(context(request)).load(request.cookies.get(COOKIE))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    if not token.strip():
        raise AuthError("the Authorization header names no token: use 'Bearer TOKEN'")
    return token.strip()


def _authenticate(request: Request) -> tuple[Caller | None, Session | None]:
    ctx = context(request)
    token = _bearer(request)
    if token is not None:
        return Caller(ctx.workspace.access.token_principal(token), "token"), None
    session = session_of(request)
    if session is None or session.user_id is None:
        return None, session
    user = ctx.workspace.access.user_by_id(session.user_id)
    if user is None or user.session_epoch != session.epoch:
        return None, session  # removed, or the password changed since: sign in again
    return Caller(principal_of(user), "session"), session


def scope_stream(workspace: Workspace, rule: Rule, request: Request) -> tuple[str | None, bool]:
    """The stream a request is about under ``rule`` (None: the workspace), and whether what
    the path names exists (a map or record not saved yet belongs to no stream so far)."""
    params = request.path_params
    if rule.scope == "stream":
        return str(params[rule.param]), True
    try:
        if rule.scope == "map":
            return workspace.map_stream(str(params["name"]), str(params["variant"])), True
        if rule.scope == "record":
            # Keys are unique per stream: ``?stream=`` names it (the caller needs a role
            # there, whether the key exists or not); else the one stream that holds the key.
            named = request.query_params.get("stream")
            if named:
                return named, True
            return workspace.steering.record_stream(str(params["kind"]), str(params["key"])), True
        if rule.scope == "connector":
            return workspace.connectors.get(str(params["connector"])).stream, True
    except (NotFoundError, InputError):  # InputError: the key is in several streams
        return None, False
    return None, True


def require(caller: Caller, need: Role, stream: str | None, *, named: bool = True) -> None:
    """ForbiddenError unless the caller has ``need`` on ``stream`` (None: the workspace).
    ``named``: the caller named the stream (in the path or body); else the stream is where
    the map or record they named lives, which the answer says only to those who see it."""
    if not caller.principal.allows(need, stream):
        if not named and not caller.principal.sees(stream):
            raise ForbiddenError(
                f"{caller.principal.user} may not {'change' if need > Role.VIEWER else 'read'} "
                "that: it is in a value stream where they have no role"
            )
        where = "this workspace" if stream is None else f"value stream {stream!r}"
        have = caller.principal.role_on(stream)
        held = f"is {have.label} there" if have is not None else "has no role there"
        raise ForbiddenError(
            f"{caller.principal.user} {held}; {need.label} or above is needed on {where}"
        )


def _check(request: Request, rule: Rule) -> tuple[Caller | None, Session | None]:
    caller, session = _authenticate(request)
    if rule.scope == "public":
        return caller, session
    if caller is None:
        raise AuthError("sign in, or send 'Authorization: Bearer TOKEN'")
    _refuse_control_characters(request)
    if rule.scope == "map" and "variant" not in request.path_params:
        # A comparison reads every variant of the map: each one's stream must allow it.
        name = str(request.path_params["name"])
        maps = [m for m in context(request).workspace.maps() if m.name == name]
        for stream in sorted({m.stream for m in maps}, key=lambda s: s or "") or [None]:
            require(caller, rule.need, stream, named=False)
    elif rule.scope != "user":
        stream, found = scope_stream(context(request).workspace, rule, request)
        request.state.scope_stream = stream
        request.state.scope_found = found
        if found or request.method != "PUT":
            require(caller, rule.need, stream, named=rule.scope == "stream")
        # else: a save creating a map or record; the route checks the stream it names. Any
        # other call on what is not there needs the role on the workspace before it may learn
        # so (404), so a stranger cannot tell other streams' keys by the answer.
    return caller, session


def _refuse_control_characters(request: Request) -> None:
    """A 422 for a path naming a stream, map, record or connector with a control character:
    no name has one, and PostgreSQL cannot even hold a NUL (the store answered 409, "failed
    reading"). Checked here, before the rule looks the name up, for every path at once; a
    query's ``?stream=`` has the same check (:func:`obeya.api.models.stream_query`)."""
    bad = [(k, v) for k, v in request.path_params.items() if _CONTROL.search(str(v))]
    if bad:
        raise RequestValidationError(
            [
                {
                    "type": "string_pattern_mismatch",
                    "loc": ("path", key),
                    "msg": f"String should match pattern '{NO_CONTROL_CHARACTERS}'",
                    "input": value,
                }
                for key, value in bad
            ]
        )


async def _csrf_token(request: Request) -> str | None:
    given = request.headers.get(CSRF_HEADER)
    if given:
        return given
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def _csrf_ok(request: Request, session: Session | None) -> bool:
    if session is None:
        return False
    return codec(context(request)).csrf_ok(session, await _csrf_token(request))


async def admit(request: Request) -> int:
    """Authenticate and apply the route's rule, before anything reads the body (run by
    :class:`~obeya.api.gate.GuardedRoute`); remember the caller on the request. Returns how
    many body bytes the route may then read."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    rule = rule_for(request.method, path)
    if rule is None:  # pragma: no cover - check_coverage refuses such an app
        raise ForbiddenError(f"no access rule for {request.method} {path}")
    caller, session = await run_in_threadpool(_check, request, rule)
    request.state.caller = caller
    request.state.session = session
    request.state.admitted = True
    if session is not None:
        request.state.csrf = codec(context(request)).csrf_token(session)
    return context(request).limits.of(upload=rule.upload, public=rule.scope == "public")


async def guard(request: Request) -> None:
    """Check the CSRF token of a change made with a cookie; make the caller the store's actor.

    Runs as the app's dependency, after :func:`admit` has settled who is asking."""
    if not getattr(request.state, "admitted", False):  # a route not built by GuardedRoute
        raise ForbiddenError(f"no access rule was applied to {request.url.path}")
    caller = request.state.caller
    session = request.state.session
    # A browser sends its cookie on its own, so a change made with it (or with none, as on
    # the sign-in form) must also carry the session's token; a bearer token is never ambient.
    by_cookie = caller is None or caller.via == "session"
    if request.method not in SAFE_METHODS and by_cookie and not await _csrf_ok(request, session):
        raise ForbiddenError(
            "the form's CSRF token is missing or wrong (the page may be stale): "
            "reload it and try again"
        )
    ACTOR.set(caller.principal.user if caller is not None else None)


def caller(request: Request) -> Caller:
    found = getattr(request.state, "caller", None)
    if not isinstance(found, Caller):
        raise AuthError("sign in, or send 'Authorization: Bearer TOKEN'")
    return found


CallerDep = Annotated[Caller, Depends(caller)]


def sees(request: Request, stream: str | None) -> bool:
    """Whether the caller may read ``stream`` (None: what belongs to no stream); lists show
    only what this allows."""
    return caller(request).principal.sees(stream)


def require_on(request: Request, need: Role, stream: str | None) -> None:
    """:func:`require` for routes that learn the stream from the body (saves, imports): a new
    stream needs ``need`` on the workspace."""
    require(caller(request), need, stream)


def require_save(request: Request, stream: str | None) -> None:
    """A save of a map or record may move it to ``stream`` (None: it stays where it is, or
    belongs to no stream if new): the editor role is needed where it ends up."""
    target = stream if stream is not None else getattr(request.state, "scope_stream", None)
    require_on(request, Role.EDITOR, target)
