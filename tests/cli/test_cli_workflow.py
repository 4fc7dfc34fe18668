"""`obeya workflow infer` flags what is rarely true; `obeya metrics` says its conventions."""

from __future__ import annotations

import csv
import json
import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from obeya.cli.main import app

from support import DATASETS

runner = CliRunner()
HELPDESK = str(DATASETS / "helpdesk.xes.gz")

# A: committed Jan 2, Done Jan 4, reopened Jan 5, Done Jan 9: cycle 7 d to the last entry into
# done, 2 d to the first.
CSV = """item_id,state,timestamp
A,To Do,2024-01-01
A,In Progress,2024-01-02
A,Done,2024-01-04
A,In Progress,2024-01-05
A,Done,2024-01-09
"""
WORKFLOW = """backlog = ["To Do"]
active = ["In Progress"]
done = ["Done"]
"""


def test_infer_json_carries_the_flags() -> None:
    result = runner.invoke(app, ["workflow", "infer", HELPDESK, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rules = {(f["rule"], f["state"]) for f in doc["flags"]}
    assert rules == {("flow_efficiency", None), ("active_state_share", "Resolve ticket")}
    assert doc["flow_efficiency"] > 0.6
    assert "Resolve ticket" in doc["workflow"]["active"]
    assert tomllib.loads(doc["toml"])["done"] == doc["workflow"]["done"]


def test_infer_prints_the_flags_and_keeps_the_file_valid(tmp_path: Path) -> None:
    out = tmp_path / "wf.toml"
    result = runner.invoke(app, ["workflow", "infer", HELPDESK, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "check: flow efficiency is 92 %" in " ".join(result.stderr.split())
    assert "'Resolve ticket' is classed active" in " ".join(result.stderr.split())
    text = out.read_text()
    assert "# CHECK (active_state_share)" in text
    tomllib.loads(text)  # the flags are comments


def test_metrics_says_where_cycle_time_ends(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text(CSV)
    last = tmp_path / "last.toml"
    last.write_text(WORKFLOW)
    first = tmp_path / "first.toml"
    first.write_text(WORKFLOW + 'finish = "first"\n')
    shown = runner.invoke(app, ["metrics", str(data), "--workflow", str(last)])
    assert shown.exit_code == 0, shown.output
    assert "Cycle time: first commitment → last entry into done." in shown.stdout
    doc = json.loads(
        runner.invoke(app, ["metrics", str(data), "--workflow", str(first), "--json"]).stdout
    )
    assert doc["conventions"]["finish"] == "first"
    assert doc["cycle_time_days"]["p50"] == 2.0
    assert doc["throughput_daily"] == {"2024-01-04": 1}
    bad = tmp_path / "bad.toml"
    bad.write_text(WORKFLOW + 'finish = "soon"\n')
    refused = runner.invoke(app, ["metrics", str(data), "--workflow", str(bad)])
    assert refused.exit_code != 0
    assert "field 'finish' is 'soon'" in " ".join(refused.stderr.split())


def test_infer_reads_a_stored_stream_as_the_file_it_came_from(
    tmp_path: Path,
    obeya_home: Path,
) -> None:
    path = tmp_path / "a.csv"
    path.write_text(CSV, encoding="utf-8")
    imported = runner.invoke(app, ["import", str(path), "--stream", "A"])
    assert imported.exit_code == 0, imported.output
    stored = runner.invoke(app, ["workflow", "infer", "--stream", "A", "--json"])
    one_shot = runner.invoke(app, ["workflow", "infer", str(path), "--json"])
    assert stored.exit_code == one_shot.exit_code == 0, stored.output + one_shot.output
    doc, again = json.loads(stored.stdout), json.loads(one_shot.stdout)
    assert doc["toml"].startswith(
        "# Workflow proposed by `obeya workflow infer` from value stream A"
    )
    assert {**doc, "toml": ""} == {**again, "toml": ""}  # the same proposal and evidence
    neither = runner.invoke(app, ["workflow", "infer"])
    assert neither.exit_code == 2 and "give a FILE or --stream NAME" in neither.stderr


def test_infer_reads_a_wide_file_by_its_state_columns(tmp_path: Path) -> None:
    path = tmp_path / "jira.csv"
    path.write_text("id,created_date,done_date\nA,2024-01-01,2024-01-03\n", encoding="utf-8")
    args = ["workflow", "infer", str(path), "--format", "wide", "--item-column", "id"]
    result = runner.invoke(app, [*args, "--state-columns", "created_date=Open,done_date=Done"])
    assert result.exit_code == 0, result.output
    proposed = tomllib.loads(result.stdout)
    assert proposed["order"] == ["Open", "Done"] and proposed["done"] == ["Done"]


def test_infer_prints_for_each_state_the_category_its_toml_holds() -> None:
    """The trial's Jira export: `finished_date` is made done because no state is done by name
    or by the data; its evidence line said "-> active (work happens here …)" beside
    `done = ["finished_date"]`. Each line now says what the TOML holds, and why. The share is
    counted here from the CSV: items whose finished date is not before their created date
    end in finished_date (ties: the columns' order)."""
    path = DATASETS / "rueedlinger_agile_project_jira.csv"
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    ends = sum(r["finished_date"] >= r["created_date"] for r in rows) / len(rows)
    result = runner.invoke(
        app,
        [
            *("workflow", "infer", str(path), "--format", "wide", "--item-column", "id"),
            *("--team-column", "project", "--state-columns", "created_date,finished_date"),
        ],
    )
    assert result.exit_code == 0, result.output
    toml = tomllib.loads(result.stdout)
    assert toml["done"] == ["finished_date"]
    lines = re.findall(r"#   '(.+?)': .* -> (\w+) \((.*)\)$", result.stdout, re.M)
    printed = {state: (category, reason) for state, category, reason in lines}
    held = {state: key for key in ("backlog", "active", "waiting", "done") for state in toml[key]}
    assert {state: category for state, (category, _) in printed.items()} == held
    assert printed["finished_date"][1] == (
        "no state is done by its name or by where its items end, and a workflow needs a done "
        f"state: {round(ends * 100)} % of the items that visit it end there, the most of any "
        "state"
    )
