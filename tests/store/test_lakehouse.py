"""A stream's events as Parquet partitioned by month (``obeya export --events-parquet``), read
in place by ``obeya metrics DIR``: the same figures as the stream's own report. "Tiny" (tests/
api/tiny.py) has all its events in January 2024, 13 of them; a second stream spans months."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from app_fixtures import workspace  # noqa: F401 (the fixture)
from obeya.cli.main import app
from obeya.core.metrics.engine import analyse_parquet
from obeya.errors import InputError
from obeya.ingest import ColumnMap
from obeya.workspace import Workspace

SPANNING = """item_id,state,timestamp
X,To Do,2024-01-30
X,In Progress,2024-02-02
X,Done,2024-03-05
Y,In Progress,2024-02-27
"""


def test_the_events_read_in_place_give_the_streams_figures(
    workspace: Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    target = tmp_path / "tiny-events"
    assert workspace.export_events_parquet("Tiny", target) == 13
    assert sorted(p.name for p in target.iterdir()) == ["month=2024-01"]
    stored = workspace.flow("Tiny", detail=True).to_dict(detail=True)
    info = workspace.stream("Tiny")
    read = analyse_parquet(target, info.workflow, detail=True).to_dict(detail=True)
    assert read.pop("source") == str(target)
    assert read == {k: v for k, v in stored.items() if k != "source"}


def test_months_are_partitions_and_a_second_export_replaces_the_first(
    workspace: Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "spanning.csv"
    path.write_text(SPANNING, encoding="utf-8")
    workspace.import_file(path, "Spanning", columns=ColumnMap())
    target = tmp_path / "events"
    (target / "month=1999-01").mkdir(parents=True)  # an old export's leftover
    assert workspace.export_events_parquet("Spanning", target) == 4
    months = {p.name: pq.read_table(p).num_rows for p in sorted(target.iterdir())}
    # By hand: one event in January, two in February, one in March.
    assert months == {"month=2024-01": 1, "month=2024-02": 2, "month=2024-03": 1}


def test_the_commands(obeya_home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "spanning.csv"
    path.write_text(SPANNING, encoding="utf-8")
    assert runner.invoke(app, ["import", str(path), "--stream", "Spanning"]).exit_code == 0
    target = tmp_path / "lake"
    done = runner.invoke(app, ["export", "--events-parquet", str(target), "--stream", "Spanning"])
    assert done.exit_code == 0, done.output
    assert "4 events of Spanning, partitioned by month" in done.output
    from_lake = runner.invoke(app, ["metrics", str(target), "--json"])
    from_store = runner.invoke(app, ["metrics", "--stream", "Spanning", "--json"])
    lake, store = json.loads(from_lake.stdout), json.loads(from_store.stdout)
    # Without a workflow each item runs from its first event to its last: both finished.
    assert lake["items"] == store["items"] == {
        "total": 2, "started": 2, "finished": 2, "in_progress": 0, "not_started": 0
    }  # fmt: skip
    assert {k: v for k, v in lake.items() if k != "source"} == {
        k: v for k, v in store.items() if k != "source"
    }
    both = runner.invoke(app, ["export", "out.zip", "--events-parquet", str(target)])
    assert both.exit_code == 2 and "one of them" in both.output


def test_a_directory_without_parquet_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no Parquet files in this directory"):
        analyse_parquet(tmp_path)
