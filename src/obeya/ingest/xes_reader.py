"""IEEE XES event logs (.xes, .xes.gz), streamed so that memory stays flat on large logs.

A trace is a work item (its ``concept:name`` is the item id) and each of its events is a state
entry: state = the event's ``concept:name`` (or the key named by ``ColumnMap.state``, e.g.
``lifecycle:transition``), t = ``time:timestamp``, assignee = ``org:resource``, team =
``org:group``; type, title and created come from an event or trace attribute with the key named
in the ColumnMap, when there is one. Global defaults (``<global>``) are not applied: an event
without a timestamp is an error, not a 1970 event.

Elements are cleared as soon as they are read; tags match with or without the XES namespace.
In errors, ``row`` is the line of the XML element and ``element`` names the trace and the
1-based index of the event in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from obeya.core.events import EventLog
from obeya.errors import ParseError
from obeya.ingest.columns import ColumnMap
from obeya.ingest.common import Where, event_log, parse_times, require_values
from obeya.ingest.limits import IngestLimits, current_limits
from obeya.ingest.sources import Progress, open_input

_STANDARD_KEYS = {
    "item_id": "concept:name",
    "state": "concept:name",
    "timestamp": "time:timestamp",
    "assignee": "org:resource",
    "team": "org:group",
}
#: Event fields, each read from the event first and from its trace second.
_ATTRIBUTES = ("type", "title", "team", "assignee", "created")
#: Fields read from each event, in the order of an event row's values.
_EVENT_FIELDS = ("state", "timestamp", *_ATTRIBUTES)


def attribute_keys(columns: ColumnMap) -> dict[str, str]:
    """Attribute key of each field: the ColumnMap's, or the XES standard key for a default."""
    keys = {}
    for name in ("item_id", "state", "timestamp", *_ATTRIBUTES):
        given = getattr(columns, name)
        keys[name] = _STANDARD_KEYS.get(name, given) if columns.is_default(name) else given
    return keys


def _local(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


def _attributes(element: Any) -> dict[str, str]:
    """The element's own (not nested) attributes as key -> value text."""
    return {child.get("key"): child.get("value") for child in element}


@dataclass
class XesRows:
    """What the stream yields: one tuple per event and one per trace.

    An event row is ``(trace number, 1-based position in the trace, line, *event values)``;
    a trace row is ``(name, *trace values)``. Tuples, transposed once at the end, keep the
    per-event Python work to a minimum.
    """

    events: list[tuple[Any, ...]] = field(default_factory=list)
    traces: list[tuple[str | None, ...]] = field(default_factory=list)


def read_xes(
    path: Path, file: str, columns: ColumnMap, progress: Progress | None, limits: IngestLimits
) -> EventLog:
    keys = attribute_keys(columns)
    rows = XesRows()
    with open_input(path, progress, max_bytes=limits.max_decompressed_bytes) as stream:
        stream_rows(stream, file, keys, rows, max_events_per_item=limits.max_events_per_item)
    if not rows.events:
        raise ParseError("the log contains no events (no <event> inside a <trace>)", file=file)
    trace_no, position, line, *values = (list(column) for column in zip(*rows.events, strict=True))
    event_values = dict(zip(_EVENT_FIELDS, values, strict=True))
    trace_values = dict(zip(("item_id", *_ATTRIBUTES), zip(*rows.traces, strict=True), strict=True))
    trace_index = pa.array(trace_no, pa.int32())

    def per_event(name: str) -> Any:
        """A trace attribute, repeated for each event of the trace."""
        return pa.array(trace_values[name], pa.string()).take(trace_index)

    def locate(index: int) -> Where:
        name = rows.traces[trace_no[index]][0]
        label = f"trace {name!r}" if name else f"trace #{trace_no[index] + 1}"
        return Where(row=line[index], element=f"{label} event {position[index]}")

    item_id = per_event("item_id")
    state = pa.array(event_values["state"], pa.string())
    stamps = pa.array(event_values["timestamp"], pa.string())
    labels = {name: keys[name] for name in ("item_id", "state", "timestamp")}
    required = {"item_id": item_id, "state": state, "timestamp": stamps}
    require_values(required, labels, file=file, locate=locate)
    out: dict[str, Any] = {
        "item_id": item_id,
        "state": state,
        "t": parse_times(stamps, file=file, field=keys["timestamp"], locate=locate),
        "seq": pa.array(np.arange(len(trace_no), dtype=np.int64)),
    }
    for name in _ATTRIBUTES:  # an event attribute, else its trace's
        out[name] = pc.coalesce(pa.array(event_values[name], pa.string()), per_event(name))
    out["created"] = parse_times(out["created"], file=file, field=keys["created"], locate=locate)
    return event_log(out, file=file, locate=locate, repeats="keep", limits=limits)


def stream_rows(
    stream: Any,
    file: str,
    keys: dict[str, str],
    rows: XesRows,
    *,
    max_events_per_item: int | None = None,
) -> None:
    """Walk the XML once, clearing each event and trace as soon as it has been read.

    A trace with more than ``max_events_per_item`` events is refused as soon as the one over
    the limit is read (default: the limit in force), so a bomb of one endless trace costs no
    more than the limit."""
    most = (
        current_limits().max_events_per_item if max_events_per_item is None else max_events_per_item
    )
    event_keys = [keys[name] for name in _EVENT_FIELDS]
    trace_keys = [keys[name] for name in ("item_id", *_ATTRIBUTES)]
    position = 0
    parser = etree.iterparse(
        stream,
        events=("end",),
        tag=("{*}event", "{*}trace"),
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
    )
    try:
        for _, element in parser:
            if _local(element.tag) == "event":
                if _local(element.getparent().tag) != "trace":
                    raise ParseError(
                        "an <event> outside any <trace>; every event must belong to a trace",
                        file=file,
                        row=element.sourceline,
                    )
                found = _attributes(element)
                position += 1
                if position > most:
                    _refuse_long_trace(element, file, keys["item_id"], most)
                event = (len(rows.traces), position, element.sourceline)
                rows.events.append(event + tuple(map(found.get, event_keys)))
                element.clear()
            else:
                rows.traces.append(tuple(map(_attributes(element).get, trace_keys)))
                position = 0
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as error:
        line, column = error.position
        reason = re.sub(r", line \d+, column \d+$", "", str(error.msg))
        raise ParseError(
            f"the XML is malformed at line {line}, column {column}: {reason}. "
            "Check that the file is complete and well-formed XES",
            file=file,
            row=line,
        ) from None


def _refuse_long_trace(event: Any, file: str, key: str, most: int) -> None:
    trace = event.getparent()
    name = _attributes(trace).get(key)
    label = f"trace {name!r}" if name else "a trace"
    raise ParseError(
        f"{label} has more than the limit of {most:,} events per item "
        f"({IngestLimits.variable('max_events_per_item')}); this is the first event over it. "
        "Split the log, or raise the limit if the item is real",
        file=file,
        row=event.sourceline,
        element=f"{label} event {most + 1}",
    )
