"""The `obeya` command end to end: one-shot metrics, import, stream metrics, bad input."""

from __future__ import annotations

import gzip
import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.store import Store

from support import DATASETS, SAMPLES

runner = CliRunner()

WORKFLOW = """backlog = ["To Do"]
active = ["In Progress", "In Review"]
waiting = ["Blocked", "Ready for Test"]
done = ["Done", "Won't Do"]
"""

# Two items. A: start Mon 2024-01-01 09:00 (In Progress), Blocked 01-02 09:00, In Review
# 01-03 09:00, Done 01-04 21:00 -> cycle 3.5 d; active 24 h + 36 h = 60 h of 84 h.
# B: To Do 01-02, In Progress 01-08 09:00, Done 01-09 09:00 -> cycle 1 d, all active.
CSV = """item_id,state,timestamp,type
A,To Do,2023-12-29T09:00:00Z,story
A,In Progress,2024-01-01T09:00:00Z,story
A,Blocked,2024-01-02T09:00:00Z,story
A,In Review,2024-01-03T09:00:00Z,story
A,Done,2024-01-04T21:00:00Z,story
B,To Do,2024-01-02T09:00:00Z,bug
B,In Progress,2024-01-08T09:00:00Z,bug
B,Done,2024-01-09T09:00:00Z,bug
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "items.csv"
    data.write_text(CSV)
    workflow = tmp_path / "workflow.toml"
    workflow.write_text(WORKFLOW)
    return data, workflow


def metrics_json(*args: str) -> dict:
    result = runner.invoke(app, ["metrics", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_one_shot_json_document(files) -> None:
    data, workflow = files
    doc = metrics_json(str(data), "--workflow", str(workflow))
    assert doc["items"]["total"] == 2
    assert doc["items"]["finished"] == 2
    # Cycle times 1.0 and 3.5 days: p50 = 2.25, p85 = 1 + 0.85 * 2.5 = 3.125, mean 2.25.
    ct = doc["cycle_time_days"]
    assert ct["p50"] == pytest.approx(2.25)
    assert ct["p85"] == pytest.approx(3.125)
    assert ct["p95"] == pytest.approx(3.375)
    assert ct["mean"] == pytest.approx(2.25)
    assert doc["throughput_weekly"] == {"2024-01-01": 1, "2024-01-08": 1}
    # (60 + 24) active hours of (84 + 24) cycle hours.
    assert doc["flow_efficiency"] == pytest.approx(84 / 108)
    assert doc["time_in_state_hours"]["In Progress"] == {
        "median": pytest.approx(24.0),
        "p85": pytest.approx(24.0),
        "items": 2,
    }
    assert doc["time_in_state_hours"]["In Review"]["median"] == pytest.approx(36.0)


def test_gzipped_file_and_filters(files, tmp_path: Path) -> None:
    data, workflow = files
    packed = tmp_path / "items.csv.gz"
    packed.write_bytes(gzip.compress(data.read_bytes()))
    doc = metrics_json(str(packed), "--workflow", str(workflow), "--type", "bug")
    assert doc["items"]["total"] == 1
    assert doc["cycle_time_days"]["p50"] == pytest.approx(1.0)
    doc = metrics_json(str(packed), "--workflow", str(workflow), "--since", "2024-01-08")
    assert doc["items"]["finished"] == 1


def test_without_workflow_flow_efficiency_is_null(files) -> None:
    data, _ = files
    doc = metrics_json(str(data))
    assert doc["flow_efficiency"] is None
    # Case durations: A 2023-12-29 09:00 -> 2024-01-04 21:00 = 6.5 d; B 7 d.
    assert doc["cycle_time_days"]["p50"] == pytest.approx(6.75)


def test_readable_tables(files) -> None:
    data, workflow = files
    result = runner.invoke(app, ["metrics", str(data), "--workflow", str(workflow)])
    assert result.exit_code == 0, result.output
    assert "Cycle and lead time" in result.stdout
    assert "2.2" in result.stdout  # p50 cycle time, rounded


def test_import_is_idempotent_and_matches_one_shot(files, obeya_home) -> None:
    data, workflow = files
    first = runner.invoke(
        app, ["import", str(data), "--stream", "Team A", "--workflow", str(workflow)]
    )
    assert first.exit_code == 0, first.output
    assert "8 new" in first.stdout
    again = runner.invoke(app, ["import", str(data), "--stream", "Team A"])
    assert again.exit_code == 0, again.output
    assert "0 new" in again.stdout
    stored = metrics_json("--stream", "Team A")
    one_shot = metrics_json(str(data), "--workflow", str(workflow))
    stored.pop("source")
    one_shot.pop("source")
    assert stored == one_shot


def test_new_events_append(files, obeya_home, tmp_path: Path) -> None:
    data, workflow = files
    runner.invoke(app, ["import", str(data), "--stream", "S", "--workflow", str(workflow)])
    more = tmp_path / "more.csv"
    more.write_text(CSV + "C,In Progress,2024-01-10T00:00:00Z,bug\n")
    result = runner.invoke(app, ["import", str(more), "--stream", "S"])
    assert "1 new" in result.stdout
    assert metrics_json("--stream", "S")["items"]["total"] == 3


def test_bad_file_fails_and_writes_nothing(files, obeya_home, tmp_path: Path) -> None:
    data, workflow = files
    runner.invoke(app, ["import", str(data), "--stream", "S", "--workflow", str(workflow)])
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "C,In Progress,2024-13-45T00:00:00Z,bug\n")
    result = runner.invoke(app, ["import", str(bad), "--stream", "S"])
    assert result.exit_code == 1
    assert "bad.csv" in result.stderr and "row 10" in result.stderr
    assert "timestamp" in result.stderr
    with Store() as store:
        assert store.get_stream("S").events == 8


def test_workflow_naming_no_state_is_refused(files, tmp_path: Path) -> None:
    data, _ = files
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('active = ["Doing"]\ndone = ["Shipped"]\n')
    result = runner.invoke(app, ["metrics", str(data), "--workflow", str(wrong)])
    assert result.exit_code == 1
    assert "names no state of the data" in result.stderr


def test_a_window_that_ends_before_it_starts_is_refused_without_a_traceback(files) -> None:
    data, workflow = files
    result = runner.invoke(
        app, ["metrics", str(data), "-w", str(workflow), "--since", "2024-06-01",
              "--until", "2024-01-01"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: the window starts on 2024-06-01, after it ends on 2024-01-01: give a start on "
        "or before the end"
    )
    assert "Traceback" not in result.output


def test_unknown_file_type(tmp_path: Path) -> None:
    odd = tmp_path / "picture.png"
    odd.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    result = runner.invoke(app, ["metrics", str(odd)])
    assert result.exit_code == 1
    assert "picture.png" in result.stderr


def test_workflow_infer_proposes_a_usable_file(tmp_path: Path) -> None:
    sample = SAMPLES / "bpic2013_incidents_transitions.csv.gz"
    out = tmp_path / "proposal.toml"
    result = runner.invoke(
        app,
        [
            "workflow",
            "infer",
            str(sample),
            "--item-column",
            "case_id",
            "--state-column",
            "status",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    proposal = tomllib.loads(out.read_text())
    assert {"Closed", "Resolved"} <= set(proposal["done"])
    assert "Wait - User" in proposal["waiting"]
    assert "In Progress" in proposal["active"]
    doc = metrics_json(
        str(sample), "--workflow", str(out), "--item-column", "case_id", "--state-column", "status"
    )
    assert doc["items"]["finished"] > 5000


def test_stream_metrics_with_another_workflow_leave_the_stream_alone(
    files, obeya_home, tmp_path: Path
) -> None:
    data, workflow = files
    runner.invoke(app, ["import", str(data), "--stream", "S", "--workflow", str(workflow)])
    # Everything active: flow efficiency becomes 1 for this analysis only.
    busy = tmp_path / "busy.toml"
    busy.write_text('active = ["To Do", "In Progress", "In Review", "Blocked"]\ndone = ["Done"]\n')
    assert metrics_json("--stream", "S", "--workflow", str(busy))["flow_efficiency"] == 1.0
    assert metrics_json("--stream", "S")["flow_efficiency"] == pytest.approx(84 / 108)


def test_unknown_stream(obeya_home) -> None:
    result = runner.invoke(app, ["metrics", "--stream", "Nope"])
    assert result.exit_code == 1
    assert "Nope" in result.stderr


def test_sample_loads_once(obeya_home) -> None:
    first = runner.invoke(app, ["sample"])
    assert first.exit_code == 0, first.output
    assert "sample loaded: 65,533 events in 'VINST incidents'" in first.stdout
    again = runner.invoke(app, ["sample"])
    assert "already loaded" in again.stdout
    doc = metrics_json("--stream", "VINST incidents")
    assert doc["items"]["total"] == 7554


@pytest.mark.slow  # the whole BPIC log, stored and one-shot (~10 s)
def test_xes_with_repeated_events_stored_equals_one_shot(obeya_home) -> None:
    # The Helpdesk log records 127 activities twice at one instant; the store keeps them.
    log = str(DATASETS / "helpdesk.xes.gz")
    result = runner.invoke(app, ["import", log, "--stream", "Helpdesk"])
    assert result.exit_code == 0, result.output
    assert "21,348 new" in result.stdout
    again = runner.invoke(app, ["import", log, "--stream", "Helpdesk"])
    assert "0 new" in again.stdout
    stored = metrics_json("--stream", "Helpdesk")
    one_shot = metrics_json(log)
    stored.pop("source")
    one_shot.pop("source")
    assert stored == one_shot
    assert one_shot["items"]["finished"] == 4580


# A wide file, one row per item: B finishes (row 3) two days before it was created.
WIDE = """id,created_date,finished_date
A,2024-01-01T00:00:00Z,2024-01-03T00:00:00Z
B,2024-01-05T00:00:00Z,2024-01-03T00:00:00Z
"""


def test_metrics_of_a_file_and_of_its_stream_carry_the_backwards_warning(
    tmp_path: Path, obeya_home: Path
) -> None:
    data = tmp_path / "jira.csv"
    data.write_text(WIDE, encoding="utf-8")
    args = ["--format", "wide", "--item-column", "id"]
    one_shot = runner.invoke(app, ["metrics", str(data), *args, "--json"])
    assert one_shot.exit_code == 0, one_shot.output
    [warning] = json.loads(one_shot.stdout)["warnings"]
    assert (warning["kind"], warning["count"], warning["rows"]) == ("backwards", 1, [3])
    assert "warning:" in one_shot.stderr and "backwards" in one_shot.stderr
    # Stored, the stream's report says the same (the import keeps what it flagged).
    stored = runner.invoke(app, ["import", str(data), "--stream", "J", *args])
    assert stored.exit_code == 0, stored.output
    by_stream = runner.invoke(app, ["metrics", "--stream", "J", "--json"])
    assert json.loads(by_stream.stdout)["warnings"] == [warning]
