"""The blockers reader: what it reads, and refusals naming the file, the row and the field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from obeya.core.events import to_micros
from obeya.errors import ParseError
from obeya.ingest.blockers import read_blockers


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "blockers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_every_timestamp_form_and_the_optional_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Item_ID ; blocked_at;unblocked_at;reason;team\n"
        "A;2024-01-15;2024-01-15T10:20:30+01:00;env;Ops\n"
        "B;2024-01-15 10:20;;vendor;\n",
    )
    a, b = read_blockers(path)
    assert a.item_id == "A" and a.team == "Ops" and a.blocking_item is None
    assert a.blocked_at == to_micros(datetime(2024, 1, 15, tzinfo=UTC))
    assert a.unblocked_at == to_micros(datetime(2024, 1, 15, 9, 20, 30, tzinfo=UTC))
    assert b.unblocked_at is None and b.team is None
    assert b.blocked_at == to_micros(datetime(2024, 1, 15, 10, 20, tzinfo=UTC))


def refusal(tmp_path: Path, text: str) -> ParseError:
    path = write(tmp_path, text)
    with pytest.raises(ParseError) as caught:
        read_blockers(path)
    assert caught.value.file == str(path)
    assert str(path) in str(caught.value)
    return caught.value


HEADER = "item_id,blocked_at,unblocked_at,reason\n"


def test_bad_date(tmp_path: Path) -> None:
    error = refusal(tmp_path, HEADER + "A,2024-01-02,,env\nB,2024-13-45,,env\n")
    assert (error.row, error.field) == (3, "blocked_at")
    assert "2024-13-45" in str(error) and "row 3" in str(error)


def test_missing_column(tmp_path: Path) -> None:
    error = refusal(tmp_path, "item_id,blocked_at,reason\nA,2024-01-02,env\n")
    assert (error.row, error.field) == (1, "unblocked_at")
    assert "missing required column 'unblocked_at'" in str(error)


def test_unblocked_before_blocked(tmp_path: Path) -> None:
    error = refusal(tmp_path, HEADER + "A,2024-01-02,2024-01-03,env\nB,2024-01-05,2024-01-04,x\n")
    assert (error.row, error.field) == (3, "unblocked_at")
    assert "before blocked_at" in str(error)


def test_empty_reason(tmp_path: Path) -> None:
    error = refusal(tmp_path, HEADER + "A,2024-01-02,,\n")
    assert (error.row, error.field) == (2, "reason")


def test_a_blocker_given_twice_names_both_rows(tmp_path: Path) -> None:
    error = refusal(
        tmp_path, HEADER + "A,2024-01-02,,env\n\nA,2024-01-02T00:00:00Z,2024-01-03,env\n"
    )
    # The blank line is counted: the copy is on row 4.
    assert (error.row, error.field) == (4, "blocked_at")
    assert "rows 2 and 4" in str(error)
