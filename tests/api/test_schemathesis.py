"""Every operation of the OpenAPI document, fuzzed by schemathesis with a fixed seed: no answer
is a 5xx, and every answer is one the document declares (status code, content type, body).

The app runs over one workspace per module (per xdist worker): the stream "Tiny", a saved map
and a few steering records, and an admin of the whole workspace whose token signs every call.
Each operation is run twice: once entirely as generated (strange path parameters, mostly
answered 404 or 422), and once with its path parameters pinned to the saved data, so that the
generated query strings and bodies reach the computations behind the routes. Destructive calls
(deleting a stream, a role, a token, a record) are pinned to throwaway things seeded for them —
the stream "Gone", the user "throwaway" with a role on it, a token of theirs —, never to the
admin, their token or "Tiny", so the other operations keep working whatever order they run in.
The generation is derandomized and bounded, so a run is repeatable.
"""

from __future__ import annotations

import json
import tomllib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
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
from obeya.core.access import Role
from obeya.core.maps.files import map_from_dict
from obeya.render.charts import CHARTS
from obeya.workspace import Workspace

from support import SAMPLES, fresh_database

pytestmark = pytest.mark.slow  # fuzzes every operation of the API (`make test`, not `make check`)

#: The workspace the module's app serves; set by the ``seeded`` fixture.
_served: list[Workspace] = []
#: The admin, whose token signs every call, and the throwaway things destructive calls hit.
ADMIN = "tester"
THROWAWAY_USER = "throwaway"
THROWAWAY_STREAM = "Gone"


@dataclass(frozen=True)
class Seeded:
    workspace: Workspace
    headers: dict[str, str]  # the admin's Authorization header
    admin_token_id: int
    throwaway_token_id: int


_seeded: list[Seeded] = []


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
    workspace.steering.save_record(
        "risk", {"key": "R-1", "title": "Vendor late", "probability": 0.4, "impact": 5},
        author="t", stream="Tiny",
    )  # fmt: skip
    workspace.steering.save_record(
        "objective",
        {"key": "O-1", "title": "Faster", "key_results": [
            {"key": "KR-1", "title": "p85", "metric": "cycle_time_p85", "comparator": "<=",
             "target": 5},
        ]},
        author="t", stream="Tiny",
    )  # fmt: skip
    plan = json.loads(json.dumps(tomllib.loads((SAMPLES / "plan.toml").read_text()), default=str))
    workspace.steering.save_record("plan", {**plan, "key": "launch"}, author="t", stream="Tiny")
    experiment = {
        "key": "E-1",
        "hypothesis": "Pairing helps",
        "metric": "cycle_time",
        "baseline": "2024-01-01..2024-01-05",
        "trial": "2024-01-06..2024-01-12",
    }
    workspace.steering.save_record("experiment", experiment, author="t", stream="Tiny")
    workspace.steering.save_record(
        "risk", {"key": "R-2", "title": "To delete", "probability": 0.1, "impact": 1},
        author="t", stream="Tiny",
    )  # fmt: skip


def seed_access(workspace: Workspace) -> Seeded:
    """The admin and their token; the stream "Gone", a user with a role on it and a token of
    theirs, for the destructive operations to delete."""
    workspace.access.add_user(ADMIN, Role.ADMIN)
    secret, admin_token = workspace.access.create_token(ADMIN, "schemathesis", days=None)
    workspace.store.create_stream(THROWAWAY_STREAM)
    workspace.access.add_user(THROWAWAY_USER, Role.ADMIN, THROWAWAY_STREAM)
    _, throwaway_token = workspace.access.create_token(THROWAWAY_USER, "to revoke")
    return Seeded(
        workspace, {"Authorization": f"Bearer {secret}"}, admin_token.id, throwaway_token.id
    )


@pytest.fixture(scope="module", autouse=True)
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    directory: Path = tmp_path_factory.mktemp("schemathesis")
    with fresh_database(directory) as url, tiny_workspace(url, directory) as workspace:
        seed_records(workspace)
        found = seed_access(workspace)
        _served.append(workspace)
        _seeded.append(found)
        yield found
        _seeded.clear()
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
#: What a DELETE names instead: the throwaway record, stream and user (the token: by id).
DELETED = {"key": "R-2", "name": THROWAWAY_STREAM, "user": THROWAWAY_USER}
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
        pinned.update(DELETED, token_id=str(_seeded[0].throwaway_token_id))
    params = case.path_parameters or {}
    for name in list(params):
        if name == "chart":
            # A chart that exists, chosen by the generated value (stable across processes).
            charts = sorted(CHARTS)
            params[name] = charts[zlib.crc32(str(params[name]).encode()) % len(charts)]
        elif name in pinned:
            params[name] = pinned[name]


def spare_the_admin(case: schemathesis.Case) -> None:
    """A generated DELETE that happens to name the admin, their token or "Tiny" (a token id of
    1 is a likely pick) is turned to the throwaway one instead."""
    if case.method != "DELETE" or not case.path_parameters:
        return
    params = case.path_parameters
    seeded = _seeded[0]
    spared: dict[str, tuple[set[str], object]] = {
        "token_id": ({str(seeded.admin_token_id)}, seeded.throwaway_token_id),
        "user": ({ADMIN}, THROWAWAY_USER),
        "name": ({"Tiny"}, THROWAWAY_STREAM),
    }
    for name, (kept, instead) in spared.items():
        if name in params and str(params[name]) in kept:
            params[name] = instead


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    spare_the_admin(case)
    case.call_and_validate(headers=_seeded[0].headers, checks=CHECKS, timeout=TIMEOUT)


@schema.parametrize()
@FUZZ
def test_every_operation_on_saved_data_answers_as_documented(case: schemathesis.Case) -> None:
    pin_to_saved_data(case)
    case.call_and_validate(headers=_seeded[0].headers, checks=CHECKS, timeout=TIMEOUT)
