"""User text printed by the CLI cannot drive the terminal nor style itself: a stream, map or
record named with escape sequences or Rich markup prints literally, control characters as
visible escapes (``\\x1b``), in messages, tables and errors alike."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from obeya.cli import common
from obeya.cli.common import clean, safe
from obeya.cli.main import app

runner = CliRunner()

#: An OSC 8 hyperlink, a clear-screen CSI, and Rich markup for a link and a style.
HYPERLINK = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"
EVIL = f"ops{HYPERLINK} [link=http://evil]x[/link] [bold red]loud\x1b[2J"
#: How EVIL must print: every ESC visible, the markup as typed.
SHOWN = (
    "ops\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\ [link=http://evil]x[/link] "
    "[bold red]loud\\x1b[2J"
)

CSV = "item_id,state,timestamp\nA,To Do,2024-01-01T09:00:00Z\nA,Done,2024-01-02T09:00:00Z\n"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Wide enough that no table wraps a name across lines (the assertions read it whole)."""
    monkeypatch.setattr(common.out, "width", 400)
    monkeypatch.setattr(common.err, "width", 400)
    yield


def run(*args: str, code: int = 0) -> tuple[str, str]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


def assert_inert(text: str) -> None:
    assert "\x1b" not in text
    assert not any("\x80" <= c <= "\x9f" for c in text)


@pytest.fixture
def evil_stream(obeya_home: Path, tmp_path: Path) -> Path:
    data = tmp_path / "items.csv"
    data.write_text(CSV)
    stdout, _ = run("import", str(data), "--stream", EVIL)
    assert_inert(stdout)
    assert f"in value stream '{SHOWN}'" in stdout
    return data


def test_streams_prints_a_hostile_name_literally(evil_stream: Path) -> None:
    stdout, _ = run("streams")
    assert_inert(stdout)
    assert f"{SHOWN}: 1 item, 2 events" in stdout


def test_restore_error_prints_the_stream_name_literally(evil_stream: Path, tmp_path: Path) -> None:
    archive = tmp_path / "team.obeya.zip"
    run("export", str(archive))
    # The stream is there already: the refusal names it, on stderr through the error printer.
    _, stderr = run("restore", str(archive), code=1)
    assert_inert(stderr)
    assert "error:" in stderr
    assert f"the store has stream {EVIL!r} already" in stderr  # the message quotes it


def test_archive_content_quoted_in_an_error_is_inert(obeya_home: Path, tmp_path: Path) -> None:
    archive = tmp_path / "bad.obeya.zip"
    manifest = {"format": "obeya-archive", "format_version": "[bold]9\x1b[2J\x9b31m"}
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
    run("init")
    _, stderr = run("restore", str(archive), code=1)
    assert_inert(stderr)
    assert "[bold]9" in stderr


def test_file_contents_in_a_parse_error_are_inert(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("item_id,state,timestamp\nA,To Do,[link=http://evil]t[/link]\x1b[2J\n")
    _, stderr = run("metrics", str(data), code=1)
    assert_inert(stderr)
    assert "[link=http://evil]t[/link]\\x1b[2J" in stderr


def test_table_cells_and_messages_of_records_are_inert(evil_stream: Path) -> None:
    stdout, _ = run(
        "risk", "add", "R-1", "--stream", EVIL, "--title", EVIL, "--probability", "0.5",
        "--impact", "3", "--owner", "[red]me",
    )  # fmt: skip
    assert_inert(stdout)
    board, _ = run("risk", "board", "--stream", EVIL)
    assert_inert(board)
    assert SHOWN in board
    assert "[red]me" in board
    listed, _ = run("steering", "list", "risk")
    assert_inert(listed)
    assert SHOWN in listed


def test_state_names_from_a_file_print_literally_in_tables(tmp_path: Path) -> None:
    # No store involved: the hostile text is a state name in the file, printed in a table.
    data = tmp_path / "items.csv"
    data.write_text(CSV.replace("To Do", "[bold red]Doing\x1b[2J\x9b1m"))
    stdout, _ = run("metrics", str(data))
    assert_inert(stdout)
    assert "[bold red]Doing\\x1b[2J\\x9b1m" in stdout


def test_an_option_value_in_a_usage_error_is_inert(tmp_path: Path) -> None:
    data = tmp_path / "items.csv"
    data.write_text(CSV)
    _, stderr = run("metrics", str(data), "--since", "[bold]x\x1b[2J", code=2)
    assert_inert(stderr)
    assert "[bold]x" in stderr


def test_json_output_keeps_controls_escaped(
    evil_stream: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stdout, _ = run("streams", "--json")
    assert_inert(stdout)
    assert json.loads(stdout)[0]["name"] == EVIL
    # json.dumps leaves C1 (8-bit CSI) and bidi overrides raw; print_json escapes them too.
    common.print_json({"name": "a\x9b2Jb\u202ec"})
    printed = capsys.readouterr().out
    assert_inert(printed)
    assert "\u202e" not in printed
    assert json.loads(printed) == {"name": "a\x9b2Jb\u202ec"}


def test_clean_and_safe() -> None:
    assert clean("a\x1bb\x9bc\x00\n\t\x7f") == "a\\x1bb\\x9bc\\x00\\x0a\\x09\\x7f"
    assert clean("left\u202eright") == "left\\u202eright"
    assert clean("plain – text ✓") == "plain – text ✓"
    assert safe("[bold]x[/bold]") == "\\[bold]x\\[/bold]"
    common.out.print(safe("[bold]x\x1b"))  # prints, no markup error
