"""CLI tables are printed whole: at a terminal 80 columns wide, a what-if table keeps every
header and every figure (no "throughp…", no header broken over lines)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from obeya.cli.main import app

SCENARIO = """\
arrival_rate_per_day = 4.0
days = 200
warmup_days = 20
replications = 3
seed = 1

[[step]]
name = "Build and integration testing"
servers = 1
process_time_days = { distribution = "exponential", mean = 0.2 }
"""


def test_a_what_if_table_keeps_every_header_and_value_at_80_columns(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    args = [
        "what-if",
        str(path),
        "--future",
        "two builders: Build and integration testing.servers=+1",
    ]
    runner = CliRunner()
    text = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert text.exit_code == 0, text.output
    doc = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    # Narrower than the table, the terminal would wrap; nothing is cut to fit it.
    assert max(len(line) for line in text.stdout.splitlines()) > 80
    assert "…" not in text.stdout
    for header in ("scenario", "lead time p50", "p85", "mean [95 % CI]", "throughput/day", "WIP"):
        assert header in text.stdout, header
    for s in doc["scenarios"]:
        assert s["scenario"] in text.stdout
        assert f"{s['throughput_per_day']:.2f}" in text.stdout
        assert s["constraint"] in text.stdout
