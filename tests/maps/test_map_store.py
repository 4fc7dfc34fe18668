"""Saved maps: versions and their history, stale saves refused, variants copied and compared,
invalid maps refused, and the migration that adds the map tables keeps existing data."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from obeya.core.maps.compare import with_step
from obeya.core.maps.files import map_from_dict
from obeya.core.maps.model import MapError, Step, ValueStreamMap
from obeya.errors import NotFoundError, StoreError
from obeya.store import Store
from obeya.store.migrate import alembic_config, head_revision
from obeya.workspace import Workspace

# Three steps, demand 4/day, 8 h/day (the map of tests/maps/test_cli_maps.py). By hand:
# total LT = 10 + 5 + 1 + inventory wait 2/4 × 24 h = 28 h.
LINE = ValueStreamMap(
    name="Line",
    demand_per_day=4,
    steps=(
        Step("Build", process_time_hours=2, lead_time_hours=10, complete_accurate=0.5),
        Step("Check", process_time_hours=1, lead_time_hours=5, inventory_before=2),
        Step("Ship", process_time_hours=1, lead_time_hours=1),
    ),
)


@pytest.fixture
def ws(database_url: str) -> Iterator[Workspace]:
    with Workspace(database_url) as workspace:
        workspace.initialise()
        yield workspace


def test_saves_make_versions_with_a_history(ws: Workspace) -> None:
    first = ws.save_map(LINE, author="ana", message="first draft")
    assert (first.name, first.variant, first.version) == ("Line", "current", 1)
    changed = with_step(LINE, "Check", people=2)
    second = ws.save_map(changed, author="bo", message="two checkers", expected_version=1)
    assert second.version == 2

    assert ws.get_map("Line").map == changed
    assert ws.get_map("Line", version=1).map == LINE
    assert ws.get_map("Line").version.author == "bo"
    history = ws.map_history("Line")
    assert [(h.version, h.author, h.message) for h in history] == [
        (1, "ana", "first draft"),
        (2, "bo", "two checkers"),
    ]
    assert history[0].created_at <= history[1].created_at
    assert history[0].created_at.utcoffset() is not None
    assert history[0].changes == ()
    assert history[1].changes == ("steps.Check.people",)
    [info] = ws.maps()
    assert (info.name, info.variant, info.version, info.author) == ("Line", "current", 2, "bo")


def test_a_stale_save_is_refused_and_saves_nothing(ws: Workspace) -> None:
    ws.save_map(LINE, author="ana")
    ws.save_map(with_step(LINE, "Ship", people=2), author="bo", expected_version=1)
    with pytest.raises(StoreError) as caught:
        ws.save_map(with_step(LINE, "Ship", people=3), author="cy", expected_version=1)
    message = str(caught.value)
    assert "changed since version 1 (now 2) by bo at" in message
    assert "reload and apply your change again" in message
    assert [h.version for h in ws.map_history("Line")] == [1, 2]
    assert ws.get_map("Line").map.step("Ship").people == 2
    # A new map is at version 0: expecting another is refused too.
    with pytest.raises(StoreError, match="has not been saved yet"):
        ws.save_map(dataclasses.replace(LINE, name="Other"), author="ana", expected_version=3)
    assert [m.name for m in ws.maps()] == ["Line"]


def test_a_variant_is_copied_changed_and_compared(ws: Workspace) -> None:
    ws.save_map(LINE, author="ana")
    ws.save_map(LINE, author="ana", message="again")
    copied = ws.copy_map_variant("Line", "current", "future", author="bo")
    assert (copied.variant, copied.version) == ("future", 1)
    assert copied.message == "copied from current version 2"
    future = ws.get_map("Line", "future").map
    assert future.variant == "future"
    ws.save_map(with_step(future, "Build", lead_time_hours=6), author="bo", expected_version=1)

    comparison = ws.compare_map_variants("Line", ["current", "future"])
    [variant] = comparison.variants
    assert variant.variant == "future"
    total = variant.figure("totals.lead_time_hours")
    # By hand: 28 h → 6 + 5 + 1 + 12 = 24 h, −4 h, −4/28 = −14.29 %.
    assert (total.base, total.value, total.delta) == (28.0, 24.0, -4.0)
    assert total.change_pct == pytest.approx(-100 * 4 / 28)
    assert [(m.variant, m.version) for m in ws.maps()] == [("current", 2), ("future", 2)]

    with pytest.raises(StoreError, match="exists already"):
        ws.copy_map_variant("Line", "current", "future", author="bo")
    with pytest.raises(MapError, match="at least two"):
        ws.compare_map_variants("Line", ["current"])


def test_an_invalid_map_names_the_field_and_nothing_is_saved(ws: Workspace) -> None:
    document = {
        "name": "Bad",
        "steps": [{"name": "Build", "process_time_hours": -1, "lead_time_hours": 2}],
    }
    with pytest.raises(MapError, match=r"steps\[0\]\.process_time_hours"):
        ws.save_map(map_from_dict(document), author="ana")
    assert ws.maps() == []


def test_missing_maps_and_versions_are_not_found(ws: Workspace) -> None:
    with pytest.raises(NotFoundError, match="no map 'Line'/'current'") as missing:
        ws.get_map("Line")
    assert missing.value.hint() == "there are no maps yet"  # for the CLI; not in the message
    ws.save_map(LINE, author="ana")
    with pytest.raises(NotFoundError) as missing:
        ws.map_history("Line", "future")
    assert missing.value.hint() == "the maps are 'Line'/'current'"
    with pytest.raises(NotFoundError, match="has no version 5; it has 1 to 1"):
        ws.get_map("Line", version=5)


def test_a_map_links_to_a_stream_and_outlives_it(ws: Workspace) -> None:
    ws.store.create_stream("Support")
    ws.save_map(LINE, author="ana", stream="Support")
    ws.save_map(LINE, author="ana")  # keeps the link
    assert ws.get_map("Line").stream == "Support"
    assert ws.maps()[0].stream == "Support"
    ws.store.delete_stream("Support")
    assert ws.get_map("Line").stream is None
    with pytest.raises(NotFoundError):
        ws.save_map(LINE, author="ana", stream="Nowhere")
    assert ws.get_map("Line").version.version == 2


def test_deleting_a_map_removes_its_versions(ws: Workspace) -> None:
    ws.save_map(LINE, author="ana")
    ws.copy_map_variant("Line", "current", "future", author="ana")
    ws.delete_map("Line", "current")
    assert [(m.name, m.variant) for m in ws.maps()] == [("Line", "future")]
    with ws.store.engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT count(*) FROM map_versions")).scalar_one()
    assert versions == 1


def test_a_database_at_0001_upgrades_to_head_keeping_its_data(
    empty_database_url: str, tmp_path: Path
) -> None:
    # Rows as the 0001 release wrote them (plain SQL: today's code also writes the audit log,
    # which 0001 does not have). Times in microseconds since the epoch, UTC.
    day = 86_400_000_000
    january_first = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
    with Store(empty_database_url) as store:
        with store.engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), "0001")
            connection.execute(
                sa.text("INSERT INTO streams (id, name, created_at) VALUES (1, 'Old', :now)"),
                {"now": datetime(2024, 1, 4, tzinfo=UTC)},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO events (id, stream_id, item_id, state, t, copy, seq) "
                    "VALUES (1, 1, 'A', 'To Do', :t0, 0, 0), (2, 1, 'A', 'Done', :t2, 0, 1)"
                ),
                {"t0": january_first, "t2": january_first + 2 * day},
            )
        assert store.schema_revision() == "0001"
        assert "maps" not in sa.inspect(store.engine).get_table_names()

        store.initialise()
        assert store.schema_revision() == head_revision() != "0001"
        [stream] = store.list_streams()
        assert (stream.name, stream.events, stream.items) == ("Old", 2, 1)
        assert store.load_events("Old").num_events == 2
        store.maps.save(LINE, author="ana", stream="Old")
        assert store.maps.get("Line").stream == "Old"
