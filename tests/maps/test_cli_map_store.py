"""``obeya map save | list | history | variant | get | compare --variants | export`` and
``discover --stream --save`` end to end, on the suite's database."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from xml.etree import ElementTree

import pytest

from maps.test_cli_maps import BASE, root, runner
from obeya.core.maps.files import load_map, map_from_dict
from obeya.workspace import Workspace

# The three-step map worked by hand in test_cli_maps.py (total LT 28 h = 10 + 5 + 1 + 2/4 × 24).
LINE = BASE


@pytest.fixture
def line(tmp_path: Path, obeya_home: Path) -> Path:
    path = tmp_path / "line.toml"
    path.write_text(LINE, encoding="utf-8")
    return path


def run(*args: str) -> str:
    result = runner.invoke(root, ["map", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(*args: str) -> str:
    result = runner.invoke(root, ["map", *args])
    assert result.exit_code == 1, result.output
    return result.stderr


def test_save_list_history_and_get(line: Path, tmp_path: Path) -> None:
    assert "as version 1" in run("save", str(line), "--author", "ana", "-m", "first")
    assert "as version 2" in run(
        "save", str(line), "--author", "bo", "-m", "again", "--expect-version", "1"
    )
    [listed] = json.loads(run("list", "--json"))
    assert (listed["name"], listed["variant"], listed["version"], listed["author"]) == (
        "Line",
        "current",
        2,
        "bo",
    )
    assert "Line" in run("list")
    history = json.loads(run("history", "Line", "--json"))
    assert [(h["version"], h["author"], h["message"]) for h in history] == [
        (1, "ana", "first"),
        (2, "bo", "again"),
    ]
    assert "again" in run("history", "Line")
    figures = json.loads(run("get", "Line", "--json"))
    assert figures["totals"]["lead_time_hours"] == 28.0
    assert "version 2, saved by bo" in run("get", "Line")
    toml = tmp_path / "again.toml"
    toml.write_text(run("get", "Line", "--version", "1", "--toml"), encoding="utf-8")
    assert load_map(toml) == load_map(line)


def test_a_stale_save_fails_and_saves_nothing(line: Path) -> None:
    run("save", str(line), "--author", "ana")
    run("save", str(line), "--author", "bo")
    message = fails("save", str(line), "--author", "cy", "--expect-version", "1")
    assert "changed since version 1 (now 2) by bo" in message
    assert json.loads(run("list", "--json"))[0]["version"] == 2


def test_an_invalid_map_file_names_the_field_and_saves_nothing(line: Path) -> None:
    line.write_text(LINE.replace("process_time_hours = 2", "process_time_hours = -2"))
    assert "steps[0].process_time_hours" in fails("save", str(line))
    assert json.loads(run("list", "--json")) == []


def test_a_variant_is_copied_changed_and_compared(line: Path, tmp_path: Path) -> None:
    run("save", str(line), "--author", "ana")
    assert "as version 1" in run("variant", "Line", "future", "--from", "current")
    future = tmp_path / "future.toml"
    future.write_text(
        run("get", "Line", "--variant", "future", "--toml").replace(
            "lead_time_hours = 10.0", "lead_time_hours = 6.0"
        ),
        encoding="utf-8",
    )
    assert load_map(future).variant == "future"
    run("save", str(future), "--expect-version", "1", "-m", "faster build")
    comparison = json.loads(run("compare", "Line", "--variants", "current,future", "--json"))
    [variant] = comparison["variants"]
    total = next(f for f in variant["figures"] if f["figure"] == "totals.lead_time_hours")
    assert (total["base"], total["value"], total["delta"]) == (28.0, 24.0, -4.0)
    assert "current → future" in run("compare", "Line", "--variants", "current,future")
    history = json.loads(run("history", "Line", "--variant", "future", "--json"))
    assert history[0]["message"] == "copied from current version 1"
    assert history[1]["changes"] == ["steps.Build.lead_time_hours"]


def test_compare_needs_files_or_variants(line: Path) -> None:
    result = runner.invoke(root, ["map", "compare", str(line)])
    assert result.exit_code == 2


def test_export_json_of_a_file_and_of_a_saved_map(line: Path, tmp_path: Path) -> None:
    document = json.loads(run("export", str(line), "--format", "json"))
    assert map_from_dict(document) == load_map(line)
    run("save", str(line), "--variant", "future", "--author", "ana")
    out = tmp_path / "future.json"
    run("export", "Line", "--variant", "future", "--format", "json", "-o", str(out))
    assert json.loads(out.read_text())["variant"] == "future"
    assert "give svg, png or json" in fails("export", str(line), "--format", "gif")
    assert "no map" in fails("export", "Nope", "--format", "json")


def test_export_svg(line: Path) -> None:
    svg = run("export", str(line), "--format", "svg")
    assert "<svg" in svg
    assert svg.rstrip().endswith("</svg>")


def test_export_png_at_the_drawing_size(line: Path, tmp_path: Path) -> None:
    svg = ElementTree.fromstring(run("export", str(line), "--format", "svg"))
    png = tmp_path / "line.png"
    run("export", str(line), "--format", "png", "-o", str(png))
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (int(float(svg.get("width"))), int(float(svg.get("height"))))
    assert "give --output" in fails("export", str(line), "--format", "png")
    # Without --format the output's suffix says which; a name without one gets SVG.
    guessed = tmp_path / "guessed.PNG"
    run("export", str(line), "-o", str(guessed))
    assert guessed.read_bytes() == data
    plain = tmp_path / "plain"
    run("export", str(line), "-o", str(plain))
    assert plain.read_text(encoding="utf-8").startswith("<svg")


def test_discover_a_stream_and_save_its_map(obeya_home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "tiny.csv"
    csv.write_text(
        "item_id,state,timestamp\n"
        "A,To Do,2024-01-01\nA,In Progress,2024-01-02\nA,Done,2024-01-04\n"
        "B,To Do,2024-01-01\nB,In Progress,2024-01-03\nB,Done,2024-01-09\n",
        encoding="utf-8",
    )
    with Workspace() as ws:
        ws.initialise()
        ws.import_file(csv, "Tiny")
    result = runner.invoke(
        root, ["map", "discover", "--stream", "Tiny", "--save", "--name", "T", "--author", "ana"]
    )
    assert result.exit_code == 0, result.output
    assert "saved map 'T' (current) as version 1" in result.stderr
    [listed] = json.loads(run("list", "--json"))
    assert (listed["name"], listed["stream"], listed["author"]) == ("T", "Tiny", "ana")
    bad = runner.invoke(root, ["map", "discover", str(csv), "--save"])
    assert bad.exit_code == 2


def test_a_save_never_moves_a_map_and_move_does(line: Path) -> None:
    """Saving a map under its name from another stream is refused; ``map move`` moves every
    variant, and the store's audit log says so in both streams."""
    with Workspace() as ws:
        ws.initialise()
        ws.store.create_stream("Alpha")
        ws.store.create_stream("Beta")
    run("save", str(line), "--stream", "Alpha", "--author", "ana")
    run("variant", "Line", "future", "--author", "ana")
    refused = fails("save", str(line), "--stream", "Beta", "--author", "bo")
    assert "map 'Line' is not in the value stream this save names" in refused
    assert "moved map 'Line' to value stream 'Beta'" in run("move", "Line", "--to", "Beta")
    listed = json.loads(run("list", "--json"))
    assert {(m["variant"], m["stream"]) for m in listed} == {
        ("current", "Beta"),
        ("future", "Beta"),
    }
    with Workspace() as ws:
        for stream in ("Alpha", "Beta"):
            [move] = [e for e in ws.store.audit_log(stream=stream) if e.action == "map.move"]
            assert move.before == {"stream": ["Alpha"]} and move.after == {"stream": "Beta"}
    assert "version 2" in run("save", str(line), "--stream", "Beta", "--author", "bo")
    assert "moved map 'Line' to no value stream" in run("move", "Line")


def test_export_png_draws_the_text(line: Path, tmp_path: Path) -> None:
    """The drawing's labels and figures are in the PNG, whatever fonts the machine has: the
    image differs from the same drawing with every text element taken out (with no font the
    renderer knew, both came out the same, a map without a word on it)."""
    from obeya.render.raster import svg_to_png

    svg = run("export", str(line), "--format", "svg")
    png = tmp_path / "line.png"
    run("export", str(line), "--format", "png", "-o", str(png))
    namespace = "http://www.w3.org/2000/svg"
    ElementTree.register_namespace("", namespace)
    tree = ElementTree.fromstring(svg)
    texts = 0
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag == f"{{{namespace}}}text":
                parent.remove(child)
                texts += 1
    assert texts > 5
    wordless = svg_to_png(ElementTree.tostring(tree, encoding="unicode"))
    assert png.read_bytes() != wordless
