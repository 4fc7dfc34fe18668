from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from obeya.core.events import EVENT_SCHEMA, to_micros
from obeya.errors import ParseError
from obeya.ingest import ColumnMap, read_events

Write = Callable[..., Path]


def micros(text: str) -> int:
    return to_micros(datetime.fromisoformat(text))


BASIC = """\
item_id,state,timestamp,type,title,assignee,extra
A-1,Backlog,2024-01-01T09:00:00Z,Story,First,ann,x
A-1,In Progress,2024-01-02 10:30:00,Story,First,,y
B-2,Backlog,2024-01-03,Bug,,bob,z
"""


def test_reads_rows_into_the_event_schema(write: Write) -> None:
    log = read_events(write("events.csv", BASIC))
    assert log.table.schema == EVENT_SCHEMA
    assert log.source.endswith("events.csv")
    rows = log.table.to_pylist()
    assert [(r["item_id"], r["state"], r["seq"]) for r in rows] == [
        ("A-1", "Backlog", 0),
        ("A-1", "In Progress", 1),
        ("B-2", "Backlog", 2),
    ]
    assert [r["t"] for r in rows] == [
        micros("2024-01-01T09:00:00+00:00"),
        micros("2024-01-02T10:30:00+00:00"),
        micros("2024-01-03T00:00:00+00:00"),
    ]
    assert [r["type"] for r in rows] == ["Story", "Story", "Bug"]
    assert [r["title"] for r in rows] == ["First", "First", None]
    assert [r["assignee"] for r in rows] == ["ann", None, "bob"]
    assert [r["team"] for r in rows] == [None, None, None]  # no team column
    assert [r["created"] for r in rows] == [None, None, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-15T10:20:30Z", "2024-01-15T10:20:30+00:00"),
        ("2024-01-15 10:20:30", "2024-01-15T10:20:30+00:00"),
        ("2024-01-15T10:20:30+01:00", "2024-01-15T09:20:30+00:00"),
        ("2024-01-15T10:20:30.000+0100", "2024-01-15T09:20:30+00:00"),
        ("2024-01-15T10:20:30-05:30", "2024-01-15T15:50:30+00:00"),
        ("2024-01-15T10:20:30.123456Z", "2024-01-15T10:20:30.123456+00:00"),
        ("2024-01-15T10:20:30.5", "2024-01-15T10:20:30.500000+00:00"),
        ("2024-01-15", "2024-01-15T00:00:00+00:00"),
        ("2024-01-15T10:20", "2024-01-15T10:20:00+00:00"),
    ],
)
def test_timestamp_spellings(write: Write, text: str, expected: str) -> None:
    log = read_events(write("t.csv", f"item_id,state,timestamp\nA,S,{text}\n"))
    assert log.table.column("t").to_pylist() == [micros(expected)]


def test_mixed_timestamp_spellings_in_one_column(write: Write) -> None:
    text = (
        "item_id,state,timestamp\n"
        "A,a,2024-01-15\n"
        "A,b,2024-01-15T10:20:30+01:00\n"
        "A,c,2024-01-15 10:20:30.1234567\n"
        "A,d, 2024-01-15T10:20:30 +0100 \n"
    )
    log = read_events(write("t.csv", text))
    assert log.table.column("t").to_pylist() == [
        micros("2024-01-15T00:00:00+00:00"),
        micros("2024-01-15T09:20:30+00:00"),
        micros("2024-01-15T10:20:30.123456+00:00"),
        micros("2024-01-15T09:20:30+00:00"),
    ]


def test_column_map_and_created(write: Write) -> None:
    text = (
        "Key,Status,Changed,Created,Squad,Kind\n"
        "K-1,Open,2024-02-01T12:00:00Z,2024-01-31,Red,Bug\n"
        "K-1,Done,2024-02-02T12:00:00Z,2024-01-31,Red,Bug\n"
    )
    columns = ColumnMap(
        item_id="Key", state="Status", timestamp="Changed", created="Created", team="Squad",
        type="Kind",
    )  # fmt: skip
    log = read_events(write("mapped.csv", text), columns=columns)
    assert log.item_ids() == ["K-1"]
    assert log.states() == ["Open", "Done"]
    assert log.table.column("created").to_pylist() == [micros("2024-01-31T00:00:00+00:00")] * 2
    assert log.table.column("team").to_pylist() == ["Red", "Red"]
    assert log.table.column("type").to_pylist() == ["Bug", "Bug"]


def test_ties_keep_file_order(write: Write) -> None:
    text = (
        "item_id,state,timestamp\n"
        "A,Review,2024-01-01T10:00:00Z\n"
        "A,Done,2024-01-01T10:00:00Z\n"
        "A,Develop,2024-01-01T10:00:00Z\n"
    )
    log = read_events(write("ties.csv", text))
    table = log.table.sort_by([("item_id", "ascending"), ("t", "ascending"), ("seq", "ascending")])
    assert table.column("state").to_pylist() == ["Review", "Done", "Develop"]
    assert table.column("seq").to_pylist() == [0, 1, 2]


@pytest.mark.parametrize("name", ["events.csv.gz", "events.csv", "events.gz"])
def test_gzip_is_recognised_by_magic_bytes(write: Write, name: str) -> None:
    log = read_events(write(name, BASIC, gz=True), format="csv" if name == "events.gz" else None)
    assert log.num_events == 3


def test_semicolon_delimiter_bom_and_crlf(write: Write) -> None:
    data = "\ufeffitem_id;state;timestamp\r\nA;Open;2024-01-01\r\nA;Done;2024-01-02\r\n"
    log = read_events(write("excel.csv", data))
    assert log.states() == ["Open", "Done"]


def test_quoted_values_with_delimiters_and_newlines(write: Write) -> None:
    text = (
        "item_id,state,timestamp,title\n"
        'A,Open,2024-01-01,"Fix it, now"\n'
        'A,Done,2024-01-02,"two\nlines"\n'
    )
    log = read_events(write("quoted.csv", text))
    assert log.table.column("title").to_pylist() == ["Fix it, now", "two\nlines"]


def test_blank_rows_are_skipped_but_counted(write: Write) -> None:
    text = "item_id,state,timestamp\nA,Open,2024-01-01\n\n,,\nA,Done,2024-01-02\n\nA,Gone,nope\n"
    with pytest.raises(ParseError) as caught:
        read_events(write("blank.csv", text))
    assert caught.value.row == 7
    ok = read_events(write("blank_ok.csv", text.replace("A,Gone,nope\n", "")))
    assert ok.states() == ["Open", "Done"]
    assert ok.table.column("seq").to_pylist() == [0, 1]


# --- bad input ---------------------------------------------------------------------------


def test_wrong_number_of_fields_names_the_row(write: Write) -> None:
    text = "item_id,state,timestamp\nA,Open,2024-01-01\nA,Done,2024-01-02,extra\n"
    path = write("fields.csv", text)
    with pytest.raises(ParseError) as caught:
        read_events(path)
    error = caught.value
    assert (error.file, error.row) == (str(path), 3)
    assert "expected 3 fields" in str(error)
    assert "found 4" in str(error)


def test_missing_required_column_lists_columns_and_mapping(write: Write) -> None:
    path = write("cols.csv", "id,state,when\nA,Open,2024-01-01\n")
    with pytest.raises(ParseError) as caught:
        read_events(path)
    error = caught.value
    assert (error.file, error.row, error.field) == (str(path), 1, "item_id")
    assert "'id', 'state', 'when'" in str(error)
    assert "name that column as the item id column" in str(error)  # in words on a page
    assert error.shown("cli").endswith("name that column as the --item-column")


def test_a_file_without_a_state_column_is_pointed_to_the_wide_format(write: Write) -> None:
    # One row per item, a date per state (as Jira's CSV export): no state column at all.
    path = write("items.csv", "id,created_date,finished_date\nA,2024-01-01,2024-01-03\n")
    with pytest.raises(ParseError) as caught:
        read_events(path)
    cli = caught.value.shown("cli")
    assert cli.endswith("a date column per state is a wide CSV: --format wide")
    # A file with its states in a column is not told so.
    path = write("cols.csv", "id,state,when\nA,Open,2024-01-01\n")
    with pytest.raises(ParseError) as caught:
        read_events(path)
    assert "wide" not in str(caught.value)


def test_column_names_match_loosely_when_not_exactly(write: Write) -> None:
    path = write("loose.csv", "Item_ID, State ,timestamp\nA,Open,2024-01-01\n")
    log = read_events(path)
    assert (log.item_ids(), log.states()) == (["A"], ["Open"])


def test_missing_mapped_column(write: Write) -> None:
    path = write("cols.csv", "id,state,when\nA,Open,2024-01-01\n")
    with pytest.raises(ParseError) as caught:
        read_events(path, columns=ColumnMap(item_id="id", timestamp="time"))
    assert caught.value.field == "time"


def test_unparsable_timestamp_names_row_field_and_value(write: Write) -> None:
    text = "item_id,state,timestamp\nA,Open,2024-01-01\nA,Done,2024-02-30\nA,X,yesterday\n"
    path = write("ts.csv", text)
    with pytest.raises(ParseError) as caught:
        read_events(path)
    error = caught.value
    assert (error.file, error.row, error.field) == (str(path), 3, "timestamp")
    assert "'2024-02-30'" in str(error)
    assert "ISO 8601" in str(error)


def test_unparsable_created(write: Write) -> None:
    text = "item_id,state,timestamp,created\nA,Open,2024-01-01,\nA,Done,2024-01-02,soon\n"
    with pytest.raises(ParseError) as caught:
        read_events(write("created.csv", text))
    assert (caught.value.row, caught.value.field) == (3, "created")


@pytest.mark.parametrize(
    ("line", "field"),
    [(",Open,2024-01-01", "item_id"), ("A,,2024-01-01", "state"), ("A,Open,", "timestamp")],
)
def test_empty_required_value(write: Write, line: str, field: str) -> None:
    text = f"item_id,state,timestamp\nA,Open,2024-01-01\n{line}\n"
    with pytest.raises(ParseError) as caught:
        read_events(write("empty.csv", text))
    assert (caught.value.row, caught.value.field) == (3, field)
    assert "empty" in str(caught.value)


def test_first_bad_row_wins_across_columns(write: Write) -> None:
    text = "item_id,state,timestamp\nA,Open,2024-01-01\nA,,2024-01-02\n,Open,2024-01-03\n"
    with pytest.raises(ParseError) as caught:
        read_events(write("first.csv", text))
    assert (caught.value.row, caught.value.field) == (3, "state")


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_empty_file(write: Write, data: bytes) -> None:
    path = write("empty.csv", data)
    with pytest.raises(ParseError) as caught:
        read_events(path)
    assert caught.value.file == str(path)
    assert "empty" in str(caught.value)


def test_header_only(write: Write) -> None:
    with pytest.raises(ParseError, match="no data rows"):
        read_events(write("header.csv", "item_id,state,timestamp\n"))


def test_duplicate_events_name_both_rows(write: Write) -> None:
    text = (
        "item_id,state,timestamp\n"
        "A,Open,2024-01-01T10:00:00Z\n"
        "B,Open,2024-01-01T10:00:00Z\n"
        "A,Done,2024-01-02T10:00:00Z\n"
        "A,Open,2024-01-01T11:00:00+01:00\n"
    )
    path = write("dup.csv", text)
    with pytest.raises(ParseError) as caught:
        read_events(path)
    error = caught.value
    assert (error.file, error.row) == (str(path), 5)
    assert "row 2 and row 5" in str(error)
    assert "duplicate" in str(error)


def test_invalid_utf8_names_row_and_field(write: Write) -> None:
    data = b"item_id,state,timestamp\nA,Open,2024-01-01\nA,D\xe9j\xe0,2024-01-02\n"
    with pytest.raises(ParseError) as caught:
        read_events(write("latin1.csv", data))
    assert (caught.value.row, caught.value.field) == (3, "state")
    assert "UTF-8" in str(caught.value)


def test_errors_deep_in_a_large_file_are_located_exactly(write: Write) -> None:
    """Many Arrow blocks, parsed in parallel: row numbers must still be exact."""
    lines = [f"I-{i},S{i % 7},2024-01-01T00:00:{i % 60:02d}Z,title {i}" for i in range(150_000)]
    header = "item_id,state,timestamp,title\n"
    bad_ts = lines.copy()
    bad_ts[123_456] = "I-x,S,2024-01-01T25:00:00Z,t"
    with pytest.raises(ParseError) as caught:
        read_events(write("big_ts.csv", header + "\n".join(bad_ts) + "\n"))
    assert (caught.value.row, caught.value.field) == (123_458, "timestamp")
    bad_fields = lines.copy()
    bad_fields[140_000] = "I-x,S,2024-01-01,t,extra"
    with pytest.raises(ParseError) as caught:
        read_events(write("big_fields.csv", header + "\n".join(bad_fields) + "\n"))
    assert caught.value.row == 140_002
    assert read_events(write("big.csv", header + "\n".join(lines) + "\n")).num_events == 150_000


def test_progress_is_reported(write: Write) -> None:
    lines = [f"I-{i},S,2024-01-01T00:00:00Z,{'x' * 40}" for i in range(60_000)]
    path = write("progress.csv.gz", "item_id,state,timestamp,title\n" + "\n".join(lines), gz=True)
    calls: list[tuple[int, int]] = []
    read_events(path, progress=lambda done, total: calls.append((done, total)))
    total = path.stat().st_size
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert all(t == total and 0 <= d <= total for d, t in calls)


def test_naive_times_are_utc(write: Write) -> None:
    log = read_events(write("utc.csv", "item_id,state,timestamp\nA,S,2024-06-01 12:00:00\n"))
    expected = to_micros(datetime(2024, 6, 1, 12, tzinfo=UTC))
    assert log.table.column("t").to_pylist() == [expected]
