"""Recent flow reports of a workspace, their JSON documents and their charts, computed once.

A dashboard, its JSON link, its charts and a forecast of the same stream then analyse the
stream once. The key holds everything they depend on: the stream's stamp (its row — so a
deleted and re-created stream misses —, its workflow, and its imports, which every write of
events records) and the filter. Another process importing into the store changes the stamp,
so a stale report is never served; reading the stamp costs a few rows, not a count of the
events.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from obeya.core.metrics import FlowFilter, FlowReport

if TYPE_CHECKING:
    from obeya.core.workflow_infer import StateStats
    from obeya.render.charts import ChartKind
    from obeya.workspace import Workspace


class Encoded:
    """A JSON document encoded once, plain and gzipped: a busy dashboard's requests then cost
    a lookup, not a serialisation and a compression of hundreds of kilobytes each."""

    def __init__(self, document: Any) -> None:
        self.raw = json.dumps(
            document, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
        self.gzipped = gzip.compress(self.raw, compresslevel=6, mtime=0)


class Reports:
    """The report cache of one workspace (the ``reports`` part of :class:`Workspace`)."""

    def __init__(self, workspace: Workspace, size: int = 64) -> None:
        self._workspace = workspace
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

    def _stamp(self, stream: str) -> Any:
        return self._workspace.store.stream_stamp(stream)

    def report(self, stream: str, flt: FlowFilter | None = None, *, detail: bool) -> FlowReport:
        return self._report(stream, self._stamp(stream), flt or FlowFilter(), detail)

    def document(
        self, stream: str, flt: FlowFilter | None = None, *, detail: bool
    ) -> dict[str, Any]:
        """The report's JSON document (``FlowReport.to_dict``), built once per report."""
        return self._document(stream, self._stamp(stream), flt or FlowFilter(), detail)

    def chart(self, stream: str, kind: ChartKind, flt: FlowFilter) -> dict[str, Any]:
        """A chart of the report, built once per report (states coloured by category)."""
        stamp = self._stamp(stream)
        key = ("chart", stamp, flt, kind.name)
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        doc = self._document(stream, stamp, flt, True)
        workflow = self._workspace.store.stream_workflow(stream)
        categories = workflow.categories() if workflow is not None else None
        return self._put(key, kind.build(doc, categories))  # type: ignore[no-any-return]

    def encoded_document(self, stream: str, flt: FlowFilter, *, detail: bool) -> Encoded:
        """:meth:`document`, encoded once (for the API's answers)."""
        stamp = self._stamp(stream)
        key = ("document-bytes", stamp, flt, detail)
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        document = self._document(stream, stamp, flt, detail)
        return self._put(key, Encoded(document))  # type: ignore[no-any-return]

    def encoded_chart(self, stream: str, kind: ChartKind, flt: FlowFilter) -> Encoded:
        """:meth:`chart`, encoded once (for the API's answers)."""
        key = ("chart-bytes", self._stamp(stream), flt, kind.name)
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        return self._put(key, Encoded(self.chart(stream, kind, flt)))  # type: ignore[no-any-return]

    def state_stats(self, stream: str) -> list[StateStats]:
        """The stream's per-state evidence (:func:`~obeya.core.workflow_infer.state_stats`),
        computed once per stamp: the workflow page's flags then read no events per load."""
        from obeya.core.workflow_infer import state_stats

        key = ("state-stats", self._stamp(stream))
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        return self._put(key, state_stats(self._workspace.events(stream)))  # type: ignore[no-any-return]

    # The stamp is read once per request and handed down, so a chart built from a cached
    # document reads a few rows once, not once per layer.

    def _report(self, stream: str, stamp: Any, flt: FlowFilter, detail: bool) -> FlowReport:
        key = ("report", stamp, flt, detail)
        found = self._get(key)
        if found is None:
            with self._lock:
                computing = self._computing.setdefault(key, threading.Lock())
            with computing:  # the first computes; the others wait, then find it
                found = self._get(key)
                if found is None:
                    found = self._put(key, self._workspace.flow(stream, flt, detail=detail))
            with self._lock:
                self._computing.pop(key, None)
        assert isinstance(found, FlowReport)
        return found

    def _document(self, stream: str, stamp: Any, flt: FlowFilter, detail: bool) -> dict[str, Any]:
        key = ("document", stamp, flt, detail)
        found = self._get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        report = self._report(stream, stamp, flt, detail)
        return self._put(key, report.to_dict(detail=detail))  # type: ignore[no-any-return]
