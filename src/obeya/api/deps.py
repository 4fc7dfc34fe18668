"""What routes share: the workspace, the flow filter from the query string, encoded answers.

One :class:`~obeya.workspace.Workspace` (one database engine and its connection pool) serves
every request; it is opened on first use and closed when the app shuts down.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from obeya.api.limits import BodyLimits
from obeya.auth.ratelimit import SignInLimiter
from obeya.auth.sessions import SessionCodec
from obeya.core.events import EARLIEST_DAY, LATEST_DAY
from obeya.core.metrics import FlowFilter
from obeya.errors import InputError
from obeya.workspace import Workspace
from obeya.workspace_reports import Encoded

WorkspaceFactory = Callable[[], Workspace]


@cache
def app_version() -> str:
    """The installed package's version, shown in /api/health, /docs and the page footer."""
    try:
        return version("obeya")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "dev"


class AppContext:
    """The app's long-lived state: the workspace (opened lazily, with its report cache) and
    the sign-in limiter."""

    def __init__(self, factory: WorkspaceFactory, limits: BodyLimits) -> None:
        self._factory = factory
        self.limits = limits
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()
        self.sign_in_limiter = SignInLimiter()
        self._codec: SessionCodec | None = None

    def session_codec(self, key: Callable[[], str]) -> SessionCodec:
        """The codec of session cookies, keyed by ``key()`` (read once)."""
        if self._codec is None:
            self._codec = SessionCodec(key())
        return self._codec

    @property
    def workspace(self) -> Workspace:
        with self._lock:
            if self._workspace is None:
                self._workspace = self._factory()
            return self._workspace

    def close(self) -> None:
        with self._lock:
            if self._workspace is not None:
                self._workspace.close()
                self._workspace = None


def encoded_response(encoded: Encoded, request: Request) -> Response:
    """A document encoded once, gzipped when the client accepts it."""
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"  # GZipMiddleware leaves it as it is
        return Response(encoded.gzipped, media_type="application/json", headers=headers)
    return Response(encoded.raw, media_type="application/json", headers=headers)


def context(request: Request) -> AppContext:
    ctx = request.app.state.obeya
    assert isinstance(ctx, AppContext)
    return ctx


def check_day(name: str, day: date | None) -> None:
    """Refuse (422) a window's day outside :data:`EARLIEST_DAY` … :data:`LATEST_DAY`, the
    core's supported span (the one the readers accept): a report lays its daily series over
    the whole window, so a date centuries away would tie up the server."""
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InputError(f"{name} {day} is not between {EARLIEST_DAY} and {LATEST_DAY}")


def make_filter(
    types: list[str], since: date | None, until: date | None, calendar_days: bool
) -> FlowFilter:
    """A FlowFilter; a window that ends before it starts, or that names a day outside
    :data:`EARLIEST_DAY` … :data:`LATEST_DAY`, is reported as bad input (422)."""
    check_day("since", since)
    check_day("until", until)
    if since is not None and until is not None and since > until:
        raise InputError(f"since {since} is after until {until}")
    return FlowFilter(
        types=tuple(t for t in types if t), since=since, until=until, calendar_days=calendar_days
    )


def flow_filter(
    type: Annotated[
        list[str] | None, Query(description="Only items of this type (repeatable).")
    ] = None,
    since: Annotated[
        date | None, Query(description="Window start, YYYY-MM-DD (UTC), inclusive.")
    ] = None,
    until: Annotated[
        date | None, Query(description="Window end, YYYY-MM-DD (UTC), inclusive.")
    ] = None,
    calendar_days: Annotated[
        bool, Query(description="Cycle and lead time in whole calendar days (end − start + 1).")
    ] = False,
) -> FlowFilter:
    """The filter of ``obeya metrics`` (``--type``, ``--since``, ``--until``,
    ``--calendar-days``) from the query string."""
    return make_filter(type or [], since, until, calendar_days)
