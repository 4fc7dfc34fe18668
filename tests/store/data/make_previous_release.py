"""Make ``previous_release_0003.db`` and ``previous_release_0003.json`` with the previous
release's code (schema 0003, commit 2f66c5b); README.md in this folder gives the commands.

The database holds what a user of that release would have: a small stream imported from a CSV
file in three imports (the second repeats part of the first, so it adds fewer events than it
reads; the third repeats the second and adds none), its workflow, a value stream map and a
future-state variant with two versions each, and steering records (risks, an objective, teams)
with two versions each. The JSON file holds the same rows, table by table, so that the
PostgreSQL run of ``tests/store/test_upgrade.py`` can load them into a schema migrated to 0003.

Run it with the previous release first on the path, never with the current code: it refuses a
package whose newest migration is not 0003.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from obeya.core.maps.model import Step, ValueStreamMap
from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap
from obeya.store.migrate import head_revision
from obeya.workspace import Workspace

HERE = Path(__file__).resolve().parent
DATABASE = HERE / "previous_release_0003.db"
ROWS = HERE / "previous_release_0003.json"
STREAM = "Small"

HEADER = "item_id,state,timestamp,type,title,team,assignee,created\n"
#: Twelve items over three weeks: nine finish, two are in progress, one has not started.
EVENTS = """\
S-1,To Do,2024-01-01T09:00:00,Bug,Login fails on Safari,web,ana,2023-12-28T10:00:00
S-1,In Progress,2024-01-02T09:30:00,Bug,Login fails on Safari,web,ana,2023-12-28T10:00:00
S-1,Done,2024-01-04T16:00:00,Bug,Login fails on Safari,web,ana,2023-12-28T10:00:00
S-2,To Do,2024-01-01T11:00:00,Story,Export to CSV,data,bo,2024-01-01T08:00:00
S-2,In Progress,2024-01-03T10:00:00,Story,Export to CSV,data,bo,2024-01-01T08:00:00
S-2,Blocked,2024-01-05T12:00:00,Story,Export to CSV,data,bo,2024-01-01T08:00:00
S-2,In Progress,2024-01-08T09:00:00,Story,Export to CSV,data,bo,2024-01-01T08:00:00
S-2,Done,2024-01-10T17:00:00,Story,Export to CSV,data,bo,2024-01-01T08:00:00
S-3,In Progress,2024-01-03T08:00:00,Bug,"Crash, then a blank page",web,cy,
S-3,Done,2024-01-05T15:00:00,Bug,"Crash, then a blank page",web,cy,
S-4,To Do,2024-01-02T09:00:00,Story,Dark mode (œ ü ß ✓),web,,
S-4,In Progress,2024-01-04T09:00:00,Story,Dark mode (œ ü ß ✓),web,ana,
S-4,Review,2024-01-09T09:00:00,Story,Dark mode (œ ü ß ✓),web,ana,
S-4,Done,2024-01-11T12:00:00,Story,Dark mode (œ ü ß ✓),web,ana,
S-5,To Do,2024-01-03T10:00:00,Chore,Upgrade the database driver,data,,
S-5,In Progress,2024-01-08T10:00:00,Chore,Upgrade the database driver,data,bo,
S-5,Done,2024-01-09T10:00:00,Chore,Upgrade the database driver,data,bo,
S-6,To Do,2024-01-04T14:00:00,Bug,Wrong totals in the report,data,,
S-6,In Progress,2024-01-05T14:00:00,Bug,Wrong totals in the report,data,dee,
S-6,Review,2024-01-08T14:00:00,Bug,Wrong totals in the report,data,dee,
S-6,In Progress,2024-01-09T14:00:00,Bug,Wrong totals in the report,data,dee,
S-6,Review,2024-01-10T14:00:00,Bug,Wrong totals in the report,data,dee,
S-6,Done,2024-01-12T09:00:00,Bug,Wrong totals in the report,data,dee,
S-7,To Do,2024-01-08T09:00:00,Story,Search by tag,web,,
S-7,In Progress,2024-01-09T09:00:00,Story,Search by tag,web,cy,
S-7,Done,2024-01-15T18:00:00,Story,Search by tag,web,cy,
S-8,To Do,2024-01-09T09:00:00,Bug,Timeout on large imports,data,,
S-8,In Progress,2024-01-10T09:00:00,Bug,Timeout on large imports,data,bo,
S-8,Blocked,2024-01-11T09:00:00,Bug,Timeout on large imports,data,bo,
S-8,In Progress,2024-01-15T09:00:00,Bug,Timeout on large imports,data,bo,
S-8,Done,2024-01-17T09:00:00,Bug,Timeout on large imports,data,bo,
S-9,To Do,2024-01-10T09:00:00,Story,Keyboard shortcuts,web,,
S-9,In Progress,2024-01-12T09:00:00,Story,Keyboard shortcuts,web,ana,
S-9,Done,2024-01-18T09:00:00,Story,Keyboard shortcuts,web,ana,
S-10,To Do,2024-01-11T09:00:00,Story,Audit trail,data,,
S-10,In Progress,2024-01-16T09:00:00,Story,Audit trail,data,dee,
S-11,To Do,2024-01-15T09:00:00,Bug,Broken link in the footer,web,,
S-11,In Progress,2024-01-17T09:00:00,Bug,Broken link in the footer,web,cy,
S-12,To Do,2024-01-18T09:00:00,Chore,Rotate the signing keys,data,,
"""

WORKFLOW = """backlog = ["To Do"]
active = ["In Progress"]
waiting = ["Blocked", "Review"]
done = ["Done"]
"""


def line(review_hours: float, demand: float) -> ValueStreamMap:
    return ValueStreamMap(
        "Delivery",
        (
            Step("Analyse", process_time_hours=2, lead_time_hours=16, team="web"),
            Step("Build", process_time_hours=8, lead_time_hours=40, team="web", people=2),
            Step("Review", process_time_hours=review_hours, lead_time_hours=24, team="data"),
        ),
        demand_per_day=demand,
        notes="Drawn in the workshop of 12 January",
        source=f"value stream {STREAM!r}",
    )


def risk(key: str, probability: float, **more: Any) -> dict[str, Any]:
    return {"key": key, "title": f"Risk {key}", "probability": probability, "impact": 3, **more}


def populate(workspace: Workspace, directory: Path) -> None:
    rows = EVENTS.splitlines(keepends=True)
    first, second = directory / "small-week1.csv", directory / "small.csv"
    first.write_text(HEADER + "".join(rows[:20]), encoding="utf-8")
    second.write_text(HEADER + "".join(rows), encoding="utf-8")
    workflow = Workflow.from_toml_text(WORKFLOW)
    workspace.import_file(first, STREAM, workflow=workflow, columns=ColumnMap())
    workspace.import_file(second, STREAM, workflow=workflow, columns=ColumnMap())
    workspace.import_file(second, STREAM, columns=ColumnMap())  # adds nothing; logged

    workspace.save_map(line(4, 3.0), author="ana", message="first draft", stream=STREAM)
    workspace.save_map(line(3, 3.5), author="bo", message="review is faster", expected_version=1)
    future = dataclasses.replace(line(1, 3.5), variant="future")
    workspace.save_map(future, author="ana", message="pairing instead of review")
    workspace.save_map(dataclasses.replace(future, notes="agreed"), author="cy", message="agreed")

    for key in ("web", "data"):
        doc = {"key": key, "name": f"Team {key}", "streams": [STREAM]}
        workspace.save_record("team", doc, author="ana", message="teams of the stream")
    workspace.save_record(
        "team",
        {"key": "web", "name": "Web front end", "streams": [STREAM]},
        author="bo",
        message="renamed",
    )
    workspace.save_record("risk", risk("R-1", 0.5, owner="ana"), author="ana", stream=STREAM)
    workspace.save_record("risk", risk("R-2", 0.2), author="ana", stream=STREAM)
    workspace.save_record(
        "risk",
        risk("R-1", 0.3, owner="ana", state="owned", due="2024-02-01"),
        author="cy",
        message="owned; a plan by February",
        stream=STREAM,
    )
    objective = {
        "key": "O-1",
        "title": "Finish work faster",
        "owner": "ana",
        "key_results": [
            {
                "key": "KR-1",
                "title": "85 % of items within 7 days",
                "metric": "cycle_time_p85",
                "comparator": "<=",
                "target": 7,
                "baseline": 9,
                "by": "2024-03-31",
            }
        ],
    }
    workspace.save_record("objective", objective, author="ana", stream=STREAM)
    objective["key_results"][0]["target"] = 6
    workspace.save_record(
        "objective", objective, author="bo", message="a bolder target", stream=STREAM
    )


def dump(url: str) -> dict[str, Any]:
    """Every row of every table, by table (in the order they can be inserted), columns named."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    tables: dict[str, Any] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [{k: _json(v) for k, v in row._mapping.items()} for row in rows]
    engine.dispose()
    return tables


def _json(value: Any) -> Any:
    # SQLite keeps UTC times without an offset; the JSON names them UTC explicitly.
    return value.isoformat() + "+00:00" if isinstance(value, datetime) else value


def main() -> None:
    if head_revision() != "0003":
        sys.exit(
            f"run with the previous release (schema 0003) on PYTHONPATH, not {head_revision()}"
        )
    DATABASE.unlink(missing_ok=True)
    url = f"sqlite:///{DATABASE}"
    with tempfile.TemporaryDirectory() as directory:
        workspace = Workspace(url)
        workspace.initialise()
        populate(workspace, Path(directory))
        workspace.store.close()
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        # One self-contained file: fold the write-ahead log back in and compact.
        connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
        connection.exec_driver_sql("VACUUM")
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    engine.dispose()
    document = {
        "made_by": "tests/store/data/make_previous_release.py with the code of commit 2f66c5b",
        "revision": revision,
        "tables": dump(url),
    }
    ROWS.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{DATABASE.name}: {DATABASE.stat().st_size} bytes; {ROWS.name}: {ROWS.stat().st_size}")


if __name__ == "__main__":
    main()
