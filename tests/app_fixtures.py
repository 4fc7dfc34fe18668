"""The app under test: a workspace on the suite's database holding the small stream of
``api.tiny``, and a test client over it. Used by tests/api and tests/web (their conftest
files import these fixtures)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

# Imported quietly first by tests/conftest.py (Starlette's warning about httpx).
from fastapi.testclient import TestClient

from api.tiny import tiny_workspace
from obeya.api.app import create_app
from obeya.api.deps import AppContext
from obeya.api.limits import BodyLimits
from obeya.core.access import Role
from obeya.workspace import Workspace

from support import on_postgres


@pytest.fixture
def workspace(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Workspace]:
    """A workspace on the suite's database holding "Tiny" (imported as a user would)."""
    if on_postgres():
        with tiny_workspace(database_url, tmp_path) as ws:
            yield ws
        return
    shutil.copyfile(request.getfixturevalue("tiny_sqlite"), tmp_path / "obeya.db")
    with Workspace(database_url) as ws:
        yield ws


def bearer(
    workspace: Workspace, user: str = "tester", role: Role = Role.ADMIN, stream: str | None = None
) -> dict[str, str]:
    """The Authorization header of a new token for ``user``, given ``role`` on ``stream``."""
    workspace.access.add_user(user, role, stream)
    secret, _ = workspace.access.create_token(user, "tests")
    return {"Authorization": f"Bearer {secret}"}


@cache
def _routed() -> FastAPI:
    return create_app(lambda: pytest.fail("the suite's app is given its workspace per test"))


def app_over(workspace: Workspace) -> FastAPI:
    """The app :func:`create_app` makes over ``workspace``, its state (the workspace, body
    limits, sign-in limiter, session codec: all of ``app.state.obeya``) new for each test,
    its routes built once per test process: FastAPI builds an app's route table on its first
    requests (~0.5 s for Obeya's), a third of a profile of three page and API test files. One
    app at a time: a test that needs two, or other limits, calls create_app."""
    app = _routed()
    app.state.obeya = AppContext(lambda: workspace, BodyLimits.from_environment())
    return app


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    """A client signed in (by token) as an admin of the whole workspace. Server errors come
    back as responses (500), as a real client would see them."""
    app = app_over(workspace)
    headers = bearer(workspace)
    with TestClient(app, raise_server_exceptions=False, headers=headers) as test_client:
        yield test_client


@contextmanager
def where_called(module: Any, name: str) -> Iterator[list[bool]]:
    """Spy on ``module.name``: one entry per call, True when it ran on an event loop (it must
    not: work that takes seconds belongs in a worker thread)."""
    on_loop: list[bool] = []
    real = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:  # a worker thread has no running loop
            on_loop.append(False)
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, name, spy)
        yield on_loop
