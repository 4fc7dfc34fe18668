"""The ``obeya`` command: parses arguments, calls the Workspace, prints the result."""

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

from obeya.cli.maps import maps_app
from obeya.cli.render import print_report
from obeya.core.metrics import FlowFilter
from obeya.core.workflow import Workflow
from obeya.errors import ObeyaError
from obeya.ingest import ColumnMap, read_events
from obeya.workspace import Workspace, analyse_file

app = typer.Typer(
    help="Obeya: value stream management from real work-item history.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
workflow_app = typer.Typer(help="Workflows: what each state of the data means for flow.")
app.add_typer(workflow_app, name="workflow")
app.add_typer(maps_app, name="map")

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


def _fail(error: ObeyaError) -> None:
    err.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except ObeyaError as error:
        _fail(error)


@contextmanager
def _progress(label: str, quiet: bool = False) -> Iterator[Callable[[int, int], None] | None]:
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


def _columns(
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


def _workflow(path: Path | None) -> Workflow | None:
    return Workflow.from_toml(path) if path is not None else None


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]error:[/red] {option} {value!r} is not a date; use YYYY-MM-DD")
        raise typer.Exit(2) from None


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


@app.command()
def metrics(
    file: Annotated[Path | None, typer.Argument(help="File to analyse (one-shot).")] = None,
    stream: Annotated[str | None, typer.Option(help="Analyse a stored value stream.")] = None,
    workflow: WorkflowOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
    detail: Annotated[bool, typer.Option(help="With --json: per-item scatter and aging.")] = False,
    item_type: Annotated[
        list[str] | None, typer.Option("--type", help="Only items of this type (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Window start, YYYY-MM-DD (UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Window end, YYYY-MM-DD, inclusive.")] = None,
    calendar_days: Annotated[
        bool, typer.Option(help="Cycle time in whole calendar days (end − start + 1).")
    ] = False,
    file_format: FormatOpt = None,
    item_column: ItemCol = "item_id",
    state_column: StateCol = "state",
    timestamp_column: TimeCol = "timestamp",
    type_column: TypeCol = "type",
    team_column: TeamCol = "team",
    assignee_column: AssigneeCol = "assignee",
    title_column: TitleCol = "title",
    created_column: CreatedCol = "created",
) -> None:
    """Flow metrics of a file (no database needed) or of a stored value stream."""
    if (file is None) == (stream is None):
        err.print("[red]error:[/red] give a FILE or --stream NAME (one of them)")
        raise typer.Exit(2)
    flt = FlowFilter(
        types=tuple(item_type or ()),
        since=_parse_date(since, "--since"),
        until=_parse_date(until, "--until"),
        calendar_days=calendar_days,
    )
    with _errors():
        if file is not None:
            columns = _columns(
                item_column,
                state_column,
                timestamp_column,
                type_column,
                team_column,
                assignee_column,
                title_column,
                created_column,
            )
            with _progress(f"reading {file.name}", as_json) as progress:
                report = analyse_file(
                    file,
                    _workflow(workflow),
                    flt,
                    columns=columns,
                    file_format=file_format,
                    detail=detail,
                    progress=progress,
                )
        else:
            assert stream is not None
            with Workspace() as ws:
                ws.initialise()
                report = ws.flow(stream, flt, detail=detail, workflow=_workflow(workflow))
    if as_json:
        _print_json(report.to_dict(detail=detail))
    else:
        print_report(report, out)


@app.command("import")
def import_(
    file: FileArg,
    stream: Annotated[str, typer.Option(help="Value stream to import into (created if new).")],
    workflow: WorkflowOpt = None,
    file_format: FormatOpt = None,
    item_column: ItemCol = "item_id",
    state_column: StateCol = "state",
    timestamp_column: TimeCol = "timestamp",
    type_column: TypeCol = "type",
    team_column: TeamCol = "team",
    assignee_column: AssigneeCol = "assignee",
    title_column: TitleCol = "title",
    created_column: CreatedCol = "created",
) -> None:
    """Store a file's history in a value stream. Re-importing the same file changes nothing."""
    columns = _columns(
        item_column,
        state_column,
        timestamp_column,
        type_column,
        team_column,
        assignee_column,
        title_column,
        created_column,
    )
    with _errors(), Workspace() as ws:
        ws.initialise()
        with _progress(f"importing {file.name}") as progress:
            result = ws.import_file(
                file,
                stream,
                workflow=_workflow(workflow),
                columns=columns,
                file_format=file_format,
                progress=progress,
            )
    out.print(
        f"{file}: {result.events_in_file:,} events read, {result.events_added:,} new "
        f"in value stream '{stream}'"
    )


@app.command()
def streams(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """List the value streams in the store."""
    with _errors(), Workspace() as ws:
        ws.initialise()
        infos = ws.streams()
    if as_json:
        _print_json(
            [
                {
                    "name": s.name,
                    "events": s.events,
                    "items": s.items,
                    "workflow": s.workflow is not None,
                }
                for s in infos
            ]
        )
        return
    for s in infos:
        out.print(f"{s.name}: {s.items:,} items, {s.events:,} events")
    if not infos:
        out.print("no value streams yet: `obeya import FILE --stream NAME`")


@app.command()
def init() -> None:
    """Create or upgrade the app store (SQLite in OBEYA_HOME, or OBEYA_DATABASE_URL)."""
    with _errors(), Workspace() as ws:
        ws.initialise()
        out.print(f"store ready: {ws.store.engine.url.render_as_string(hide_password=True)}")


@app.command()
def sample() -> None:
    """Load the bundled sample value stream (BPI Challenge 2013 incidents) if missing."""
    with _errors(), Workspace() as ws:
        ws.initialise()
        with _progress("importing the sample") as progress:
            result = ws.import_sample(progress)
    if result is None:
        out.print("sample value stream already loaded")
    else:
        out.print(f"sample loaded: {result.events_added:,} events in '{result.stream.name}'")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Start the web app and the REST API (OpenAPI at /docs)."""
    import uvicorn

    from obeya.api.app import create_app

    with _errors(), Workspace() as ws:
        ws.initialise()
    out.print(f"Obeya is running at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@workflow_app.command("infer")
def workflow_infer(
    file: FileArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the TOML here (default: print).")
    ] = None,
    file_format: FormatOpt = None,
    item_column: ItemCol = "item_id",
    state_column: StateCol = "state",
    timestamp_column: TimeCol = "timestamp",
) -> None:
    """Propose a workflow file from the data, for you to edit."""
    from obeya.core.workflow_infer import proposal_toml

    columns = ColumnMap(item_id=item_column, state=state_column, timestamp=timestamp_column)
    with _errors():
        log = read_events(file, format=file_format, columns=columns)
        text = proposal_toml(log)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"workflow proposal written to {output}")


def main() -> None:  # pragma: no cover - console entry
    app()
