"""The report cache of the app: a dashboard and its charts compute the report once, and any
change to the stream's events or workflow is seen: at once when made through the app's own
workspace, within a moment (``STAMP_SECONDS``) when made by another process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from api.tiny import TINY_CSV
from app_fixtures import TestClient
from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap
from obeya.store import store as store_module
from obeya.workspace import Workspace


def test_a_report_is_computed_once_and_follows_imports(
    client: TestClient, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    flow = workspace.flow

    def counted(stream: str, *args: object, **kwargs: object) -> object:
        calls.append(stream)
        return flow(stream, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workspace, "flow", counted)
    first = client.get("/api/streams/Tiny/flow").json()
    assert client.get("/api/streams/Tiny/flow").json() == first
    assert len(calls) == 1  # the second read came from the cache
    assert first["items"]["total"] == 5

    # Another import through the app's workspace adds item F: seen at once.
    more = tmp_path / "more.csv"
    more.write_text("item_id,state,timestamp\nF,In Progress,2024-01-12\n", encoding="utf-8")
    workspace.import_file(more, "Tiny", columns=ColumnMap())
    assert client.get("/api/streams/Tiny/flow").json()["items"]["total"] == 6
    assert len(calls) == 2

    # An import that adds nothing is recorded too; the report is recomputed, and equal.
    workspace.import_file(more, "Tiny", columns=ColumnMap())
    again = client.get("/api/streams/Tiny/flow").json()
    assert again["items"]["total"] == 6 and len(calls) == 3

    # A new workflow: Blocked becomes active, so flow efficiency becomes 100 %.
    wf = 'backlog = ["To Do"]\nactive = ["In Progress", "Blocked"]\ndone = ["Done"]\n'
    workspace.set_workflow("Tiny", Workflow.from_toml_text(wf))
    assert client.get("/api/streams/Tiny/flow").json()["flow_efficiency"] == 1.0


def test_a_recreated_stream_is_not_served_from_the_cache(
    client: TestClient, workspace: Workspace, tmp_path: Path
) -> None:
    assert client.get("/api/streams/Tiny/flow").json()["items"]["total"] == 5
    workspace.store.delete_stream("Tiny")
    fewer = tmp_path / "fewer.csv"
    fewer.write_text("\n".join(TINY_CSV.splitlines()[:4]) + "\n", encoding="utf-8")  # item A
    workspace.import_file(fewer, "Tiny", columns=ColumnMap())
    assert client.get("/api/streams/Tiny/flow").json()["items"]["total"] == 1


def test_charts_are_built_once_and_follow_the_workflow(
    client: TestClient, workspace: Workspace
) -> None:
    first = client.get("/api/streams/Tiny/charts/time-in-state").json()
    assert client.get("/api/streams/Tiny/charts/time-in-state").json() == first
    # The chart colours states by category; a new workflow recolours them at once.
    wf = 'backlog = ["To Do"]\nactive = ["In Progress", "Blocked"]\ndone = ["Done"]\n'
    workspace.set_workflow("Tiny", Workflow.from_toml_text(wf))
    assert client.get("/api/streams/Tiny/charts/time-in-state").json() != first
    # The cached document is the report's own, unchanged by the charts built from it.
    doc = client.get("/api/streams/Tiny/flow", params={"detail": "true"}).json()
    assert doc == workspace.flow("Tiny", detail=True).to_dict(detail=True)


def test_another_process_import_is_seen_within_the_moment(
    client: TestClient, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "STAMP_SECONDS", 0.2)
    assert client.get("/api/streams/Tiny/flow").json()["items"]["total"] == 5
    more = tmp_path / "more.csv"
    more.write_text("item_id,state,timestamp\nF,In Progress,2024-01-12\n", encoding="utf-8")
    with Workspace(workspace.store.url) as other:  # its own engine, as another process has
        other.import_file(more, "Tiny", columns=ColumnMap())
    time.sleep(0.25)
    assert client.get("/api/streams/Tiny/flow").json()["items"]["total"] == 6


def test_a_burst_for_a_report_not_computed_yet_computes_it_once(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fifty viewers opening a dashboard at once: each computed the report on a database
    connection of its own, the pool ran dry and requests failed after 30 s. Now the first
    computes; the others wait for it and get the same report."""
    from concurrent.futures import ThreadPoolExecutor

    from obeya.core.metrics import FlowFilter
    from obeya.workspace_reports import Reports

    calls: list[str] = []
    flow = workspace.flow

    def slow(stream: str, *args: object, **kwargs: object) -> object:
        calls.append(stream)
        time.sleep(0.3)  # long enough for every thread to miss the cache
        return flow(stream, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workspace, "flow", slow)
    cache = Reports(workspace)
    with ThreadPoolExecutor(max_workers=12) as pool:
        reports = list(
            pool.map(lambda _: cache.report("Tiny", FlowFilter(), detail=False), range(12))
        )
    assert calls == ["Tiny"]
    assert all(r is reports[0] for r in reports)
    # Another filter is another report: computed on its own.
    cache.report("Tiny", FlowFilter(types=("Bug",)), detail=False)
    assert calls == ["Tiny", "Tiny"]
