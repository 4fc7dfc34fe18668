"""TOML and JSON that break Python's parsers (nesting thousands deep, an integer of thousands of
digits) are refused as bad input naming the file, never escaping as a RecursionError or
ValueError (a 500 in the app, a traceback in the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from obeya.core.maps.files import load_map
from obeya.core.maps.model import MapError
from obeya.core.simulation.scenario import ScenarioError, load_scenario
from obeya.core.tomlfile import read_toml
from obeya.core.workflow import Workflow
from obeya.errors import InputError, WorkflowError

Write = Callable[..., Path]

DEEP = "a = " + "[" * 50_000 + "]" * 50_000 + "\n"
#: The long number is on line 3, as the value of ``demand_per_day``.
LONG = 'name = "x"\n# a comment\ndemand_per_day = ' + "7" * 5000 + "\n"


def test_read_toml_names_the_file(write: Write) -> None:
    deep = write("deep.toml", DEEP)
    with pytest.raises(InputError) as refused:
        read_toml(deep)
    assert str(refused.value).startswith(f"{deep}: not valid TOML (arrays or tables nested too")
    long = write("long.toml", LONG)
    with pytest.raises(InputError) as refused:
        read_toml(long)
    assert str(refused.value).startswith(
        f"{long}: not valid TOML (line 3, field 'demand_per_day': Exceeds the limit (4300 digits)"
    )


def test_files_read_through_read_toml_keep_their_error_class(write: Write) -> None:
    with pytest.raises(ScenarioError, match=r"scenario\.toml: not valid TOML"):
        load_scenario(write("scenario.toml", DEEP))


def test_workflow_text(write: Write) -> None:
    with pytest.raises(WorkflowError, match=r"^upload.toml: not valid TOML \(arrays or tables"):
        Workflow.from_toml_text(DEEP, "upload.toml")
    path = write("flow.toml", LONG)
    with pytest.raises(WorkflowError) as refused:
        Workflow.from_toml(path)
    assert str(refused.value).startswith(f"{path}: not valid TOML (line 3, field 'demand_per_day'")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("deep.toml", DEEP, "deep.toml: not valid TOML (arrays or tables nested too deeply"),
        ("long.toml", LONG, "long.toml: not valid TOML (line 3, field 'demand_per_day'"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "deep.json: not valid JSON: nested too"),
        ("long.json", '{"demand_per_day": ' + "7" * 5000 + "}", "long.json: not valid JSON: Exc"),
    ],
)
def test_map_files(write: Write, name: str, text: str, message: str) -> None:
    with pytest.raises(MapError) as refused:
        load_map(write(name, text))
    assert str(refused.value).startswith(message)
