"""Who is asking, and may they, settled before a route reads a byte of its body.

FastAPI reads and parses a request's body before it runs any dependency, so a guard written as
a dependency answered 401 only after a 6 GB upload was on disk, or a 2 GB JSON body in memory.
Every router of the app is built with :class:`GuardedRoute` instead: its handler first applies
the route's rule (:func:`obeya.api.auth.admit`: the caller, their role on the stream), and
only then lets the body in, through a counter that stops at the route's limit whether the
client declared a ``Content-Length`` or streamed the body in chunks (the limits:
:mod:`obeya.api.limits`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from obeya.api.auth import admit
from obeya.api.limits import BodyTooLarge


def declared_length(request: Request) -> int | None:
    """The body size the client announced; None when it streams in chunks (or says nonsense,
    which the counter then judges by what arrives)."""
    raw = request.headers.get("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None


def counted(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`BodyTooLarge` as soon as more than ``limit`` body bytes
    have arrived: nothing past the limit is buffered, spooled or parsed."""
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_counted


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class GuardedRoute(APIRoute):
    """A route whose handler admits the caller before FastAPI reads the body."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            limit = await admit(request)
            declared = declared_length(request)
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit)
            # Starlette reads the body through this attribute (stream(), body(), form()).
            request._receive = counted(request._receive, limit)
            return await handle(request)

        return guarded
