from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from obeya.core.events import EVENT_SCHEMA, to_micros
from obeya.errors import ParseError
from obeya.ingest import ColumnMap, detect_format, read_events

Write = Callable[..., Path]

NS = 'xmlns="http://www.xes-standard.org/"'


def micros(text: str) -> int:
    return to_micros(datetime.fromisoformat(text))


def event(name: str, stamp: str | None, **extra: str) -> str:
    attributes = [f'<string key="concept:name" value="{name}"/>']
    if stamp is not None:
        attributes.append(f'<date key="time:timestamp" value="{stamp}"/>')
    attributes += [f'<string key="{k.replace("_", ":")}" value="{v}"/>' for k, v in extra.items()]
    return "<event>" + "".join(attributes) + "</event>"


def xes(*traces: tuple[str | None, list[str]], namespace: str = NS, head: str = "") -> str:
    body = []
    for name, events in traces:
        own = f'<string key="concept:name" value="{name}"/>' if name is not None else ""
        body.append("<trace>\n" + own + "\n" + "\n".join(events) + "\n</trace>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<log xes.version="1.0" {namespace}>\n'
        '<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>\n'
        '<global scope="event"><date key="time:timestamp" value="1970-01-01T00:00:00Z"/></global>\n'
        '<float key="meta" value="1.0"><float key="nested" value="2.0"/></float>\n'
        f"{head}" + "\n".join(body) + "\n</log>\n"
    )


TRACES: list[tuple[str | None, list[str]]] = [
    (
        "case-1",
        [
            event("Queued", "2010-03-31T16:59:42+02:00", org_resource="Ann", org_group="G1"),
            event("Accepted", "2010-03-31T17:00:56.250+02:00", lifecycle_transition="Started"),
        ],
    ),
    ("case-2", [event("Queued", "2010-04-01T08:00:00Z", org_resource="Bob")]),
]
LOG = xes(*TRACES)


@pytest.mark.parametrize("namespace", [NS, ""])
def test_reads_traces_and_events(write: Write, namespace: str) -> None:
    path = write("log.xes", xes(*TRACES, namespace=namespace))
    assert detect_format(path) == "xes"
    log = read_events(path)
    assert log.table.schema == EVENT_SCHEMA
    rows = log.table.to_pylist()
    assert [(r["item_id"], r["state"], r["seq"]) for r in rows] == [
        ("case-1", "Queued", 0),
        ("case-1", "Accepted", 1),
        ("case-2", "Queued", 2),
    ]
    assert [r["t"] for r in rows] == [
        micros("2010-03-31T14:59:42+00:00"),
        micros("2010-03-31T15:00:56.250+00:00"),
        micros("2010-04-01T08:00:00+00:00"),
    ]
    assert [r["assignee"] for r in rows] == ["Ann", None, "Bob"]
    assert [r["team"] for r in rows] == ["G1", None, None]


def test_state_key_from_column_map(write: Write) -> None:
    text = xes(
        (
            "c",
            [
                event("Accepted", "2024-01-01T00:00:00Z", lifecycle_transition="In Progress"),
                event("Completed", "2024-01-02T00:00:00Z", lifecycle_transition="Closed"),
            ],
        )
    )
    log = read_events(write("life.xes", text), columns=ColumnMap(state="lifecycle:transition"))
    assert log.states() == ["In Progress", "Closed"]


def test_type_from_trace_or_event_attribute(write: Write) -> None:
    text = xes(
        (
            "c1",
            [
                '<string key="kind" value="Bug"/>',
                event("Open", "2024-01-01T00:00:00Z"),
                event("Done", "2024-01-02T00:00:00Z", kind="Story"),
            ],
        ),
        ("c2", [event("Open", "2024-01-01T00:00:00Z")]),
    )
    log = read_events(write("kind.xes", text), columns=ColumnMap(type="kind"))
    assert log.table.column("type").to_pylist() == ["Bug", "Story", None]


def test_gzipped_xes(write: Write) -> None:
    log = read_events(write("log.xes.gz", LOG, gz=True))
    assert log.num_events == 3
    log = read_events(write("log.bin", LOG, gz=True))  # no telling suffix at all
    assert log.num_events == 3


def test_ties_keep_file_order(write: Write) -> None:
    text = xes(("c", [event(s, "2024-01-01T00:00:00Z") for s in ("B", "A", "C")]))
    log = read_events(write("ties.xes", text))
    table = log.table.sort_by([("t", "ascending"), ("seq", "ascending")])
    assert table.column("state").to_pylist() == ["B", "A", "C"]


def test_event_without_timestamp_names_trace_and_event(write: Write) -> None:
    text = xes(("c-7", [event("Open", "2024-01-01T00:00:00Z"), event("Done", None)]))
    path = write("nots.xes", text)
    with pytest.raises(ParseError) as caught:
        read_events(path)
    error = caught.value
    assert error.file == str(path)
    assert error.element == "trace 'c-7' event 2"
    assert error.field == "time:timestamp"
    assert error.row == text.splitlines().index(event("Done", None)) + 1


def test_bad_timestamp_value(write: Write) -> None:
    text = xes(("c", [event("Open", "2024-01-01T00:00:00Z"), event("Done", "2024-13-01")]))
    with pytest.raises(ParseError) as caught:
        read_events(write("badts.xes", text))
    assert caught.value.element == "trace 'c' event 2"
    assert caught.value.field == "time:timestamp"
    assert "'2024-13-01'" in str(caught.value)


def test_trace_without_name(write: Write) -> None:
    text = xes(
        ("ok", [event("Open", "2024-01-01T00:00:00Z")]), (None, [event("Open", "2024-01-01")])
    )
    with pytest.raises(ParseError) as caught:
        read_events(write("noname.xes", text))
    assert (caught.value.element, caught.value.field) == ("trace #2 event 1", "concept:name")


def test_malformed_xml_names_the_line(write: Write) -> None:
    text = LOG.replace("</trace>", "</trac>", 1)
    path = write("broken.xes", text)
    with pytest.raises(ParseError) as caught:
        read_events(path)
    assert caught.value.file == str(path)
    assert caught.value.row == next(i for i, s in enumerate(text.splitlines(), 1) if "</trac>" in s)
    assert "malformed" in str(caught.value)


def test_truncated_gzipped_xes(write: Write) -> None:
    with pytest.raises(ParseError, match="malformed"):
        read_events(write("cut.xes", LOG[: len(LOG) // 2], gz=True))


def test_repeated_events_are_kept(write: Write) -> None:
    # XES records activity occurrences: a repeated one is kept, not refused.
    text = xes(
        (
            "c",
            [
                event("Open", "2024-01-01T00:00:00Z"),
                event("Open", "2024-01-01"),
                event("Close", "2024-01-02"),
            ],
        )
    )
    log = read_events(write("dup.xes", text))
    assert log.table.column("state").to_pylist() == ["Open", "Open", "Close"]
    assert log.table.column("seq").to_pylist() == [0, 1, 2]


def test_log_without_events(write: Write) -> None:
    with pytest.raises(ParseError, match="no events"):
        read_events(write("empty.xes", xes()))


def test_external_entities_are_not_loaded(write: Write, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    head = f'<!DOCTYPE log [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    text = LOG.replace("<log ", head + "<log ", 1).replace("case-2", "&xxe;")
    try:
        log = read_events(write("xxe.xes", text))
    except ParseError:
        return
    assert "TOP-SECRET" not in "".join(log.item_ids())


def test_created_from_a_trace_date_attribute(write: Write) -> None:
    text = xes(
        (
            "c",
            [
                '<date key="created" value="2023-12-31T23:00:00+01:00"/>',
                event("Open", "2024-01-01T00:00:00Z"),
                event("Done", "2024-01-02T00:00:00Z"),
            ],
        )
    )
    log = read_events(write("created.xes", text))
    assert log.table.column("created").to_pylist() == [micros("2023-12-31T22:00:00+00:00")] * 2
