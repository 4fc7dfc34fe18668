"""The small hand-made stream the API and page tests share, and a workspace holding it.

"Tiny" (computed by hand from docs/conventions.md): A, B and C finish with cycle times 2, 6 and
4 days (p50 4.0, p85 5.4, p95 5.8), one in the week of 1 January and two in the week of
8 January (throughput 1.5 a week); D is in progress (WIP 1, 2 days old); E has not started.
Flow efficiency: 11 active days out of 12 days of cycle time (92%).
"""

from __future__ import annotations

from pathlib import Path

from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap
from obeya.workspace import Workspace

TINY_CSV = """item_id,state,timestamp,type
A,To Do,2024-01-01,Bug
A,In Progress,2024-01-02,Bug
A,Done,2024-01-04,Bug
B,To Do,2024-01-01,Story
B,In Progress,2024-01-03,Story
B,Blocked,2024-01-05,Story
B,In Progress,2024-01-06,Story
B,Done,2024-01-09,Story
C,In Progress,2024-01-08,Bug
C,Done,2024-01-12,Bug
D,To Do,2024-01-05,Story
D,In Progress,2024-01-10,Story
E,To Do,2024-01-11,Bug
"""

WORKFLOW = """backlog = ["To Do"]
active = ["In Progress"]
waiting = ["Blocked"]
done = ["Done"]
"""

#: A timestamp that cannot be read, on data row 2 (file row 3, counting the header).
MALFORMED_CSV = """item_id,state,timestamp,type
X,To Do,2024-01-01,Bug
X,In Progress,not-a-date,Bug
"""


def tiny_workspace(database_url: str, directory: Path) -> Workspace:
    """An initialised workspace on ``database_url`` with the stream "Tiny" imported."""
    path = directory / "tiny.csv"
    path.write_text(TINY_CSV, encoding="utf-8")
    workspace = Workspace(database_url)
    workspace.initialise()
    workspace.import_file(
        path, "Tiny", workflow=Workflow.from_toml_text(WORKFLOW), columns=ColumnMap()
    )
    return workspace
