"""What every ``obeya`` command shares: the consoles, the option types, error and progress
handling. Commands only parse arguments, call the Workspace or the core, and print."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn

from obeya.core.workflow import Workflow
from obeya.errors import ObeyaError
from obeya.ingest import ColumnMap

out = Console(soft_wrap=True)
err = Console(stderr=True)

FileArg = Annotated[Path, typer.Argument(help="CSV, XES or Jira JSON file (may be gzipped).")]
WorkflowOpt = Annotated[
    Path | None, typer.Option("--workflow", "-w", help="Workflow TOML: states by category.")
]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="csv, xes or jira (default: from the content).")
]
ItemCol = Annotated[str, typer.Option(help="CSV column (XES key) of the item id.")]
StateCol = Annotated[str, typer.Option(help="CSV column (XES key) of the state.")]
TimeCol = Annotated[str, typer.Option(help="CSV column (XES key) of the timestamp.")]
TypeCol = Annotated[str, typer.Option(help="CSV column of the item type.")]
TeamCol = Annotated[str, typer.Option(help="CSV column of the team.")]
AssigneeCol = Annotated[str, typer.Option(help="CSV column of the assignee.")]
TitleCol = Annotated[str, typer.Option(help="CSV column of the title.")]
CreatedCol = Annotated[str, typer.Option(help="CSV column of the item's creation time.")]


def fail(error: ObeyaError) -> None:
    err.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def handle_errors() -> Iterator[None]:
    try:
        yield
    except ObeyaError as error:
        fail(error)


@contextmanager
def progress_bar(label: str, quiet: bool = False) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar that appears only when the work lasts long enough to need one."""
    if quiet or not err.is_terminal:
        yield None
        return
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=None)
    with bar:

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def column_map(
    item: str,
    state: str,
    timestamp: str,
    kind: str,
    team: str,
    assignee: str,
    title: str,
    created: str,
) -> ColumnMap:
    return ColumnMap(
        item_id=item,
        state=state,
        timestamp=timestamp,
        type=kind,
        team=team,
        assignee=assignee,
        title=title,
        created=created,
    )


def load_workflow(path: Path | None) -> Workflow | None:
    return Workflow.from_toml(path) if path is not None else None


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]error:[/red] {option} {value!r} is not a date; use YYYY-MM-DD")
        raise typer.Exit(2) from None


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
