"""Export and restore: a workspace goes into an archive and comes back identical, on SQLite and
PostgreSQL both ways; one stream alone; damaged, foreign, newer and clashing archives refused
with nothing changed; and the two commands end to end."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.delivery.records import Change, DeliveryHistory, Deployment, Incident
from obeya.core.events import EventLog
from obeya.core.maps.compare import with_step
from obeya.core.maps.model import Step, ValueStreamMap
from obeya.core.workflow import Workflow
from obeya.errors import InputError, ParseError, StoreError
from obeya.ingest import ColumnMap
from obeya.ingest.limits import IngestLimits
from obeya.store.archive import FORMAT_VERSION, read_manifest, restore_archive
from obeya.store.migrate import head_revision
from obeya.store.models import (
    ChangeRow,
    DeploymentRow,
    ImportRow,
    IncidentRow,
    MapRow,
    MapVersionRow,
    RecordRow,
    RecordVersionRow,
    StreamRow,
)
from obeya.store.versioning import utc
from obeya.workspace import SAMPLE_COLUMNS, SAMPLE_STEERING, SAMPLE_WORKFLOW, Workspace

from support import DATASETS, on_postgres

runner = CliRunner()

#: Rows of the real BPIC 2013 incidents log taken (about 3,000 events, whole items cut).
BPIC_ROWS = 3_000
BPIC = "VINST incidents"

# An empty type, a null title and text beyond ASCII, so that every column travels; a repeat
# (an XES log may record one activity twice at one instant) is added in build_workspace.
TINY_CSV = """item_id,state,timestamp,type,title
A,To Do,2024-01-01T09:00:00Z,Bug,Ünïcode — ✓
A,Doing,2024-01-02T09:00:00.123456Z,Bug,
A,Done,2024-01-04T17:00:00Z,Bug,
B,To Do,2024-01-01T10:00:00Z,,"comma, and ""quotes"" "
B,Doing,2024-01-03T09:00:00Z,,
B,Done,2024-01-09T12:00:00Z,,
C,To Do,2024-01-05T08:00:00Z,Story,
"""
TINY_WORKFLOW = """backlog = ["To Do"]
active = ["Doing"]
done = ["Done"]
"""

LINE = ValueStreamMap(
    name="Line",
    demand_per_day=4,
    steps=(
        Step("Build", process_time_hours=2, lead_time_hours=10, complete_accurate=0.5),
        Step("Check", process_time_hours=1, lead_time_hours=5, inventory_before=2),
    ),
)


def build_workspace(url: str, directory: Path) -> None:
    """Two streams (a tiny one, a slice of the real BPIC log), a map in two versions linked
    to Tiny and one linked to no stream, the sample steering records and a risk of Tiny
    changed once."""
    tiny = directory / "tiny.csv"
    tiny.write_text(TINY_CSV, encoding="utf-8")
    bpic = directory / "bpic.csv"
    with gzip.open(DATASETS / "bpic2013_incidents_transitions.csv.gz", "rt") as source:
        bpic.write_text("".join(line for _, line in zip(range(BPIC_ROWS), source, strict=False)))
    with Workspace(url) as ws:
        ws.initialise()
        ws.import_file(
            tiny, "Tiny", workflow=Workflow.from_toml_text(TINY_WORKFLOW), columns=ColumnMap()
        )
        ws.import_file(
            bpic, BPIC, workflow=Workflow.from_toml(SAMPLE_WORKFLOW), columns=SAMPLE_COLUMNS
        )
        ws.import_file(bpic, BPIC, columns=SAMPLE_COLUMNS)  # a re-import: 0 added, audited
        repeat = {"item_id": "D", "state": "To Do", "timestamp": "2024-01-06T09:00:00Z"}
        ws.store.append_events("Tiny", EventLog.from_rows([repeat, repeat]), source="d.xes")
        # Delivery records of Tiny (BPIC has none): a resolved and an open incident.
        ws.store.delivery.save("Tiny", DELIVERY, source="delivery.csv")
        ws.save_map(LINE, author="ana", message="first draft", stream="Tiny")
        ws.save_map(with_step(LINE, "Check", people=2), author="bo", message="two checkers")
        ws.save_map(
            ValueStreamMap(name="Idea", variant="future", demand_per_day=1, steps=LINE.steps),
            author="chen",
        )
        ws.steering.load_steering_file(SAMPLE_STEERING, author="obeya sample", stream=BPIC)
        risk = {"key": "R-T", "title": "Reviews pile up", "probability": 0.2, "impact": 3}
        ws.steering.save_record(
            "risk", risk, author="ana", message="seen in standup", stream="Tiny"
        )
        ws.steering.save_record(
            "risk", {**risk, "probability": 0.6}, author="bo", message="worse", stream="Tiny"
        )


DAY = datetime(2024, 1, 8, 10, 30, tzinfo=UTC)
DELIVERY = DeliveryHistory(
    deployments=(
        Deployment("42", "production", DAY, "success"),
        Deployment("43", "staging", DAY + timedelta(hours=1), "failure"),
    ),
    changes=(Change("abc123", DAY - timedelta(hours=20), "42"),),
    incidents=(
        Incident("INC-1", DAY + timedelta(hours=2), DAY + timedelta(hours=5), "42"),
        Incident("INC-2", DAY + timedelta(days=1)),
    ),
)

#: The events as the snapshot reads them, with the stream by name.
EVENTS = pa.schema(
    [
        *((name, pa.string()) for name in ("stream", "item_id", "state")),
        *((name, pa.int64()) for name in ("t", "copy", "seq", "created")),
        *((name, pa.string()) for name in ("type", "title", "team", "assignee")),
    ]
)


def snapshot(url: str) -> dict[str, Any]:
    """Every table's content without its surrogate ids (streams, maps and records by name),
    times in UTC, the events as an Arrow table in a fixed order, and each stream's flow."""
    engine = Workspace(url).store.engine
    stream = StreamRow.name.label("stream")
    m, r = MapRow, RecordRow
    mv, rv = MapVersionRow, RecordVersionRow
    queries = {
        "streams": sa.select(
            StreamRow.name, StreamRow.workflow_toml, StreamRow.created_at
        ).order_by(StreamRow.name),
        "imports": sa.select(
            stream,
            *(ImportRow.source, ImportRow.sha256, ImportRow.events_in_file),
            *(ImportRow.events_added, ImportRow.imported_at),
        )
        .join(StreamRow, StreamRow.id == ImportRow.stream_id)
        .order_by(StreamRow.name, ImportRow.imported_at),
        "maps": sa.select(m.name, m.variant, stream, m.current_version, m.created_at, m.updated_at)
        .outerjoin(StreamRow, StreamRow.id == m.stream_id)
        .order_by(m.name, m.variant),
        "map_versions": sa.select(
            m.name, m.variant, mv.version, mv.document, mv.author, mv.message, mv.created_at
        )
        .join(m, m.id == mv.map_id)
        .order_by(m.name, m.variant, mv.version),
        "records": sa.select(r.kind, r.key, stream, r.current_version, r.created_at, r.updated_at)
        .outerjoin(StreamRow, StreamRow.id == r.stream_id)
        .order_by(r.kind, r.key),
        "record_versions": sa.select(
            r.kind, r.key, rv.version, rv.document, rv.author, rv.message, rv.created_at
        )
        .join(r, r.id == rv.record_id)
        .order_by(r.kind, r.key, rv.version),
    }
    for model, key in (
        (DeploymentRow, DeploymentRow.deployment_id),
        (ChangeRow, ChangeRow.change_id),
        (IncidentRow, IncidentRow.incident_id),
    ):
        columns = [c for c in model.__table__.c if c.name not in ("id", "stream_id")]
        queries[model.__tablename__] = (
            sa.select(stream, *columns)
            .join(StreamRow, StreamRow.id == model.stream_id)
            .order_by(StreamRow.name, key)
        )
    found: dict[str, Any] = {}
    with engine.connect() as connection:
        for table, query in queries.items():
            found[table] = [
                tuple(utc(v) if isinstance(v, datetime) else v for v in row)
                for row in connection.execute(query)
            ]
        events = connection.execute(
            sa.text(
                "SELECT s.name AS stream, e.item_id, e.state, e.t, e.copy, e.seq, e.created, "
                "e.type, e.title, e.team, e.assignee FROM events e "
                "JOIN streams s ON s.id = e.stream_id"
            )
        )
        table = pa.Table.from_pylist([dict(row._mapping) for row in events], EVENTS)
    engine.dispose()
    if table.num_rows:
        order = ["stream", "item_id", "t", "seq", "copy"]
        table = table.sort_by([(c, "ascending") for c in order])
    found["events"] = table
    with Workspace(url) as ws:
        found["flow"] = {s.name: ws.flow(s.name).to_dict() for s in ws.streams()}
    return found


def assert_same(found: dict[str, Any], expected: dict[str, Any]) -> None:
    assert found.keys() == expected.keys()
    for table, content in expected.items():
        if table == "events":
            assert found[table].equals(content), table
        else:
            assert found[table] == content, table


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A workspace built once on SQLite, and its archive."""
    directory = tmp_path_factory.mktemp("source")
    url = f"sqlite:///{directory / 'source.db'}"
    build_workspace(url, directory)
    archive = directory / "all.obeya.zip"
    with Workspace(url) as ws:
        ws.export_archive(archive)
    return url, archive


@pytest.fixture(scope="module")
def source_snapshot(sqlite_source: tuple[str, Path]) -> dict[str, Any]:
    return snapshot(sqlite_source[0])


def fresh(url: str) -> Workspace:
    ws = Workspace(url)
    ws.initialise()
    return ws


# -- round trips --------------------------------------------------------------------------------


def test_an_archive_restores_identical(
    sqlite_source: tuple[str, Path], source_snapshot: dict[str, Any], database_url: str
) -> None:
    """SQLite → the suite's store (PostgreSQL in the PostgreSQL half)."""
    _, archive = sqlite_source
    seen: list[tuple[int, int]] = []
    with fresh(database_url) as ws:
        summary = ws.restore_archive(
            archive, progress=lambda done, total: seen.append((done, total))
        )
        assert summary.streams == ("Tiny", BPIC)
        assert (summary.maps, summary.rows["map_versions"]) == (2, 3)
        assert summary.records == 17
        assert summary.rows["record_versions"] == 18
        assert summary.rows["imports"] == 4
        history = ws.steering.record_history("risk", "R-T")
        assert [(v.version, v.author, v.message) for v, _ in history] == [
            (1, "ana", "seen in standup"),
            (2, "bo", "worse"),
        ]
        assert [v.changes for v in ws.map_history("Line")] == [(), ("steps.Check.people",)]
        # The restore is one line of the audit log, by whoever ran it.
        [entry] = ws.store.audit_log(limit=1)
        assert (entry.action, entry.target) == ("archive.restore", archive.name)
        assert entry.actor.startswith("cli")
        assert entry.after["streams"] == ["Tiny", BPIC]
        assert entry.after["rows"]["events"] == summary.events
    restored = snapshot(database_url)
    assert source_snapshot["events"].num_rows == summary.events > BPIC_ROWS // 2
    assert seen[-1] == (summary.events, summary.events)
    # The repeat of the tiny stream kept its copy number.
    assert 1 in source_snapshot["events"].column("copy").to_pylist()
    assert_same(restored, source_snapshot)


def test_the_suites_store_exports_into_sqlite(
    database_url: str, tmp_path: Path, source_snapshot: dict[str, Any]
) -> None:
    """The suite's store (PostgreSQL in the PostgreSQL half) → SQLite."""
    build_workspace(database_url, tmp_path)
    archive = tmp_path / "out.obeya.zip"
    with Workspace(database_url) as ws:
        assert ws.store.engine.dialect.name == ("postgresql" if on_postgres() else "sqlite")
        ws.export_archive(archive)
    original = snapshot(database_url)
    target = f"sqlite:///{tmp_path / 'target.db'}"
    with fresh(target) as ws:
        ws.restore_archive(archive)
    assert_same(snapshot(target), original)
    # Built the same way on another engine, the same flow and history of events.
    assert original["flow"] == source_snapshot["flow"]
    key = ["stream", "item_id", "state", "t", "copy", "seq", "created", "type", "title"]
    assert original["events"].select(key).equals(source_snapshot["events"].select(key))


def test_one_stream_takes_its_own_maps_and_records(
    sqlite_source: tuple[str, Path],
    source_snapshot: dict[str, Any],
    database_url: str,
    tmp_path: Path,
) -> None:
    archive = tmp_path / "tiny.obeya.zip"
    with Workspace(sqlite_source[0]) as ws:
        exported = ws.export_archive(archive, ["Tiny"])
    manifest = read_manifest(archive)
    assert (manifest["scope"], manifest["streams"]) == ("streams", ["Tiny"])
    assert manifest["schema_revision"] == head_revision()
    with zipfile.ZipFile(archive) as opened:
        [stream] = [json.loads(line) for line in opened.read("streams.jsonl").splitlines()]
        [record] = [json.loads(line) for line in opened.read("records.jsonl").splitlines()]
    assert set(stream) == {"name", "workflow_toml", "created_at"}  # no ids
    assert stream["created_at"].endswith("+00:00")
    assert (record["kind"], record["key"], record["stream"]) == ("risk", "R-T", "Tiny")
    assert exported.rows == {
        "streams": 1,
        "imports": 2,
        "maps": 1,
        "map_versions": 2,
        "records": 1,
        "record_versions": 2,
        "deployments": 2,
        "changes": 1,
        "incidents": 2,
        "events": 9,
    }
    with fresh(database_url) as ws:
        ws.restore_archive(archive)
    restored = snapshot(database_url)
    assert restored["streams"] == [s for s in source_snapshot["streams"] if s[0] == "Tiny"]
    assert restored["maps"] == [m for m in source_snapshot["maps"] if m[2] == "Tiny"]
    assert restored["records"] == [r for r in source_snapshot["records"] if r[2] == "Tiny"]
    events = source_snapshot["events"]
    tiny = events.filter(pc.equal(events["stream"], "Tiny"))
    assert restored["events"].equals(tiny)
    assert restored["flow"] == {"Tiny": source_snapshot["flow"]["Tiny"]}


def test_an_older_revision_restores(
    sqlite_source: tuple[str, Path], database_url: str, tmp_path: Path
) -> None:
    """An archive of revision 0002 (before steering records) restores without them."""
    old = tmp_path / "old.obeya.zip"

    def older(manifest: dict[str, Any]) -> None:
        manifest["schema_revision"] = "0002"
        for member in ("records.jsonl", "record_versions.jsonl"):
            del manifest["members"][member]

    rewrite(sqlite_source[1], old, manifest=older, drop=("records.jsonl", "record_versions.jsonl"))
    with fresh(database_url) as ws:
        summary = ws.restore_archive(old)
        assert (len(summary.streams), summary.maps, summary.records) == (2, 2, 0)


# -- refusals -----------------------------------------------------------------------------------


def rewrite(
    source: Path,
    target: Path,
    *,
    manifest: Callable[[dict[str, Any]], None] | None = None,
    members: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
) -> Path:
    """A copy of an archive with its manifest edited, members replaced or left out."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name in drop:
                continue
            if name == "manifest.json" and manifest is not None:
                document = json.loads(data)
                manifest(document)
                data = json.dumps(document).encode()
            new.writestr(name, (members or {}).get(name, data))
    return target


@pytest.fixture
def restored(sqlite_source: tuple[str, Path], database_url: str) -> Workspace:
    with fresh(database_url) as ws:
        ws.restore_archive(sqlite_source[1])
    return Workspace(database_url)


def test_a_changed_member_is_refused_by_name(
    sqlite_source: tuple[str, Path], database_url: str, tmp_path: Path
) -> None:
    source = sqlite_source[1]
    with zipfile.ZipFile(source) as archive:
        versions = archive.read("record_versions.jsonl")
    changed = versions.replace(b"Reviews pile up", b"Reviews are fine")
    assert changed != versions
    tampered = rewrite(
        source, tmp_path / "tampered.obeya.zip", members={"record_versions.jsonl": changed}
    )
    with fresh(database_url) as ws, pytest.raises(InputError) as refused:
        ws.restore_archive(tampered)
    assert "record_versions.jsonl does not match its sha256" in str(refused.value)
    assert str(tampered) in str(refused.value)
    assert snapshot(database_url)["streams"] == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: m.update(format_version=FORMAT_VERSION + 1),
            "format version 2; this Obeya reads version 1",
        ),
        (lambda m: m.update(format="zip-of-things"), 'does not say "format": "obeya-archive"'),
        (
            lambda m: m.update(schema_revision="0099"),
            "schema revision '0099', which this Obeya does not know",
        ),
    ],
    ids=["format-version", "format", "newer-revision"],
)
def test_an_archive_this_obeya_cannot_read_is_refused(
    sqlite_source: tuple[str, Path],
    database_url: str,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    foreign = rewrite(sqlite_source[1], tmp_path / "foreign.obeya.zip", manifest=edit)
    with (
        fresh(database_url) as ws,
        pytest.raises(InputError, match=re.escape(str(foreign))) as refused,
    ):
        ws.restore_archive(foreign)
    assert message in str(refused.value)
    assert snapshot(database_url)["streams"] == []


def test_a_missing_member_is_refused_by_name(
    sqlite_source: tuple[str, Path], database_url: str, tmp_path: Path
) -> None:
    cut = rewrite(sqlite_source[1], tmp_path / "cut.obeya.zip", drop=("events.parquet",))
    with fresh(database_url) as ws, pytest.raises(InputError, match=r"events\.parquet is missing"):
        ws.restore_archive(cut)
    assert snapshot(database_url)["streams"] == []


def test_not_an_archive(database_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.obeya.zip"
    junk.write_text("item_id,state\n", encoding="utf-8")
    with fresh(database_url) as ws, pytest.raises(InputError, match="is not an Obeya archive"):
        ws.restore_archive(junk)


def test_what_the_store_has_already_is_named_and_nothing_changes(
    sqlite_source: tuple[str, Path], restored: Workspace, database_url: str, tmp_path: Path
) -> None:
    tiny = tmp_path / "tiny.obeya.zip"
    with Workspace(sqlite_source[0]) as source:
        source.export_archive(tiny, ["Tiny"])
    with restored as ws:
        ws.steering.save_record("team", {"key": "extra", "name": "Only here"}, author="dee")
        local = ValueStreamMap(name="Local", demand_per_day=2, steps=LINE.steps)
        ws.save_map(local, author="dee", stream="Tiny")
        before = snapshot(database_url)
        with pytest.raises(StoreError) as refused:
            ws.restore_archive(tiny)
        message = str(refused.value)
        assert "stream 'Tiny'" in message and "map 'Line'/'current'" in message
        assert "risk 'R-T'" in message and "nothing was changed" in message
        assert_same(snapshot(database_url), before)
        # --replace: the same content again, and what the archive lacks stays, still linked.
        summary = ws.restore_archive(tiny, replace=True)
        assert summary.replaced == (
            "stream 'Tiny'",
            "map 'Line'/'current'",
            "risk 'R-T' of stream 'Tiny'",
        )
        assert ws.get_map("Local").stream == "Tiny"
    assert_same(snapshot(database_url), before)


# -- the commands -------------------------------------------------------------------------------


def test_export_and_restore_commands(
    obeya_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = tmp_path / "tiny.csv"
    tiny.write_text(TINY_CSV, encoding="utf-8")
    assert runner.invoke(app, ["import", str(tiny), "--stream", "Tiny"]).exit_code == 0
    archive = tmp_path / "team.obeya.zip"
    result = runner.invoke(app, ["export", str(archive), "--stream", "Tiny"])
    assert result.exit_code == 0, result.output
    assert "1 stream, 7 events, 0 maps (0 versions), 0 records (0 versions)" in result.output
    missing = runner.invoke(app, ["export", str(tmp_path / "x.obeya.zip"), "--stream", "Nope"])
    assert missing.exit_code == 1
    assert "no value stream named 'Nope'" in missing.output

    monkeypatch.setenv("OBEYA_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert f"restored from {archive}: 1 stream, 7 events" in result.output
    assert "Tiny: 3 items, 7 events" in runner.invoke(app, ["streams"]).output
    again = runner.invoke(app, ["restore", str(archive)])
    assert again.exit_code == 1
    assert "the store has stream 'Tiny' already" in again.output
    replaced = runner.invoke(app, ["restore", str(archive), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert "replaced stream 'Tiny'" in replaced.output


# -- hostile archives: sizes and contents -------------------------------------------------------


def retable(
    source: Path,
    target: Path,
    member: str,
    edit: Callable[[list[bytes]], list[bytes]],
    *,
    deflate: bool = False,
) -> Path:
    """A copy of an archive whose JSON Lines ``member`` has its lines edited, and its manifest
    entry (rows, bytes, sha256) made to match: a consistent archive, with hostile content."""
    with zipfile.ZipFile(source) as old:
        lines = old.read(member).splitlines(keepends=True)
        manifest = json.loads(old.read("manifest.json"))
        data = b"".join(edit(lines))
        entry = manifest["members"][member]
        entry.update(rows=len(data.splitlines()), bytes=len(data))
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        with zipfile.ZipFile(target, "w") as new:
            for name in old.namelist():
                content = old.read(name)
                if name == member:
                    content = data
                elif name == "manifest.json":
                    content = json.dumps(manifest).encode()
                kind = zipfile.ZIP_DEFLATED if deflate and name == member else zipfile.ZIP_STORED
                new.writestr(name, content, compress_type=kind)
    return target


def line_of(source: Path, member: str, needle: bytes) -> int:
    """The 1-based line of ``member`` that holds ``needle`` (found by hand, independently)."""
    with zipfile.ZipFile(source) as archive:
        lines = archive.read(member).splitlines()
    [number] = [n for n, line in enumerate(lines, start=1) if needle in line]
    return number


def edit_document(needle: bytes, change: Callable[[dict[str, Any]], None]) -> Any:
    """An edit of the version line holding ``needle``: its document changed by ``change``."""

    def edit(lines: list[bytes]) -> list[bytes]:
        out = []
        for line in lines:
            if needle in line:
                row = json.loads(line)
                document = json.loads(row["document"])
                change(document)
                row["document"] = json.dumps(document)
                line = (json.dumps(row) + "\n").encode()
            out.append(line)
        return out

    return edit


def test_the_manifest_gives_each_members_size(sqlite_source: tuple[str, Path]) -> None:
    manifest = read_manifest(sqlite_source[1])
    with zipfile.ZipFile(sqlite_source[1]) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    assert {m: e["bytes"] for m, e in manifest["members"].items()} == {
        m: sizes[m] for m in manifest["members"]
    }


def test_a_table_over_its_limit_is_refused_before_extraction(
    sqlite_source: tuple[str, Path], database_url: str, tmp_path: Path
) -> None:
    """A deflated streams.jsonl of 3 MiB (16 KB in the zip) against a 1 MiB table limit."""
    padding = [b" " * 1023 + b"\n"] * 3072

    bomb = retable(
        sqlite_source[1],
        tmp_path / "bomb.obeya.zip",
        "streams.jsonl",
        lambda lines: lines + padding,
        deflate=True,
    )
    assert bomb.stat().st_size < 1 << 20
    limits = IngestLimits(max_archive_table_bytes=1 << 20)
    with fresh(database_url) as ws, pytest.raises(InputError) as refused:
        restore_archive(ws.store, bomb, limits=limits)
    message = str(refused.value)
    assert f"archive {bomb}: member streams.jsonl is 3,146," in message
    assert "more than the limit on a table (OBEYA_MAX_ARCHIVE_TABLE_BYTES)" in message
    assert "1,048,576 bytes (1.0 MiB); nothing was extracted" in message
    assert snapshot(database_url)["streams"] == []


def test_a_deflated_events_member_is_held_to_the_decompression_limit(
    sqlite_source: tuple[str, Path], database_url: str, tmp_path: Path
) -> None:
    """Stored, the events may be as large as they are in the zip; deflated, no larger than
    the decompression limit: refused from the directory, before a byte is written."""
    source = sqlite_source[1]
    deflated = tmp_path / "deflated.obeya.zip"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(deflated, "w") as new:
        for name in old.namelist():
            new.writestr(name, old.read(name), compress_type=zipfile.ZIP_DEFLATED)
        size = old.getinfo("events.parquet").file_size
    written: list[Path] = []
    real_open = open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        written.append(Path(file))
        return real_open(file, *args, **kwargs)

    with fresh(database_url) as ws:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("builtins.open", spy)
            with pytest.raises(InputError) as refused:
                restore_archive(
                    ws.store, deflated, limits=IngestLimits(max_decompressed_bytes=1024)
                )
        assert f"member events.parquet is {size:,} bytes uncompressed" in str(refused.value)
        assert "OBEYA_MAX_DECOMPRESSED_BYTES" in str(refused.value)
        assert not [p for p in written if p.name == "events.parquet"]
        # Under a limit it fits, the same archive restores.
        summary = restore_archive(ws.store, deflated, limits=IngestLimits())
        assert summary.events == read_manifest(source)["members"]["events.parquet"]["rows"]


def test_a_member_larger_than_the_manifest_says_is_refused(
    sqlite_source: tuple[str, Path], database_url: str, tmp_path: Path
) -> None:
    def shrink(manifest: dict[str, Any]) -> None:
        manifest["members"]["events.parquet"]["bytes"] -= 1

    grown = rewrite(sqlite_source[1], tmp_path / "grown.obeya.zip", manifest=shrink)
    with fresh(database_url) as ws, pytest.raises(InputError) as refused:
        ws.restore_archive(grown)
    assert "member events.parquet does not match its sha256 in manifest.json" in str(refused.value)
    assert snapshot(database_url)["streams"] == []


@pytest.mark.parametrize(
    ("member", "needle", "edit", "field", "reason"),
    [
        (
            "record_versions.jsonl",
            b"seen in standup",
            edit_document(b"seen in standup", lambda d: d.update(probability="NOT A NUMBER")),
            "document",
            "probability",
        ),
        (
            "record_versions.jsonl",
            b"seen in standup",
            lambda lines: [
                line.replace(b'"document": "{', b'"document": "not json {')
                if b"seen in standup" in line
                else line
                for line in lines
            ],
            "document",
            "the document is not JSON",
        ),
        (
            "records.jsonl",
            b'"R-T"',
            lambda lines: [
                line.replace(b'"kind": "risk"', b'"kind": "rumour"') if b'"R-T"' in line else line
                for line in lines
            ],
            "kind",
            "no record kind 'rumour'",
        ),
        (
            "record_versions.jsonl",
            b"seen in standup",
            edit_document(b"seen in standup", lambda d: d.update(key="R-OTHER")),
            "document",
            "the document's key is 'R-OTHER'",
        ),
        (
            "map_versions.jsonl",
            b"first draft",
            edit_document(b"first draft", lambda d: d.update(steps="all of them")),
            "document",
            "steps must be a list of tables",
        ),
        (
            "streams.jsonl",
            b'"Tiny"',
            lambda lines: [
                line.replace(b"done = [", b"done = {") if b'"Tiny"' in line else line
                for line in lines
            ],
            "workflow_toml",
            "not valid TOML",
        ),
        (
            "maps.jsonl",
            b'"Line"',
            lambda lines: [
                line.replace(b'"current_version": 2', b'"current_version": 7')
                if b'"Line"' in line
                else line
                for line in lines
            ],
            "current_version",
            "version 7 is not in map_versions.jsonl",
        ),
        (
            "imports.jsonl",
            b'"d.xes"',
            lambda lines: [
                line.replace(b'"events_added": 2', b'"events_added": "two"')
                if b'"d.xes"' in line
                else line
                for line in lines
            ],
            "events_added",
            "'two' is not a whole number",
        ),
    ],
    ids=[
        "probability-text",
        "document-not-json",
        "unknown-kind",
        "key-mismatch",
        "map-steps",
        "workflow",
        "current-version",
        "import-count",
    ],
)
def test_a_document_the_core_refuses_refuses_the_restore(
    sqlite_source: tuple[str, Path],
    database_url: str,
    tmp_path: Path,
    member: str,
    needle: bytes,
    edit: Callable[[list[bytes]], list[bytes]],
    field: str,
    reason: str,
) -> None:
    source = sqlite_source[1]
    row = line_of(source, member, needle)
    bad = retable(source, tmp_path / "bad.obeya.zip", member, edit)
    with fresh(database_url) as ws, pytest.raises(ParseError) as refused:
        ws.restore_archive(bad)
    error = refused.value
    assert (error.file, error.row, error.field) == (f"archive {bad}, member {member}", row, field)
    assert reason in str(error)
    assert snapshot(database_url)["streams"] == []


def test_event_times_outside_the_span_refuse_the_restore(
    sqlite_source: tuple[str, Path], database_url: str, tmp_path: Path
) -> None:
    """An event at 9999-12-31T23:59:59Z (253,402,300,799 s after the epoch), the third row."""
    source = sqlite_source[1]
    with zipfile.ZipFile(source) as archive:
        events = pq.read_table(io.BytesIO(archive.read("events.parquet")))
    late = 253_402_300_799 * 1_000_000
    times = events.column("t").to_pylist()
    times[2] = late
    changed = events.set_column(
        events.schema.get_field_index("t"), events.schema.field("t"), pa.array(times, pa.int64())
    )
    sink = io.BytesIO()
    pq.write_table(changed, sink)
    data = sink.getvalue()

    def describe(manifest: dict[str, Any]) -> None:
        entry = manifest["members"]["events.parquet"]
        entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())

    bad = rewrite(
        source, tmp_path / "late.obeya.zip", manifest=describe, members={"events.parquet": data}
    )
    with fresh(database_url) as ws, pytest.raises(ParseError) as refused:
        ws.restore_archive(bad)
    error = refused.value
    assert (error.row, error.field) == (3, "t")
    assert f"{late} (microseconds since 1970-01-01) is outside the supported range" in str(error)
    assert snapshot(database_url)["streams"] == []


def test_the_restore_command_refuses_a_bad_document_without_a_traceback(
    sqlite_source: tuple[str, Path], obeya_home: Path, tmp_path: Path
) -> None:
    edit = edit_document(b"seen in standup", lambda d: d.update(probability="NOT A NUMBER"))
    bad = retable(sqlite_source[1], tmp_path / "bad.obeya.zip", "record_versions.jsonl", edit)
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["restore", str(bad)])
    assert result.exit_code == 1
    assert "member record_versions.jsonl, row" in result.output
    assert "field 'document'" in result.output and "Traceback" not in result.output
