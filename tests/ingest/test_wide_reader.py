"""Wide CSV (one row per item, a time column per state) and backwards events, in any format.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first item row 2.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.conftest import Write
from obeya.core.events import to_micros
from obeya.errors import ParseError
from obeya.ingest import ColumnMap, read_events

# A is in order; B skips "started" (an empty cell) and has a team; C was "started" two days
# before it was created (row 4); D finished before it started (row 5, 'done').
WIDE = """\
item_id,team,created,started,done
A,red,2024-01-01,2024-01-02 10:00,2024-01-05
B,blue,2024-01-03,,2024-01-04
C,red,2024-01-10,2024-01-08,
D,blue,2024-01-01,2024-01-06,2024-01-05T12:00:00Z
"""


def micros(text: str) -> int:
    moment = datetime.fromisoformat(text)
    return to_micros(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def events(log) -> list[tuple[str, str, int]]:
    t = log.table
    return list(
        zip(
            t.column("item_id").to_pylist(),
            t.column("state").to_pylist(),
            t.column("t").to_pylist(),
            strict=True,
        )
    )


def test_each_filled_cell_is_one_event_in_row_then_column_order(write: Write) -> None:
    # "created" is the standard name of the item's creation time, so it is that field, not a
    # state: the states are started and done, left to right.
    log = read_events(write("w.csv", WIDE), format="wide")
    assert events(log) == [
        ("A", "started", micros("2024-01-02T10:00:00")),
        ("A", "done", micros("2024-01-05")),
        ("B", "done", micros("2024-01-04")),
        ("C", "started", micros("2024-01-08")),
        ("D", "started", micros("2024-01-06")),
        ("D", "done", micros("2024-01-05T12:00:00")),
    ]
    t = log.table
    assert t.column("seq").to_pylist() == [0, 1, 2, 3, 4, 5]
    assert t.column("team").to_pylist() == ["red", "red", "blue", "red", "blue", "blue"]
    assert t.column("created").to_pylist()[2] == micros("2024-01-03")


def test_state_columns_choose_rename_and_order_the_states(write: Write) -> None:
    columns = ColumnMap(state_columns="created=Created, started , done=Done")
    log = read_events(write("w.csv", WIDE), format="wide", columns=columns)
    assert events(log)[:3] == [
        ("A", "Created", micros("2024-01-01")),
        ("A", "started", micros("2024-01-02T10:00:00")),
        ("A", "Done", micros("2024-01-05")),
    ]
    assert set(log.table.column("created").to_pylist()) == {None}  # a state now, not the field
    assert log.states() == ["Created", "started", "Done"]


def test_a_bad_time_names_file_row_and_column_and_nothing_is_read(write: Write) -> None:
    path = write("w.csv", "item_id,open,closed\nA,2024-01-01,2024-01-02\nB,2024-01-03,soon\n")
    with pytest.raises(ParseError) as caught:
        read_events(path, format="wide")
    error = caught.value
    assert (error.file, error.row, error.field) == (str(path), 3, "closed")
    assert "'soon'" in str(error) and "--state-columns" in error.shown("cli")


def test_blank_rows_count_and_a_row_without_id_is_refused(write: Write) -> None:
    path = write("w.csv", "item_id,open\nA,2024-01-01\n,\n,2024-01-02\n")
    with pytest.raises(ParseError) as caught:
        read_events(path, format="wide")
    assert (caught.value.row, caught.value.field) == (4, "item_id")  # row 3 is blank: skipped


def test_a_missing_state_column_and_state_columns_outside_wide_are_refused(
    write: Write,
) -> None:
    path = write("w.csv", WIDE)
    with pytest.raises(ParseError, match="no column 'closed'"):
        read_events(path, format="wide", columns=ColumnMap(state_columns="started,closed"))
    with pytest.raises(ParseError, match="state columns are for a wide CSV"):
        read_events(path, format="csv", columns=ColumnMap(state_columns="started"))


# -- backwards events ---------------------------------------------------------------------------


def test_backwards_cells_are_kept_with_a_warning_naming_their_rows(write: Write) -> None:
    log = read_events(write("w.csv", WIDE), format="wide")
    assert log.num_events == 6  # nothing dropped
    [warning] = log.warnings
    # C (row 4): started 01-08 before its created 01-10 (the created field). D (row 5): done
    # 01-05 12:00 before started 01-06, a column to its left.
    assert (warning.kind, warning.count, warning.rows) == ("backwards", 2, (4, 5))
    assert (
        "item 'C' entered 'started' at 2024-01-08, before it was created (2024-01-10)"
        in (warning.examples[0])
    )
    assert (
        "item 'D' entered 'done' at 2024-01-05T12:00:00Z, before 'started'" in (warning.examples[1])
    )


def test_strict_refuses_backwards_events_listing_rows_and_count(write: Write) -> None:
    rows = "".join(f"I{n},2024-02-0{1 + n % 2},2024-01-01\n" for n in range(12))
    path = write("w.csv", "item_id,open,closed\n" + rows)
    with pytest.raises(ParseError) as caught:
        read_events(path, format="wide", strict=True)
    message = str(caught.value)
    # Every row closes before it opens: 12 events, the first ten listed, rows 2 to 11.
    assert caught.value.row == 2
    assert message.count("before 'open'") == 10
    assert "row 11 column 'closed'" in message and "row 12 " not in message
    assert "12 events go backwards" in message and "and 2 more" in message


def test_a_long_csv_event_before_its_created_time_is_backwards(write: Write) -> None:
    text = (
        "item_id,state,timestamp,created\n"
        "A,Open,2024-01-02,2024-01-01\n"
        "B,Open,2024-01-02,2024-01-05\n"  # entered Open three days before it was created
        "B,Done,2024-01-06,2024-01-05\n"
    )
    log = read_events(write("l.csv", text))
    [warning] = log.warnings
    assert (warning.count, warning.rows) == (1, (3,))
    with pytest.raises(ParseError, match="1 event goes backwards") as caught:
        read_events(write("l.csv", text), strict=True)
    assert caught.value.row == 3


def test_a_file_in_order_has_no_warning(write: Write) -> None:
    path = write("w.csv", "item_id,open,closed\nA,2024-01-01,2024-01-01\nB,2024-01-01,\n")
    assert read_events(path, format="wide", strict=True).warnings == ()
