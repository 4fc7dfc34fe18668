"""What every ``obeya`` command shares: the consoles, the option types, error and progress
handling. Commands only parse arguments, call the Workspace or the core, and print."""

from __future__ import annotations

import functools
import inspect
import json
import re
import sys
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console, ConsoleOptions
from rich.markup import escape
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from obeya.errors import NotFoundError, ObeyaError
from obeya.ingest import ColumnMap

if TYPE_CHECKING:  # imported by the commands that use them, not at start-up
    from obeya.core.events import EventLog
    from obeya.core.metrics.engines import Engine
    from obeya.core.workflow import Workflow


class WholeTables(Console):
    """A console that prints a table whole: at its natural width, wider than the terminal if
    need be (the terminal then wraps the lines), never squeezed into cut cells ("throughp…")
    or headers broken over lines. With ``soft_wrap`` nothing is cropped either."""

    def render(self, renderable: Any, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        if isinstance(renderable, Table):
            options = options or self.options
            natural = Measurement.get(self, options.update(max_width=10_000), renderable).maximum
            if natural > options.max_width:
                options = options.update(width=natural)
        return super().render(renderable, options)


out = WholeTables(soft_wrap=True)
err = Console(stderr=True)

FileArg = Annotated[Path, typer.Argument(help="CSV, XES or Jira JSON file (may be gzipped).")]
WorkflowOpt = Annotated[
    Path | None, typer.Option("--workflow", "-w", help="Workflow TOML: states by category.")
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="csv, wide (one row per item, a time column per state), xes or jira "
        "(default: from the content; wide must be given).",
    ),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="duckdb (in-process) or spark, for histories past one machine (default: "
        "OBEYA_ENGINE, else duckdb; docs/scale.md).",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="With --engine spark: local[N], spark://host:7077 or Spark Connect "
        "sc://host:15002 (default: OBEYA_SPARK_MASTER, else local[2]).",
    ),
]


def engine_of(name: str | None, spark_master: str | None) -> Engine:
    """``--engine`` and ``--spark-master``, each over its environment variable."""
    from obeya.core.metrics.engines import Engine

    base = Engine.from_environment()
    chosen = name.strip().lower() if name else base.name
    return Engine(chosen, spark_master or base.spark_master)


ItemCol = Annotated[str, typer.Option(help="CSV column (XES key) of the item id.")]
StateCol = Annotated[str, typer.Option(help="CSV column (XES key) of the state.")]
TimeCol = Annotated[str, typer.Option(help="CSV column (XES key) of the timestamp.")]


#: What a terminal could act on rather than show: C0 (ESC, CR, BEL, newline …), DEL, C1
#: (8-bit CSI, OSC …), line and paragraph separators, and the bidi controls that reorder text.
_UNICODE_CONTROLS = "\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f{_UNICODE_CONTROLS}]")
#: The ones ``json.dumps(ensure_ascii=False)`` leaves raw (it escapes C0 itself).
_RAW_IN_JSON = re.compile(f"[{_UNICODE_CONTROLS}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: object) -> str:
    """``value`` as text whose control characters show as escapes (``\\x1b``): names, titles
    and file contents come from other users and files, and a raw ESC lets them clear the
    screen, forge output or plant a hyperlink."""
    return _CONTROL.sub(_visible, str(value))


def safe(value: object) -> str:
    """User text to put in a Rich markup string: :func:`clean`, and its ``[...]`` escaped so
    that ``[link=…]`` or ``[bold red]`` in a name print literally instead of styling. Every
    message that carries user text goes through this (or :class:`PlainTable`)."""
    return escape(clean(value))


class PlainTable(Table):
    """A Rich table whose title, headers and ``str`` cells are printed as they are
    (through :func:`safe`): cells hold names and titles from the store, never our markup. A
    cell that needs several lines is passed as a ``Text`` of :func:`clean` lines."""

    def __init__(self, *headers: str, title: str | None = None, **options: Any) -> None:
        super().__init__(
            *headers,
            title=None if title is None else safe(title),
            **options,
        )

    def add_column(self, header: Any = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(safe(header) if isinstance(header, str) else header, *args, **kwargs)

    def add_row(self, *cells: Any, **kwargs: Any) -> None:
        super().add_row(*(safe(c) if isinstance(c, str) else c for c in cells), **kwargs)


def lines(values: Iterable[object]) -> Text:
    """A table cell of several user values, one per line, each :func:`clean`."""
    return Text("\n".join(clean(v) for v in values))


def fail(error: ObeyaError) -> None:
    """The one printer of an error: its message names streams, maps, files and their
    contents, so it is printed through :func:`safe`."""
    message = error.shown("cli")
    if isinstance(error, NotFoundError) and error.hint():
        message += f"; {error.hint()}"  # the CLI's user may see the whole workspace
    err.print(f"[red]error:[/red] {safe(message)}", highlight=False, soft_wrap=True)
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
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
    )

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn() if unit is None else MofNCompleteColumn(),
        *(() if unit is None else (unit,)),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(safe(label), total=None)
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
    (
        "state_columns",
        "--state-columns",
        "Wide CSV: the state columns in flow order, comma-separated, each NAME or "
        "NAME=STATE (default: every other column, left to right).",
    ),
)

Command = TypeVar("Command", bound=Callable[..., Any])


def with_columns(command: Command) -> Command:
    """Give a command the column options (``--item-column`` …) and hand it one ``columns:
    ColumnMap`` instead, so the options are declared once for every command."""
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
    from obeya.core.workflow import Workflow

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


def workflow_or_inferred(log: EventLog, chosen: Workflow | None) -> Workflow:
    """``chosen``, else the workflow ``obeya workflow infer`` proposes for ``log`` (what the
    web app takes for a stream without one), saying so on stderr."""
    if chosen is not None:
        return chosen
    from obeya.core.workflow_infer import infer_workflow

    inferred, _ = infer_workflow(log)
    err.print(
        "[yellow]note:[/yellow] no workflow given: the one `obeya workflow infer` proposes is "
        "used (give --workflow to choose)",
        highlight=False,
    )
    return inferred


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]error:[/red] {option} {safe(repr(value))} is not a date; use YYYY-MM-DD")
        raise typer.Exit(2) from None


def print_json(doc: Any) -> None:
    """JSON keeps C0 controls escaped; C1 and the bidi controls are escaped too (``\\u009b``,
    the same string to a JSON reader), so a document printed to a terminal cannot drive it."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    sys.stdout.write(_RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
