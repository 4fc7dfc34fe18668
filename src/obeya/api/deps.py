"""What routes share: the workspace, the flow filter from the query string, cached reports.

One :class:`~obeya.workspace.Workspace` (one database engine and its connection pool) serves
every request; it is opened on first use and closed when the app shuts down.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from obeya.api.limits import BodyLimits
from obeya.auth.ratelimit import SignInLimiter
from obeya.auth.sessions import SessionCodec
from obeya.core.events import EARLIEST_DAY, LATEST_DAY
from obeya.core.metrics import FlowFilter, FlowReport
from obeya.errors import InputError
from obeya.render.charts import ChartKind
from obeya.workspace import Workspace

WorkspaceFactory = Callable[[], Workspace]


@cache
def app_version() -> str:
    """The installed package's version, shown in /api/health, /docs and the page footer."""
    try:
        return version("obeya")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "dev"


class AppContext:
    """The app's long-lived state: the workspace (opened lazily) and a report cache."""

    def __init__(self, factory: WorkspaceFactory, limits: BodyLimits) -> None:
        self._factory = factory
        self.limits = limits
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()
        self.reports = ReportCache()
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


class Encoded:
    """A JSON document encoded once, plain and gzipped: a busy dashboard's requests then cost
    a lookup, not a serialisation and a compression of hundreds of kilobytes each."""

    def __init__(self, document: Any) -> None:
        self.raw = json.dumps(
            document, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
        self.gzipped = gzip.compress(self.raw, compresslevel=6, mtime=0)

    def response(self, request: Request) -> Response:
        headers = {"Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            headers["Content-Encoding"] = "gzip"  # GZipMiddleware leaves it as it is
            return Response(self.gzipped, media_type="application/json", headers=headers)
        return Response(self.raw, media_type="application/json", headers=headers)


class ReportCache:
    """Recent flow reports, their JSON documents and their charts, so a dashboard, its JSON
    link and its charts compute each once.

    The key holds everything they depend on: the stream's stamp (its row — so a deleted and
    re-created stream misses —, its workflow, and its imports, which every write of events
    records) and the filter. Another process importing into the store changes the stamp, so a
    stale report is never served; reading the stamp costs a few rows, not a count of the
    events.
    """

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        #: One lock per report being computed: a burst of requests for a report not computed
        #: yet waits for the first to compute it, instead of each computing it on a database
        #: connection of its own (fifty viewers at once emptied the pool: 409s after 30 s).
        self._computing: dict[tuple[Any, ...], threading.Lock] = {}

    def _get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def _put(self, key: tuple[Any, ...], value: Any) -> Any:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def report(
        self, workspace: Workspace, stream: str, flt: FlowFilter, *, detail: bool
    ) -> FlowReport:
        return self._report(workspace, stream, workspace.store.stream_stamp(stream), flt, detail)

    def document(
        self, workspace: Workspace, stream: str, flt: FlowFilter, *, detail: bool
    ) -> dict[str, Any]:
        """The report's JSON document (``FlowReport.to_dict``), built once per report."""
        stamp = workspace.store.stream_stamp(stream)
        return self._document(workspace, stream, stamp, flt, detail)

    def chart(
        self, workspace: Workspace, stream: str, kind: ChartKind, flt: FlowFilter
    ) -> dict[str, Any]:
        """A chart of the report, built once per report (states coloured by category)."""
        stamp = workspace.store.stream_stamp(stream)
        key = ("chart", stamp, flt, kind.name)
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        doc = self._document(workspace, stream, stamp, flt, True)
        workflow = workspace.store.stream_workflow(stream)
        categories = workflow.categories() if workflow is not None else None
        return self._put(key, kind.build(doc, categories))  # type: ignore[no-any-return]

    def encoded_document(
        self, workspace: Workspace, stream: str, flt: FlowFilter, *, detail: bool
    ) -> Encoded:
        """:meth:`document`, encoded once (for the API's answers)."""
        stamp = workspace.store.stream_stamp(stream)
        key = ("document-bytes", stamp, flt, detail)
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        document = self._document(workspace, stream, stamp, flt, detail)
        return self._put(key, Encoded(document))  # type: ignore[no-any-return]

    def encoded_chart(
        self, workspace: Workspace, stream: str, kind: ChartKind, flt: FlowFilter
    ) -> Encoded:
        """:meth:`chart`, encoded once (for the API's answers)."""
        key = ("chart-bytes", workspace.store.stream_stamp(stream), flt, kind.name)
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        return self._put(key, Encoded(self.chart(workspace, stream, kind, flt)))  # type: ignore[no-any-return]

    # The stamp is read once per request and handed down, so a chart built from a cached
    # document reads a few rows once, not once per layer.

    def _report(
        self, workspace: Workspace, stream: str, stamp: Any, flt: FlowFilter, detail: bool
    ) -> FlowReport:
        key = ("report", stamp, flt, detail)
        found = self._get(key)
        if found is None:
            with self._lock:
                computing = self._computing.setdefault(key, threading.Lock())
            with computing:  # the first computes; the others wait, then find it
                found = self._get(key)
                if found is None:
                    found = self._put(key, workspace.flow(stream, flt, detail=detail))
            with self._lock:
                self._computing.pop(key, None)
        assert isinstance(found, FlowReport)
        return found

    def _document(
        self, workspace: Workspace, stream: str, stamp: Any, flt: FlowFilter, detail: bool
    ) -> dict[str, Any]:
        key = ("document", stamp, flt, detail)
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        report = self._report(workspace, stream, stamp, flt, detail)
        return self._put(key, report.to_dict(detail=detail))  # type: ignore[no-any-return]


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
