"""What a small file may grow into: gzip bombs stop at the decompression limit with memory
bounded, an item's events and an event's copies are bounded, and times outside 1970–2099 are
refused at import, naming the file, row and field."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from obeya.core import events
from obeya.errors import InputError, ParseError
from obeya.ingest import ColumnMap, read_events
from obeya.ingest.limits import MIB, BoundedReader, IngestLimits, TooLarge, current_limits

Write = Callable[..., Path]

HEADER = "item_id,state,timestamp\n"
ROW = "ITEM-0000001,In Progress,2024-01-15T10:20:30Z\n"  # 46 bytes


def write_bomb(path: Path, line: str, size: int, head: str = "", tail: str = "") -> Path:
    """A gzip file whose content is ``head``, ``line`` repeated to ``size`` bytes, ``tail``;
    written in blocks, so the test itself never holds the content."""
    block = line * (MIB // len(line))
    with gzip.open(path, "wt", compresslevel=6) as out:
        out.write(head)
        for _ in range(size // len(block)):
            out.write(block)
        out.write(tail)
    return path


# -- the limits object --------------------------------------------------------------------------


def test_defaults_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in (
        "OBEYA_MAX_DECOMPRESSED_BYTES",
        "OBEYA_MAX_EVENTS_PER_ITEM",
        "OBEYA_MAX_EVENT_COPIES",
        "OBEYA_MAX_ARCHIVE_TABLE_BYTES",
    ):
        monkeypatch.delenv(variable, raising=False)
    assert current_limits() == IngestLimits(
        max_decompressed_bytes=1_073_741_824,
        max_events_per_item=10_000,
        max_event_copies=100,
        max_archive_table_bytes=268_435_456,
    )
    monkeypatch.setenv("OBEYA_MAX_DECOMPRESSED_BYTES", "5_000_000")
    monkeypatch.setenv("OBEYA_MAX_EVENTS_PER_ITEM", " 20 ")
    limits = current_limits()
    assert (limits.max_decompressed_bytes, limits.max_events_per_item) == (5_000_000, 20)
    monkeypatch.setenv("OBEYA_MAX_EVENT_COPIES", "many")
    with pytest.raises(InputError, match="OBEYA_MAX_EVENT_COPIES='many' is not a positive"):
        current_limits()
    with pytest.raises(InputError, match="max_events_per_item must be a positive"):
        IngestLimits(max_events_per_item=0)


def test_a_bounded_reader_stops_past_its_limit_whatever_is_declared() -> None:
    import io

    reader = BoundedReader(io.BytesIO(b"x" * 100), 64)
    assert reader.read(64) == b"x" * 64
    with pytest.raises(TooLarge) as stopped:
        reader.read(64)
    assert stopped.value.limit == 64
    assert reader.done == 100


# -- decompression bombs ------------------------------------------------------------------------


def test_a_csv_gzip_bomb_is_refused_at_the_limit(tmp_path: Path) -> None:
    """About 64 KB of gzip inflating to 50 MB, against a 10 MB limit."""
    bomb = write_bomb(tmp_path / "bomb.csv.gz", ROW, 50 * MIB, head=HEADER)
    assert bomb.stat().st_size < 300_000
    limits = IngestLimits(max_decompressed_bytes=10 * MIB)
    with pytest.raises(ParseError) as refused:
        read_events(bomb, limits=limits)
    message = str(refused.value)
    assert message.startswith(f"{bomb}: the file decompresses to more than 10,485,760 bytes")
    assert "OBEYA_MAX_DECOMPRESSED_BYTES" in message
    # Under the limit, the same kind of file reads: 1 MiB of rows, one item per row.
    rows = "".join(f"I{n:07d},Doing,2024-01-15T10:20:30Z\n" for n in range(30_000))
    fine = tmp_path / "fine.csv.gz"
    fine.write_bytes(gzip.compress((HEADER + rows).encode()))
    assert read_events(fine, limits=limits).num_events == 30_000


def test_the_limit_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = write_bomb(tmp_path / "bomb.csv.gz", ROW, 4 * MIB, head=HEADER)
    monkeypatch.setenv("OBEYA_MAX_DECOMPRESSED_BYTES", str(MIB))
    with pytest.raises(ParseError, match=r"more than 1,048,576 bytes \(1.0 MiB\)"):
        read_events(bomb)


def test_a_plain_file_is_not_held_to_the_decompression_limit(write: Write) -> None:
    path = write("plain.csv", HEADER + "A,Doing,2024-01-15\n" * 1 + "B,Doing,2024-01-15\n")
    assert read_events(path, limits=IngestLimits(max_decompressed_bytes=10)).num_events == 2


def _arrow_peak(path: Path, limit: int) -> tuple[str, int]:
    """Read ``path`` in a fresh interpreter; what it raised and the Arrow pool's peak bytes."""
    script = textwrap.dedent(
        f"""
        import pyarrow as pa
        from obeya.ingest import read_events
        from obeya.ingest.limits import IngestLimits
        try:
            read_events({str(path)!r}, limits=IngestLimits(max_decompressed_bytes={limit}))
            outcome = "read"
        except Exception as error:
            outcome = type(error).__name__
        print(outcome, pa.default_memory_pool().max_memory(), flush=True)
        # Leave without the interpreter's teardown: Arrow's reader threads, stopped by the
        # refusal, may still be winding down, and tearing down under them aborts now and then
        # ("terminate called without an active exception", about 1 run in 20 here).
        import os
        os._exit(0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    outcome, peak = done.stdout.split()
    return outcome, int(peak)


def test_a_bomb_costs_memory_near_the_limit_not_the_content(tmp_path: Path) -> None:
    """Arrow's memory (not seen by tracemalloc) peaks near the 8 MiB limit, not near the
    200 MiB the file inflates to; before the limit the read held the whole content."""
    bomb = write_bomb(tmp_path / "bomb.csv.gz", ROW, 200 * MIB, head=HEADER)
    outcome, peak = _arrow_peak(bomb, 8 * MIB)
    assert outcome == "ParseError"
    assert peak < 64 * MIB, peak


def test_a_jira_gzip_bomb_is_refused_with_python_memory_bounded(tmp_path: Path) -> None:
    """A JSON file padded with 40 MiB of blanks: read whole into Python before, now stopped
    at the 4 MiB limit (tracemalloc sees the bytes)."""
    bomb = write_bomb(tmp_path / "pages.json.gz", " " * 4096, 40 * MIB, head='{"issues": []')
    tracemalloc.start()
    try:
        with pytest.raises(ParseError, match="decompresses to more than 4,194,304 bytes"):
            read_events(bomb, limits=IngestLimits(max_decompressed_bytes=4 * MIB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MIB, peak


# -- events per item and copies of one event ----------------------------------------------------


def xes_trace(name: str, events_xml: str, count: int) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<log xmlns="http://www.xes-standard.org/">\n'
        f'<trace>\n<string key="concept:name" value="{name}"/>\n'
        + events_xml * count
        + "</trace>\n</log>\n"
    )


SAME_EVENT = (
    '<event><string key="concept:name" value="Queued"/>'
    '<date key="time:timestamp" value="2012-01-01T00:00:00Z"/></event>\n'
)


def test_an_endless_trace_of_identical_events_stops_at_the_item_limit(tmp_path: Path) -> None:
    """One trace of 200,000 identical events (the 9.33 million of the review, scaled down):
    refused at event 1,001 of a 1,000 limit, with the Python rows of at most 1,000 events."""
    path = tmp_path / "one-trace.xes.gz"
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<log xmlns="http://www.xes-standard.org/">\n'
        '<trace>\n<string key="concept:name" value="T-1"/>\n'
    )
    write_bomb(path, SAME_EVENT, 30 * MIB, head=head, tail="</trace>\n</log>\n")
    tracemalloc.start()
    try:
        with pytest.raises(ParseError) as refused:
            read_events(path, limits=IngestLimits(max_events_per_item=1_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    error = refused.value
    # Line 1 is the declaration, 2 <log>, 3 <trace>, 4 the name, so event n is on line 4 + n.
    assert (error.file, error.row, error.element) == (str(path), 1_005, "trace 'T-1' event 1001")
    assert "more than the limit of 1,000 events per item (OBEYA_MAX_EVENTS_PER_ITEM)" in str(error)
    assert peak < 8 * MIB, peak


def test_the_item_limit_names_the_first_event_over_it(write: Write) -> None:
    path = write(
        "items.csv",
        HEADER
        + "A,s1,2024-01-01\n"  # row 2
        + "B,s1,2024-01-01\n"  # row 3
        + "A,s2,2024-01-02\n"  # row 4
        + "A,s3,2024-01-03\n"  # row 5: A's third event, the limit
        + "A,s4,2024-01-04\n",  # row 6: A's fourth
    )
    limits = IngestLimits(max_events_per_item=3)
    with pytest.raises(ParseError) as refused:
        read_events(path, limits=limits)
    assert refused.value.row == 6
    assert "item 'A' has 4 events, more than the limit of 3" in str(refused.value)
    assert read_events(path, limits=IngestLimits(max_events_per_item=4)).num_events == 5


def test_copies_of_one_xes_event_are_kept_up_to_the_limit(write: Write) -> None:
    limits = IngestLimits(max_event_copies=2)
    twice = write("twice.xes", xes_trace("T-1", SAME_EVENT, 2))
    assert read_events(twice, limits=limits).num_events == 2  # kept, docs/conventions.md
    thrice = write("thrice.xes", xes_trace("T-1", SAME_EVENT, 3))
    with pytest.raises(ParseError) as refused:
        read_events(thrice, limits=limits)
    assert (refused.value.row, refused.value.element) == (5, "trace 'T-1' event 1")
    assert "recorded 3 times, every field equal; at most 2 copies" in str(refused.value)
    # Three at one instant by three people are three different events, not copies.
    by_three = "".join(
        SAME_EVENT.replace("</event>", f'<string key="org:resource" value="{who}"/></event>')
        for who in ("Ann", "Bob", "Cy")
    )
    assert read_events(write("three.xes", xes_trace("T-1", by_three, 1)), limits=limits)


# -- the supported span of times ----------------------------------------------------------------


def test_the_span_is_defined_once_in_the_core() -> None:
    from obeya.api import deps

    assert deps.EARLIEST_DAY is events.EARLIEST_DAY
    assert deps.LATEST_DAY is events.LATEST_DAY
    assert events.EARLIEST_MICROS == 0
    # 2100-01-01T00:00:00Z is 4,102,444,800 s after the epoch (130 years, 32 of them leap).
    assert events.LATEST_MICROS == 4_102_444_800 * 1_000_000 - 1


@pytest.mark.parametrize(
    ("stamp", "accepted"),
    [
        ("1970-01-01T00:00:00Z", True),
        ("2099-12-31T23:59:59Z", True),
        ("1970-01-01T00:30:00+01:00", False),  # 1969-12-31T23:30Z
        ("1969-12-31T23:59:59Z", False),
        ("2100-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59", False),
        ("0001-01-01", False),
    ],
)
def test_csv_times_outside_the_span_are_refused(write: Write, stamp: str, accepted: bool) -> None:
    path = write("dates.csv", HEADER + "A,To Do,2024-01-01T00:00:00Z\n" + f"A,Done,{stamp}\n")
    if accepted:
        assert read_events(path).num_events == 2
        return
    with pytest.raises(ParseError) as refused:
        read_events(path)
    error = refused.value
    assert (error.file, error.row, error.field) == (str(path), 3, "timestamp")
    assert f"timestamp {stamp!r} is outside the supported range" in str(error)
    assert "1970-01-01T00:00:00Z to 2099-12-31T23:59:59Z" in str(error)


def test_a_created_time_outside_the_span_is_refused(write: Write) -> None:
    path = write(
        "created.csv",
        "id,state,timestamp,opened\n"
        "A,To Do,2024-01-01,2023-12-30\n"
        "B,To Do,2024-01-01,9999-12-31T23:59:59\n",
    )
    with pytest.raises(ParseError) as refused:
        read_events(path, columns=ColumnMap(item_id="id", created="opened"))
    assert (refused.value.row, refused.value.field) == (3, "opened")


def test_xes_and_jira_times_outside_the_span_are_refused(write: Write) -> None:
    late = SAME_EVENT.replace("2012-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
    path = write("late.xes", xes_trace("T-9", SAME_EVENT + late, 1))
    with pytest.raises(ParseError) as refused:
        read_events(path)
    assert (refused.value.row, refused.value.element) == (6, "trace 'T-9' event 2")
    assert refused.value.field == "time:timestamp"

    issue: dict[str, Any] = {
        "key": "OBY-1",
        "fields": {"created": "0001-01-01T00:00:00.000+0000", "status": {"name": "Open"}},
    }
    jira = write("search.json", json.dumps({"issues": [issue]}))
    with pytest.raises(ParseError) as refused:
        read_events(jira)
    assert (refused.value.element, refused.value.field) == ("issue OBY-1", "fields.created")
    assert "outside the supported range" in str(refused.value)


# -- input that breaks a parser -----------------------------------------------------------------


def test_jira_json_nested_beyond_reading_is_a_parse_error(write: Write) -> None:
    deep = write("deep.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ParseError) as refused:
        read_events(deep)
    assert refused.value.file == str(deep)
    assert "nested too deeply" in str(refused.value)
    long_number = write("long.json", '{"issues": [], "total": ' + "9" * 5000 + "}")
    with pytest.raises(ParseError, match="the JSON cannot be read: Exceeds the limit"):
        read_events(long_number)
