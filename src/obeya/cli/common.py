"""What every ``obeya`` command shares: the consoles, the option types, error and progress
handling. Commands only parse arguments, call the Workspace or the core, and print."""

from __future__ import annotations

import functools
import inspect
import json
import sys
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TimeElapsedColumn,
)

from obeya.core.events import EventLog
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
def progress_bar(
    label: str, quiet: bool = False, *, unit: str | None = None
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar that appears only when the work lasts long enough to need one; it
    counts bytes, or ``unit`` (``"events"``) when given."""
    if quiet or not err.is_terminal:
        yield None
        return
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn() if unit is None else MofNCompleteColumn(),
        *(() if unit is None else (unit,)),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=None)
    with bar:

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


#: The column options every command that reads a file takes: (ColumnMap field, option, help).
COLUMN_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("item_id", "--item-column", "CSV column (XES key) of the item id."),
    ("state", "--state-column", "CSV column (XES key) of the state."),
    ("timestamp", "--timestamp-column", "CSV column (XES key) of the timestamp."),
    ("type", "--type-column", "CSV column of the item type."),
    ("team", "--team-column", "CSV column of the team."),
    ("assignee", "--assignee-column", "CSV column of the assignee."),
    ("title", "--title-column", "CSV column of the title."),
    ("created", "--created-column", "CSV column of the item's creation time."),
)

Command = TypeVar("Command", bound=Callable[..., Any])


def with_columns(command: Command) -> Command:
    """Give a command the column options (``--item-column`` …) and hand it one ``columns:
    ColumnMap`` instead, so the eight options are declared once for every command."""
    signature = inspect.signature(command)
    # Resolve the command's own annotations in its module: Typer reads them from the wrapper.
    hints = typing.get_type_hints(command, include_extras=True)
    kept = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in signature.parameters.values()
        if p.name != "columns"
    ]
    standard = ColumnMap()
    added = [
        inspect.Parameter(
            f"{field}_column",
            inspect.Parameter.KEYWORD_ONLY,
            default=getattr(standard, field),
            annotation=Annotated[str, typer.Option(option, help=text)],
        )
        for field, option, text in COLUMN_OPTIONS
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        names = {field: kwargs.pop(f"{field}_column") for field, _, _ in COLUMN_OPTIONS}
        return command(*args, columns=ColumnMap(**names), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in [*kept, *added]}
    wrapper.__annotations__["return"] = hints.get("return")
    return wrapper  # type: ignore[return-value]


def load_workflow(path: Path | None) -> Workflow | None:
    return Workflow.from_toml(path) if path is not None else None


def one_source(file: Path | None, stream: str | None) -> None:
    """Exit with usage error 2 unless exactly one of FILE and --stream is given."""
    if (file is None) == (stream is None):
        err.print("[red]error:[/red] give a FILE or --stream NAME (one of them)")
        raise typer.Exit(2)


def load_history(
    file: Path | None,
    stream: str | None,
    workflow: Path | None,
    *,
    file_format: str | None = None,
    columns: ColumnMap | None = None,
    quiet: bool = False,
) -> tuple[EventLog, Workflow | None]:
    """The events of a file (read with a progress bar) or of a stored stream, and the
    workflow: ``--workflow`` when given, else the stream's own."""
    from obeya.ingest import read_events
    from obeya.workspace import Workspace

    chosen = load_workflow(workflow)
    if file is not None:
        with progress_bar(f"reading {file.name}", quiet) as progress:
            log = read_events(
                file, format=file_format, columns=columns or ColumnMap(), progress=progress
            )
        return log, chosen
    assert stream is not None
    with Workspace() as ws:
        ws.initialise()
        if chosen is None:
            chosen = ws.stream(stream).workflow
        return ws.events(stream), chosen


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
