from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from obeya.errors import ParseError
from obeya.ingest import detect_format, read_events
from obeya.ingest.timestamps import BadTimestamp, parse_timestamps

Write = Callable[..., Path]


@pytest.mark.parametrize(
    ("name", "text", "gz", "expected"),
    [
        ("a.csv", "item_id,state,timestamp\n", False, "csv"),
        ("a.txt", "item_id;state;timestamp\n", False, "csv"),
        ("a", "item_id,state,timestamp\n", False, "csv"),
        ("a.csv", "item_id,state,timestamp\n", True, "csv"),
        ("a.xes", "<?xml version='1.0'?><log/>", False, "xes"),
        ("a.xes.gz", "<log/>", True, "xes"),
        ("a.gz", "\ufeff  <log/>", True, "xes"),
        ("a.json", '{"issues": []}', False, "jira"),
        ("a.csv", "[{}]", True, "jira"),
    ],
)
def test_detect_format(write: Write, name: str, text: str, gz: bool, expected: str) -> None:
    assert detect_format(write(name, text, gz=gz)) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00binary", "Excel"),
        (b"\x00\x01\x02\x03", "unknown file type"),
        (b"just some words", "unknown file type"),
    ],
)
def test_unknown_file_type_lists_accepted_formats(write: Write, data: bytes, message: str) -> None:
    path = write("data.bin", data)
    with pytest.raises(ParseError, match=message) as caught:
        read_events(path)
    assert caught.value.file == str(path)
    assert "CSV" in str(caught.value) and "XES" in str(caught.value) and "Jira" in str(caught.value)


def test_unknown_format_option(write: Write) -> None:
    with pytest.raises(ParseError, match="accepted formats"):
        read_events(write("a.csv", "item_id,state,timestamp\n"), format="xlsx")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no such file") as caught:
        read_events(tmp_path / "nope.csv")
    assert caught.value.file == str(tmp_path / "nope.csv")


def test_damaged_gzip(write: Write) -> None:
    path = write("bad.csv.gz", b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ParseError) as caught:
        read_events(path)
    assert caught.value.file == str(path)


def test_timestamp_parser_finds_the_first_bad_value_set_wise() -> None:
    values = ["2024-01-01T00:00:00Z"] * 100_000 + ["2024-01-01 00:00:00"] * 100_000
    values[150_001] = "2024-01-01 25:00"
    values[170_000] = "garbage"
    with pytest.raises(BadTimestamp) as caught:
        parse_timestamps(pa.chunked_array([values[:70_000], values[70_000:]]))
    assert (caught.value.index, caught.value.value) == (150_001, "2024-01-01 25:00")


def test_timestamp_parser_keeps_nulls() -> None:
    parsed = parse_timestamps(pa.array([None, "1970-01-01T00:00:01Z", None]))
    assert parsed.to_pylist() == [None, 1_000_000, None]
