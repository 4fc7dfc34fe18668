"""The ``obeya`` command: parses arguments, calls the Workspace, prints the result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from obeya.cli.access import audit_command, sign_in_url, token_app, user_app
from obeya.cli.archive import export_command, restore_command
from obeya.cli.common import (
    FileArg,
    FormatOpt,
    ItemCol,
    StateCol,
    TimeCol,
    WorkflowOpt,
    err,
    handle_errors,
    load_workflow,
    out,
    parse_date,
    print_json,
    progress_bar,
    safe,
    with_columns,
)
from obeya.cli.connectors import (
    connect_app,
    connectors_command,
    disconnect_command,
    sync_command,
)
from obeya.cli.deps import deps_app
from obeya.cli.dora import dora_command
from obeya.cli.experiment import experiment_app
from obeya.cli.families import families_app
from obeya.cli.forecast import forecast_app
from obeya.cli.maps import maps_app
from obeya.cli.render import print_report
from obeya.cli.simulate import simulate_command, what_if_command
from obeya.cli.steering import (
    objective_app,
    overview_command,
    risk_app,
    roadmap_command,
    steering_app,
    team_app,
)
from obeya.cli.twin import calibrate_command
from obeya.core.metrics import FlowFilter
from obeya.errors import NotFoundError
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
app.add_typer(forecast_app, name="forecast")
app.add_typer(steering_app, name="steering")
app.add_typer(risk_app, name="risk")
app.add_typer(objective_app, name="objective")
app.add_typer(team_app, name="team")
app.command("roadmap")(roadmap_command)
app.command("overview")(overview_command)
app.add_typer(deps_app, name="deps")
app.add_typer(families_app, name="families")
app.add_typer(experiment_app, name="experiment")
app.command("simulate")(simulate_command)
app.command("what-if")(what_if_command)
app.command("calibrate")(calibrate_command)
app.command("dora")(dora_command)
app.command("export")(export_command)
app.command("restore")(restore_command)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.command("audit")(audit_command)
app.add_typer(connect_app, name="connect")
app.command("sync")(sync_command)
app.command("connectors")(connectors_command)
app.command("disconnect")(disconnect_command)


@app.command()
@with_columns
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
    columns: ColumnMap = ColumnMap(),
) -> None:
    """Flow metrics of a file (no database needed) or of a stored value stream."""
    if (file is None) == (stream is None):
        err.print("[red]error:[/red] give a FILE or --stream NAME (one of them)")
        raise typer.Exit(2)
    with handle_errors():
        flt = FlowFilter(
            types=tuple(item_type or ()),
            since=parse_date(since, "--since"),
            until=parse_date(until, "--until"),
            calendar_days=calendar_days,
        )
        if file is not None:
            with progress_bar(f"reading {file.name}", as_json) as progress:
                report = analyse_file(
                    file,
                    load_workflow(workflow),
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
                report = ws.flow(stream, flt, detail=detail, workflow=load_workflow(workflow))
    if as_json:
        print_json(report.to_dict(detail=detail))
    else:
        print_report(report, out)


@app.command("import")
@with_columns
def import_(
    file: FileArg,
    stream: Annotated[str, typer.Option(help="Value stream to import into (created if new).")],
    delivery_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE]",
            help="With deployments, changes or incidents as the first argument: the CSV.",
            show_default=False,
        ),
    ] = None,
    workflow: WorkflowOpt = None,
    file_format: FormatOpt = None,
    strict: Annotated[
        bool, typer.Option(help="Refuse a file with events that go backwards in time.")
    ] = False,
    columns: ColumnMap = ColumnMap(),
) -> None:
    """Store a file's history in a value stream. Re-importing the same file changes nothing.

    `obeya import deployments|changes|incidents FILE --stream S` stores delivery records
    (docs/conventions.md, "Delivery metrics") in an existing stream instead.
    """
    if delivery_file is not None:
        _import_delivery(str(file), delivery_file, stream)
        return
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        with progress_bar(f"importing {file.name}") as progress:
            result = ws.import_file(
                file,
                stream,
                workflow=load_workflow(workflow),
                columns=columns,
                file_format=file_format,
                progress=progress,
                strict=strict,
            )
    out.print(
        f"{safe(file)}: {result.events_in_file:,} events read, {result.events_added:,} new "
        f"in value stream '{safe(stream)}'"
    )
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {safe(warning.message)}", highlight=False)


def _import_delivery(kind: str, path: Path, stream: str) -> None:
    from obeya.workspace_delivery import DELIVERY_KINDS

    if kind not in DELIVERY_KINDS:
        err.print(
            f"[red]error:[/red] two arguments are for delivery records: the first must be one "
            f"of {', '.join(DELIVERY_KINDS)}, got {safe(kind)!r}"
        )
        raise typer.Exit(2)
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        counts = ws.import_delivery(kind, path, stream)
    out.print(
        f"{safe(path)}: {counts.given:,} {kind} read, {counts.added:,} new, "
        f"{counts.updated:,} updated in value stream '{safe(stream)}'"
    )


@app.command()
def streams(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """List the value streams in the store."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        infos = ws.streams()
    if as_json:
        print_json(
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
        out.print(f"{safe(s.name)}: {s.items:,} items, {s.events:,} events")
    if not infos:
        out.print("no value streams yet: `obeya import FILE --stream NAME`")


@app.command()
def init() -> None:
    """Create or upgrade the app store (SQLite in OBEYA_HOME, or OBEYA_DATABASE_URL)."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        out.print(f"store ready: {safe(ws.store.engine.url.render_as_string(hide_password=True))}")


@app.command()
def sample() -> None:
    """Load the bundled sample value stream (BPI Challenge 2013 incidents) if missing."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        with progress_bar("importing the sample") as progress:
            result = ws.import_sample(progress)
    if result is None:
        out.print("sample value stream already loaded")
    else:
        out.print(f"sample loaded: {result.events_added:,} events in '{safe(result.stream.name)}'")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes; one per core serves a team's dashboards best.",
        ),
    ] = 1,
    link: Annotated[
        bool,
        typer.Option(
            "--sign-in-link/--no-sign-in-link",
            help="Print a one-time sign-in link for the first workspace admin (made as "
            "'admin' when there is no user yet).",
        ),
    ] = True,
    sync_every: Annotated[
        str | None,
        typer.Option(
            "--sync-every",
            help="Sync every connector this often while serving (e.g. 15m, 1h); off if unset.",
        ),
    ] = None,
) -> None:
    """Start the web app and the REST API (OpenAPI at /docs). Everything needs sign-in."""
    import uvicorn

    from obeya.api.app import check_server_environment, create_app
    from obeya.api.uploads import clear_stale_uploads
    from obeya.connectors.schedule import parse_interval, start_schedule

    clear_stale_uploads()
    with handle_errors():
        interval = None if sync_every is None else parse_interval(sync_every)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    secret = None
    with handle_errors(), Workspace() as ws:
        check_server_environment()  # a setting set wrong: a clear error now, not a traceback
        ws.initialise()
        if link:
            try:
                secret = ws.sign_in_link()
            except NotFoundError as error:  # users, but no workspace admin: sign in by password
                err.print(f"no sign-in link: {safe(error)}", highlight=False)
    out.print(f"Obeya is running at {safe(base)}/  (API docs: {safe(base)}/docs)", highlight=False)
    if secret is not None:
        out.print(
            f"Sign in (this link works once, for 15 minutes):\n  {safe(sign_in_url(base, secret))}",
            highlight=False,
        )
    if interval is not None:
        start_schedule(None, interval)
        out.print(f"Syncing every connector every {safe(sync_every)}", highlight=False)
    if workers == 1:
        # Who is calling is the socket's peer unless OBEYA_TRUSTED_PROXIES names the proxy
        # (obeya.auth.addresses); uvicorn's own X-Forwarded-For rewriting would trust loopback.
        uvicorn.run(create_app(), host=host, port=port, log_level="warning", proxy_headers=False)
    else:  # each process builds its own app (and report cache) from the environment
        uvicorn.run(
            "obeya.api.app:create_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,
        )


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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the proposal, evidence and flags as JSON.")
    ] = False,
) -> None:
    """Propose a workflow file from the data, for you to edit; results that are rarely true
    (flow efficiency over 60 %, an active state holding most of the time) are flagged."""
    from obeya.core.workflow_infer import proposal_text, propose

    columns = ColumnMap(item_id=item_column, state=state_column, timestamp=timestamp_column)
    with handle_errors():
        log = read_events(file, format=file_format, columns=columns)
        proposal = propose(log)
        text = proposal_text(proposal, log.source)
    if as_json:
        print_json({**proposal.to_dict(), "toml": text})
        return
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"workflow proposal written to {safe(output)}")
    for flag in proposal.flags:  # on stderr: stdout stays a valid TOML file
        err.print(f"check: {safe(flag.message)}")


def main() -> None:  # pragma: no cover - console entry
    app()
