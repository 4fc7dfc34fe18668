"""Reading deployments, changes and incidents files: what is accepted, and every refusal naming
the file, the row (the header is row 1) and the field."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from obeya.errors import ParseError
from obeya.ingest import delivery
from obeya.ingest.delivery import read_changes, read_deployments, read_incidents

DEPLOYMENTS = """deployment_id,environment,finished_at,result
d1,production,2024-01-01T10:00:00Z,success
d2,production,2024-01-02,failure
d3,staging,2024-01-03T10:00:00+02:00,success
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refusal(read: Callable[[Path], object], path: Path) -> ParseError:
    with pytest.raises(ParseError) as caught:
        read(path)
    return caught.value


def test_deployments_are_read(tmp_path: Path) -> None:
    got = read_deployments(write(tmp_path, "d.csv", DEPLOYMENTS))
    assert [d.deployment_id for d in got] == ["d1", "d2", "d3"]
    # A date alone is midnight UTC; an offset is converted to UTC.
    assert got[1].finished_at == datetime(2024, 1, 2, tzinfo=UTC)
    assert got[2].finished_at == datetime(2024, 1, 3, 8, tzinfo=UTC)
    assert [d.counts for d in got] == [True, False, False]


def test_gzip_loose_header_names_blank_rows_and_extra_columns(tmp_path: Path) -> None:
    text = (
        "Result; Deployment_ID ;environment;finished_at;team\n"
        "success;d1;production;2024-01-01 10:00;a\n"
        "\n"
        "success;d2;production;2024-01-02 10:00;b\n"
    )
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    got = read_deployments(path)
    assert [(d.deployment_id, d.result) for d in got] == [("d1", "success"), ("d2", "success")]
    # A naive time is UTC.
    assert got[0].finished_at == datetime(2024, 1, 1, 10, tzinfo=UTC)


def test_missing_column_lists_the_columns_found(tmp_path: Path) -> None:
    path = write(
        tmp_path, "d.csv", "deployment_id,environment,finished_at\nd1,production,2024-01-01\n"
    )
    error = refusal(read_deployments, path)
    assert (error.file, error.row, error.field) == (str(path), 1, "result")
    assert "missing required column 'result'" in str(error)
    assert "'deployment_id', 'environment', 'finished_at'" in str(error)


def test_empty_required_value(tmp_path: Path) -> None:
    text = DEPLOYMENTS.replace("d2,production,", "d2,,")
    path = write(tmp_path, "d.csv", text)
    error = refusal(read_deployments, path)
    assert (error.file, error.row, error.field) == (str(path), 3, "environment")
    assert "'environment' is empty" in str(error)
    assert f"{path}, row 3, field 'environment'" in str(error)


def test_unreadable_timestamp_counts_blank_rows(tmp_path: Path) -> None:
    # Row 2 d1, row 3 blank, row 4 d2, row 5 d3 with a bad time.
    lines = DEPLOYMENTS.splitlines()
    text = "\n".join([lines[0], lines[1], "", lines[2], "d3,staging,yesterday,success"]) + "\n"
    path = write(tmp_path, "d.csv", text)
    error = refusal(read_deployments, path)
    assert (error.file, error.row, error.field) == (str(path), 5, "finished_at")
    assert "cannot read timestamp 'yesterday'" in str(error)


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", DEPLOYMENTS + "d1,production,2024-01-04,success\n")
    error = refusal(read_deployments, path)
    assert (error.file, error.row, error.field) == (str(path), 5, "deployment_id")
    assert "duplicate deployment_id 'd1': rows 2 and 5" in str(error)


def test_a_row_with_too_many_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", DEPLOYMENTS + "d4,production,2024-01-04,success,extra\n")
    error = refusal(read_deployments, path)
    assert (error.file, error.row) == (str(path), 5)
    assert "expected 4 fields" in str(error)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "")
    error = refusal(read_deployments, path)
    assert (error.file, error.row) == (str(path), 1)
    assert "deployment_id,environment,finished_at,result" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    error = refusal(read_deployments, tmp_path / "nope.csv")
    assert error.file == str(tmp_path / "nope.csv")
    assert "no such file" in str(error)


def test_changes(tmp_path: Path) -> None:
    # c2 is committed after its deployment, c3 names a deployment no file holds: both data.
    text = (
        "change_id,committed_at,deployment_id\n"
        "c1,2024-01-01T06:00:00Z,d1\n"
        "c2,2024-01-09T06:00:00Z,d1\n"
        "c3,2024-01-01T06:00:00Z,d404\n"
    )
    got = read_changes(write(tmp_path, "c.csv", text))
    assert [(c.change_id, c.deployment_id) for c in got] == [
        ("c1", "d1"),
        ("c2", "d1"),
        ("c3", "d404"),
    ]


def test_change_without_deployment(tmp_path: Path) -> None:
    text = "change_id,committed_at,deployment_id\nc1,2024-01-01,d1\nc2,2024-01-01,\n"
    path = write(tmp_path, "c.csv", text)
    error = refusal(read_changes, path)
    assert (error.file, error.row, error.field) == (str(path), 3, "deployment_id")


def test_change_duplicate(tmp_path: Path) -> None:
    text = "change_id,committed_at,deployment_id\nc1,2024-01-01,d1\nc1,2024-01-02,d2\n"
    path = write(tmp_path, "c.csv", text)
    error = refusal(read_changes, path)
    assert (error.file, error.row, error.field) == (str(path), 3, "change_id")
    assert "rows 2 and 3" in str(error)


def test_incidents_with_and_without_deployment_column(tmp_path: Path) -> None:
    with_cause = (
        "incident_id,created_at,resolved_at,deployment_id\n"
        "i1,2024-01-01T10:00:00Z,2024-01-01T12:00:00Z,d1\n"
        "i2,2024-01-02T10:00:00Z,,\n"
    )
    got = read_incidents(write(tmp_path, "i.csv", with_cause))
    assert [(i.incident_id, i.resolved_at, i.deployment_id) for i in got] == [
        ("i1", datetime(2024, 1, 1, 12, tzinfo=UTC), "d1"),
        ("i2", None, None),  # unresolved; its deployment not known
    ]
    without = "incident_id,created_at,resolved_at\ni1,2024-01-01T10:00:00Z,\n"
    (only,) = read_incidents(write(tmp_path, "j.csv", without))
    assert only.deployment_id is None and only.resolved_at is None


def test_incident_resolved_before_created(tmp_path: Path) -> None:
    text = (
        "incident_id,created_at,resolved_at\n"
        "i1,2024-01-01T10:00:00Z,2024-01-01T12:00:00Z\n"
        "i2,2024-01-02T10:00:00Z,2024-01-02T09:59:00Z\n"
    )
    path = write(tmp_path, "i.csv", text)
    error = refusal(read_incidents, path)
    assert (error.file, error.row, error.field) == (str(path), 3, "resolved_at")
    assert "is before created_at" in str(error)


def test_incident_bad_resolved_time_and_empty_created(tmp_path: Path) -> None:
    bad = "incident_id,created_at,resolved_at\ni1,2024-01-01,soon\n"
    path = write(tmp_path, "i.csv", bad)
    error = refusal(read_incidents, path)
    assert (error.row, error.field) == (2, "resolved_at")
    assert "cannot read timestamp 'soon'" in str(error)
    empty = "incident_id,created_at,resolved_at\ni1,2024-01-01,\ni2,,\n"
    path = write(tmp_path, "j.csv", empty)
    error = refusal(read_incidents, path)
    assert (error.file, error.row, error.field) == (str(path), 3, "created_at")


def test_files_over_the_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "MAX_FILE_BYTES", 100)
    big = DEPLOYMENTS + "".join(f"x{n},production,2024-01-01,success\n" for n in range(20))
    plain = write(tmp_path, "d.csv", big)
    error = refusal(read_deployments, plain)
    assert error.file == str(plain)
    assert "more than 100 bytes" in str(error)
    # A gzip file is judged by what it decompresses to, not by its size on disk.
    packed = tmp_path / "d.csv.gz"
    packed.write_bytes(gzip.compress(big.encode()))
    assert packed.stat().st_size < len(big)
    error = refusal(read_deployments, packed)
    assert error.file == str(packed)
    assert "more than 100 bytes" in str(error)
