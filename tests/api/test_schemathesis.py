"""Every operation of the OpenAPI document, fuzzed by schemathesis with a fixed seed: no answer
is a 5xx, and every answer is one the document declares (status code, content type, body).

The app runs over one workspace per module (per xdist worker): the stream "Tiny", a saved map
and a few steering records. Each operation is run twice: once entirely as generated (strange
path parameters, mostly answered 404 or 422), and once with its path parameters pinned to the
saved data, so that the generated query strings and bodies reach the computations behind the
routes. The generation is derandomized and bounded, so a run is repeatable.
"""

from __future__ import annotations

import json
import tomllib
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.test_api_maps import LINE
from api.tiny import tiny_workspace
from obeya.api.app import create_app
from obeya.core.maps.files import map_from_dict
from obeya.render.charts import CHARTS
from obeya.workspace import Workspace

from support import SAMPLES, fresh_database

#: The workspace the module's app serves; set by the ``seeded`` fixture.
_served: list[Workspace] = []


def _workspace() -> Workspace:
    assert _served, "the app was called before the module's workspace was made"
    return _served[0]


APP = create_app(_workspace)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

#: Seconds an answer may take. The checks are about correctness, not speed: schemathesis's
#: default (10 s) fails the first, cold computation of a page like the overview on a busy machine.
TIMEOUT = 60

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def seed_records(workspace: Workspace) -> None:
    """A saved map and one record of each kind a route reads by key."""
    workspace.save_map(map_from_dict({**LINE, "name": "Line"}, "map"), author="t", stream="Tiny")
    workspace.save_record(
        "risk", {"key": "R-1", "title": "Vendor late", "probability": 0.4, "impact": 5},
        author="t", stream="Tiny",
    )  # fmt: skip
    workspace.save_record(
        "objective",
        {"key": "O-1", "title": "Faster", "key_results": [
            {"key": "KR-1", "title": "p85", "metric": "cycle_time_p85", "comparator": "<=",
             "target": 5},
        ]},
        author="t", stream="Tiny",
    )  # fmt: skip
    plan = json.loads(json.dumps(tomllib.loads((SAMPLES / "plan.toml").read_text()), default=str))
    workspace.save_record("plan", {**plan, "key": "launch"}, author="t", stream="Tiny")
    experiment = {
        "key": "E-1",
        "hypothesis": "Pairing helps",
        "metric": "cycle_time",
        "baseline": "2024-01-01..2024-01-05",
        "trial": "2024-01-06..2024-01-12",
    }
    workspace.save_record("experiment", experiment, author="t", stream="Tiny")
    workspace.save_record(
        "risk", {"key": "R-2", "title": "To delete", "probability": 0.1, "impact": 1},
        author="t", stream="Tiny",
    )  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    directory: Path = tmp_path_factory.mktemp("schemathesis")
    with fresh_database(directory) as url, tiny_workspace(url, directory) as workspace:
        seed_records(workspace)
        _served.append(workspace)
        yield workspace
        _served.clear()
        APP.state.obeya.close()  # the app's lifespan outlives the module: close it here


#: Path parameters that name what ``seed_records`` saved, by path template. DELETE gets a key of
#: its own, so that deleting cannot take the other operations' record away.
SAVED = {"name": "Tiny", "stream": "Tiny", "variant": "current", "kind": "risk", "key": "R-1"}
SAVED_BY_PATH: dict[str, dict[str, str]] = {
    "/api/maps/{name}/compare": {"name": "Line"},
    "/api/maps/{name}/{variant}": {"name": "Line"},
    "/api/streams/{name}/plans/{key}": {"key": "launch"},
    "/api/streams/{name}/plans/{key}/drawing": {"key": "launch"},
    "/api/streams/{name}/experiments/{key}": {"key": "E-1"},
}
#: Generation settings: fixed (derandomized) and small enough for a few minutes on 2 cores.
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    # Generated bodies are large and often filtered; neither is a fault of the app.
    suppress_health_check=list(HealthCheck),
)


def pin_to_saved_data(case: schemathesis.Case) -> None:
    """Point ``case``'s path parameters at the module's saved stream, map and records."""
    path = case.operation.path
    pinned = {**SAVED, **SAVED_BY_PATH.get(path, {})}
    if path.startswith("/api/maps/{name}/{variant}"):
        pinned["name"] = "Line"
    if case.method == "DELETE":
        pinned["key"] = "R-2"
    params = case.path_parameters or {}
    for name in list(params):
        if name == "chart":
            # A chart that exists, chosen by the generated value (stable across processes).
            charts = sorted(CHARTS)
            params[name] = charts[zlib.crc32(str(params[name]).encode()) % len(charts)]
        elif name in pinned:
            params[name] = pinned[name]


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=TIMEOUT)


@schema.parametrize()
@FUZZ
def test_every_operation_on_saved_data_answers_as_documented(case: schemathesis.Case) -> None:
    pin_to_saved_data(case)
    case.call_and_validate(checks=CHECKS, timeout=TIMEOUT)
