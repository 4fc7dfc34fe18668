"""`obeya --help` starts light: the commands are listed without their modules (which load numpy,
pyarrow, DuckDB, SQLAlchemy …), a new user's first steps are listed first, and each command's
listed summary is what its own help says. How fast it starts is measured by
bench/cli_startup.py, never here."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from obeya.cli.lazy import Entry, first_paragraph, load
from obeya.cli.main import COMMANDS, app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "src/obeya/samples"

#: Libraries that take tens to hundreds of milliseconds to import; none is needed to print help.
HEAVY = {
    "alembic",
    "altair",
    "duckdb",
    "fastapi",
    "fpdf",
    "httpx",
    "ibis",
    "jinja2",
    "lxml",
    "numpy",
    "pandas",
    "psycopg",
    "pyarrow",
    "pydantic",  # Typer converts option values with it: --help must not need it
    "scipy",
    "simpy",
    "sqlalchemy",
    "starlette",
    "uvicorn",
}
#: Obeya's own packages behind the commands: the store, the Workspace, the readers, the core.
HEAVY_OBEYA = ("obeya.api", "obeya.core", "obeya.store", "obeya.web", "obeya.workspace")

#: Every command of `obeya`, as a user knows them (README, docs), written out by hand.
ALL_COMMANDS = {
    *("init", "sample", "serve", "import", "metrics", "streams", "stream", "workflow", "map"),
    *("forecast", "calibrate", "simulate", "what-if", "dora", "overview", "steering"),
    *("objective", "risk", "blockers", "roadmap", "experiment", "team", "deps", "families", "user"),
    *("token", "audit", "connect", "sync", "connectors", "disconnect", "export", "restore"),
}

_CHILD = """
import contextlib, io, json, sys
from obeya.cli.main import app
with contextlib.redirect_stdout(io.StringIO()):
    try:
        app(sys.argv[1:])
    except SystemExit as end:
        code = end.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def modules_after(*args: str) -> tuple[int, list[str]]:
    """The exit code of `obeya ARGS` in a fresh interpreter, and every module it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
    )
    doc = json.loads(done.stdout)
    return doc["code"], doc["modules"]


@pytest.mark.parametrize("args", [["--help"], ["metrics", "--help"]])
def test_help_imports_no_heavy_module(args: list[str]) -> None:
    code, modules = modules_after(*args)
    assert code == 0
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []
    assert sorted(m for m in modules if m.startswith(HEAVY_OBEYA)) == []


def test_a_command_loads_its_module_when_run() -> None:
    # The guard above must be able to fail: running a command does import what it needs.
    code, modules = modules_after("deps", "critical-path", str(SAMPLES / "plan.toml"))
    assert code == 0
    assert "obeya.cli.deps" in modules
    assert "numpy" in modules  # the Monte Carlo finish dates


def listed(output: str) -> list[str]:
    """The command names of a help screen, in the order shown (rows of Rich's panels)."""
    return re.findall(r"^│ ([a-z][a-z-]*) ", output, flags=re.MULTILINE)


def test_first_steps_are_listed_first_and_no_command_is_lost() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    names = listed(result.output)
    assert names[:5] == ["init", "sample", "serve", "import", "metrics"]
    assert sorted(names) == sorted(ALL_COMMANDS)
    assert result.output.index("Start here") < result.output.index("init")


@pytest.mark.parametrize("entry", COMMANDS, ids=[e.name for e in COMMANDS])
def test_listed_summary_is_the_first_paragraph_of_the_command_help(entry: Entry) -> None:
    command = load(entry)
    assert command.name == entry.name
    assert entry.summary == first_paragraph(command.help)


def test_a_listed_group_runs_and_answers_its_own_help() -> None:
    result = runner.invoke(app, ["map", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert {"show", "compare", "discover"} <= set(listed(result.output))
    unknown = runner.invoke(app, ["nosuch"])
    assert unknown.exit_code == 2
    assert "No such command 'nosuch'" in unknown.output


def make_run_url() -> str:
    """Where `make run` serves: the Makefile's HOST and PORT."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    host = re.search(r"^HOST \?= (\S+)$", makefile, flags=re.MULTILINE)
    port = re.search(r"^PORT \?= (\d+)$", makefile, flags=re.MULTILINE)
    assert host and port
    return f"http://{host[1]}:{port[1]}/"


def test_sample_says_how_to_open_the_app(obeya_home: Path) -> None:
    first = runner.invoke(app, ["sample"])
    assert first.exit_code == 0, first.output
    # No user yet: the link `obeya serve` prints makes the first admin.
    assert f"`obeya serve` (what `make run` runs) serves {make_run_url()}" in first.stdout
    assert "one-time sign-in link that makes you the workspace admin" in first.stdout
    added = runner.invoke(app, ["user", "add", "ana", "--role", "admin", "--no-password"])
    assert added.exit_code == 0, added.output
    again = runner.invoke(app, ["sample"])
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.stdout
    assert make_run_url() in again.stdout
    assert "`obeya user link [NAME]`" in again.stdout
    assert "makes you the workspace admin" not in again.stdout
