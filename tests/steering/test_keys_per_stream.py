"""Record keys are unique per stream, and records added without a key are numbered per
stream: R-1 of Tiny and R-1 of Other are two risks, each reached only through its stream."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app_fixtures import TestClient, bearer
from obeya.api.app import create_app
from obeya.core.access import Role
from obeya.core.steering.kinds import KINDS, next_key
from obeya.errors import InputError, NotFoundError, VersionConflict
from obeya.store.models import NO_STREAM_KINDS
from obeya.workspace import Workspace

from support import fresh_database

RISK = {"title": "Vendor late", "probability": 0.4, "impact": 5}


def risk(key: str | None = None, **more: Any) -> dict[str, Any]:
    return {**({"key": key} if key else {}), **RISK, **more}


@pytest.fixture
def two(workspace: Workspace) -> Workspace:
    """Tiny and Other, each with its own risk R-1 (titles tell them apart)."""
    workspace.store.create_stream("Other")
    workspace.steering.save_record("risk", risk("R-1", title="Tiny's"), author="t", stream="Tiny")
    workspace.steering.save_record("risk", risk("R-1", title="Other's"), author="t", stream="Other")
    return workspace


# -- the same key in two streams --------------------------------------------------------------


def test_the_same_key_lives_in_two_streams(two: Workspace) -> None:
    assert two.steering.record("risk", "R-1", stream="Tiny").document["title"] == "Tiny's"
    assert two.steering.stream_record("risk", "R-1", "Other").document["title"] == "Other's"
    assert [r.document["title"] for r in two.steering.records("risk", "Tiny")] == ["Tiny's"]
    # A change to one leaves the other at version 1.
    two.steering.save_record("risk", risk("R-1", impact=1), author="t", stream="Tiny")
    assert two.steering.record("risk", "R-1", stream="Tiny").version.version == 2
    assert two.steering.record("risk", "R-1", stream="Other").version.version == 1
    assert [v.version for v, _ in two.steering.record_history("risk", "R-1", stream="Other")] == [1]
    with pytest.raises(InputError, match="several value streams"):
        two.steering.record("risk", "R-1")
    two.steering.delete_record("risk", "R-1", stream="Other")
    assert two.steering.record("risk", "R-1").stream == "Tiny"  # one left: no stream needed


def test_a_miss_names_only_the_keys_of_the_stream_asked(two: Workspace) -> None:
    two.steering.save_record("risk", risk("R-9"), author="t", stream="Other")
    with pytest.raises(NotFoundError) as missing:
        two.store.records.get("risk", "R-5", stream="Tiny")
    assert missing.value.known == ("'R-1'",)  # not Other's R-9


def test_records_of_no_stream_stay_unique_among_themselves(workspace: Workspace) -> None:
    team = {"key": "T-1", "name": "One", "streams": ["Tiny"]}
    workspace.steering.save_record("team", team, author="t")
    with pytest.raises(VersionConflict) as taken:
        workspace.steering.save_record("team", team, author="t", expected_version=0)
    assert taken.value.taken
    # The index itself refuses a second team T-1 of no stream (SQL's NULLs are distinct, so
    # this needs the partial index), while two streams may hold R-1.
    with workspace.store.engine.begin() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.execute(
            sa.text(
                "INSERT INTO records (kind, key, stream_id, current_version, created_at, "
                "updated_at) VALUES ('team', 'T-1', NULL, 1, :t, :t)"
            ),
            {"t": "2024-01-01 00:00:00"},
        )


def test_the_partial_index_names_the_kinds_of_no_stream() -> None:
    named = NO_STREAM_KINDS.split("kind IN (", 1)[1].rstrip(")").split(", ")
    assert {k.strip("'") for k in named} == {k.name for k in KINDS.values() if not k.per_stream}


# -- numbering --------------------------------------------------------------------------------


def test_next_key_is_one_more_than_the_highest_number() -> None:
    # used (3 keys): the next is R-8, not R-4; other shapes are no number.
    assert next_key("R-", ["R-1", "R-7", "R-3", "R-x", "RISK-9", "R-2b"]) == "R-8"
    assert next_key("R-", []) == "R-1"
    assert next_key("O-", ["R-5", "O-10", "O-9"]) == "O-11"


def test_a_record_added_without_a_key_gets_the_next_of_its_stream(two: Workspace) -> None:
    two.steering.save_record("risk", risk("R-7"), author="t", stream="Tiny")
    added = two.steering.save_record("risk", risk(), author="t", stream="Tiny")
    assert (added.key, added.stream, added.version) == ("R-8", "Tiny", 1)
    assert two.steering.record("risk", "R-8", stream="Tiny").document["key"] == "R-8"
    # Other has R-1 only: its next is R-2, whatever Tiny holds.
    assert two.steering.save_record("risk", risk(), author="t", stream="Other").key == "R-2"
    # Deleting the highest frees its number; deleting one below leaves a gap.
    two.steering.delete_record("risk", "R-7", stream="Tiny")
    assert two.steering.next_key("risk", "Tiny") == "R-9"
    assert two.steering.save_record(
        "objective", {"title": "Faster"}, author="t", stream="Tiny"
    ).key == ("O-1")
    assert two.steering.next_key("team", "Tiny") is None
    with pytest.raises(InputError, match="key is missing"):
        two.steering.save_record("team", {"name": "One", "streams": []}, author="t")


def test_two_adds_at_once_never_get_the_same_key(workspace: Workspace) -> None:
    """Both adds read the keys before either saves (a barrier holds them): both pick R-1,
    the store's unique index refuses the second, which numbers again and gets R-2."""
    store = workspace.store
    real = store.records.keys
    both_read = threading.Barrier(2, timeout=20)
    calls: list[str] = []

    def slow_keys(kind: str, stream: str | None) -> list[str]:
        keys = real(kind, stream)
        calls.append(",".join(keys))
        if len(calls) <= 2:
            both_read.wait()
        return keys

    store.records.keys = slow_keys  # type: ignore[method-assign]
    got: list[str] = []
    errors: list[BaseException] = []

    def add(title: str) -> None:
        try:
            got.append(
                workspace.steering.save_record(
                    "risk", risk(title=title), author="t", stream="Tiny"
                ).key
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=add, args=(t,)) for t in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(got) == ["R-1", "R-2"]
    assert calls[:2] == ["", ""]  # both saw no risk yet, so both picked R-1 first
    titles = {r.key: r.document["title"] for r in workspace.steering.records("risk", "Tiny")}
    assert set(titles) == {"R-1", "R-2"} and set(titles.values()) == {"first", "second"}


# -- through the API and the pages, each stream's users see their own R-1 ------------------


@pytest.fixture
def app(two: Workspace) -> Any:
    return create_app(lambda: two)


def as_user(app: Any, workspace: Workspace, user: str, role: Role, stream: str) -> TestClient:
    return TestClient(app, headers=bearer(workspace, user, role, stream))


def test_each_streams_users_reach_only_their_own_r1(app: Any, two: Workspace) -> None:
    tiny = as_user(app, two, "tiny-editor", Role.EDITOR, "Tiny")
    other = as_user(app, two, "other-editor", Role.EDITOR, "Other")
    for client, mine, theirs in ((tiny, "Tiny", "Other"), (other, "Other", "Tiny")):
        got = client.get("/api/records/risk/R-1", params={"stream": mine})
        assert got.status_code == 200, got.text
        assert got.json()["document"]["title"] == f"{mine}'s"
        assert client.get("/api/records/risk/R-1", params={"stream": theirs}).status_code == 403
        # Without a stream the key is in two: a miss (no risk of no stream) naming neither.
        vague = client.get("/api/records/risk/R-1")
        assert vague.status_code == 404 and theirs not in vague.text
        history = client.get("/api/records/risk/R-1/history", params={"stream": theirs})
        assert history.status_code == 403
        changed = client.put(
            "/api/records/risk/R-1",
            params={"stream": theirs},
            json={"document": {**RISK, "impact": 1}},
        )
        assert changed.status_code == 403
        assert client.delete("/api/records/risk/R-1", params={"stream": theirs}).status_code == 403
        page = client.get(f"/streams/{theirs}/risks/R-1/history")
        assert page.status_code == 403
        own = client.get(f"/streams/{mine}/risks/R-1/history")
        assert own.status_code == 200 and f"{mine}&#39;s" in own.text
        assert f"{theirs}&#39;s" not in own.text
    # Nothing of either changed; Tiny's editor saves Tiny's R-1 only.
    saved = tiny.put(
        "/api/records/risk/R-1",
        params={"stream": "Tiny"},
        json={"document": {**RISK, "title": "Tiny's", "impact": 2}, "expected_version": 1},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["stream"] == "Tiny" and saved.json()["version"] == 2
    assert two.steering.record("risk", "R-1", stream="Other").version.version == 1
    assert two.steering.record("risk", "R-1", stream="Other").document["impact"] == 5


def test_post_without_a_key_numbers_in_the_stream_named(app: Any, two: Workspace) -> None:
    tiny = as_user(app, two, "tiny-editor", Role.EDITOR, "Tiny")
    first = tiny.post("/api/records/risk", json={"document": RISK, "stream": "Tiny"})
    assert first.status_code == 201, first.text
    assert (first.json()["key"], first.json()["stream"]) == ("R-2", "Tiny")
    assert (
        tiny.post("/api/records/risk", json={"document": RISK, "stream": "Tiny"}).json()["key"]
        == "R-3"
    )
    refused = tiny.post("/api/records/risk", json={"document": RISK, "stream": "Other"})
    assert refused.status_code == 403
    assert [r.key for r in two.steering.records("risk", "Other")] == ["R-1"]


def test_the_add_form_numbers_when_the_key_is_blank(app: Any, two: Workspace) -> None:
    tiny = as_user(app, two, "tiny-editor", Role.EDITOR, "Tiny")
    page = tiny.get("/streams/Tiny/risks").text
    assert 'placeholder="R-2"' in page
    form = {"key": "", "title": "Late API", "probability": "0.2", "impact": "3"}
    response = tiny.post("/streams/Tiny/risks", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert "saved=R-2" in response.headers["location"]
    assert two.steering.record("risk", "R-2", stream="Tiny").document["title"] == "Late API"


# -- archives ---------------------------------------------------------------------------------


def test_an_archive_keeps_each_streams_r1_apart(two: Workspace, tmp_path: Path) -> None:
    two.steering.save_record(
        "risk", risk("R-1", title="Tiny's", impact=2), author="t", stream="Tiny"
    )
    path = tmp_path / "two.obeya.zip"
    two.export_archive(path)
    (tmp_path / "restored").mkdir()
    with fresh_database(tmp_path / "restored") as url, Workspace(url) as again:
        again.store.initialise()
        again.restore_archive(path)
        tiny = again.steering.record("risk", "R-1", stream="Tiny")
        other = again.steering.record("risk", "R-1", stream="Other")
        assert (tiny.document["title"], tiny.version.version) == ("Tiny's", 2)
        assert (other.document["title"], other.version.version) == ("Other's", 1)
        history = again.steering.record_history("risk", "R-1", stream="Tiny")
        assert [doc["impact"] for _, doc in history] == [5, 2]
