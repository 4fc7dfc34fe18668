"""One error shape for every failure the API can answer with.

Whatever goes wrong (an :class:`~obeya.errors.ObeyaError`, a request FastAPI cannot validate,
an unknown route, a bug) the client gets the same JSON body, so a script needs one code path
to report it::

    {"error": {"type": "NotFoundError", "message": "...", "detail": null}}

The status is the error's own ``http_status`` (ObeyaError), 422 (validation), the route's
status (404, 405) or 500. A person browsing the pages gets the same information as an HTML
page instead, through the ``html`` hook the web layer passes in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from obeya.errors import AuthError, ObeyaError, TooManyAttempts

log = logging.getLogger("obeya.api")

#: Renders an error for a browser: (request, status, error body) → response.
HtmlErrors = Callable[[Request, int, dict[str, Any]], Response]

#: Path prefixes that always answer in JSON, whatever the client accepts.
_MACHINE_PATHS = ("/api", "/static", "/openapi.json", "/docs", "/redoc")


def error_body(kind: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "detail": jsonable_encoder(detail)}}


def _validation_message(errors: list[Any]) -> str:
    """The first problem in words, e.g. ``query 'since': Input should be a valid date``."""
    if not errors:
        return "the request is not valid"
    first = errors[0]
    where = [str(part) for part in first.get("loc", ())]
    place = f"{where[0]} '{'.'.join(where[1:])}'" if len(where) > 1 else ".".join(where)
    message = str(first.get("msg", "is not valid"))
    return f"{place}: {message}" if place else message


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith(_MACHINE_PATHS):
        return False
    return "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI, html: HtmlErrors | None = None) -> None:
    """Make every error of ``app`` answer with :func:`error_body` (or ``html`` for pages)."""

    def respond(request: Request, status: int, body: dict[str, Any]) -> Response:
        if html is not None and _wants_html(request):
            return html(request, status, body)
        return JSONResponse(body, status_code=status)

    async def on_obeya(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ObeyaError)
        body = error_body(exc.error_type, exc.shown("api"), exc.fields())
        response = respond(request, exc.http_status, body)
        if isinstance(exc, AuthError):
            response.headers["WWW-Authenticate"] = 'Bearer realm="obeya"'
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in errors
        ]
        body = error_body("ValidationError", _validation_message(errors), detail)
        return respond(request, 422, body)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        message = exc.detail if isinstance(exc.detail, str) else phrase
        if status == 404 and message == phrase:
            message = f"no such page or endpoint: {request.url.path}"
        kind = phrase.replace(" ", "").replace("-", "")
        response = respond(request, status, error_body(kind, message))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def on_bug(request: Request, exc: Exception) -> Response:
        # The traceback goes to the server log; the client learns only that it failed.
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        body = error_body("InternalError", "an unexpected error occurred; see the server log")
        return respond(request, 500, body)

    app.add_exception_handler(ObeyaError, on_obeya)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_bug)
