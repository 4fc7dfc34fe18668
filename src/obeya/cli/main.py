"""The ``obeya`` command: parses arguments, calls the Workspace, prints the result.

Start-up is kept light (docs/performance.md, "Start-up"): the commands are listed from
:data:`COMMANDS` and each module is imported only when its command runs, and the commands here
import the Workspace, the readers and the core inside their bodies.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from obeya.cli.common import (
    EngineOpt,
    FileArg,
    FormatOpt,
    SparkMasterOpt,
    WorkflowOpt,
    engine_of,
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
from obeya.cli.lazy import Entry, LazyGroup
from obeya.ingest import ColumnMap

#: Where ``obeya serve`` listens unless told otherwise (and ``make run`` serves).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

START = "Start here"
FLOW = "Flow, maps, forecasts and simulation"
STEER = "Steering"
ADMIN = "Workspace, people and connectors"

#: Every command, in the order ``obeya --help`` lists them: a new user's first steps first.
#: The summary is the first paragraph of the command's own help (tests/cli/test_startup.py).
COMMANDS = (
    Entry(
        "init",
        "obeya.cli.main:init",
        "Create or upgrade the app store (SQLite in OBEYA_HOME, or OBEYA_DATABASE_URL).",
        START,
    ),
    Entry(
        "sample",
        "obeya.cli.main:sample",
        "Load the bundled sample value stream (BPI Challenge 2013 incidents) if missing.",
        START,
    ),
    Entry(
        "serve",
        "obeya.cli.main:serve",
        "Start the web app and the REST API (OpenAPI at /docs). Everything needs sign-in.",
        START,
    ),
    Entry(
        "import",
        "obeya.cli.main:import_",
        "Store a file's history in a value stream. Re-importing the same file changes nothing.",
        START,
    ),
    Entry(
        "metrics",
        "obeya.cli.main:metrics",
        "Flow metrics of a file (no database needed) or of a stored value stream.",
        START,
    ),
    Entry("streams", "obeya.cli.main:streams", "List the value streams in the store.", START),
    Entry("stream", "obeya.cli.streams:stream_app", "Rename or delete a value stream.", START),
    Entry(
        "workflow",
        "obeya.cli.main:workflow_app",
        "Workflows: what each state of the data means for flow.",
        FLOW,
    ),
    Entry(
        "map",
        "obeya.cli.maps:maps_app",
        "Value stream maps: figures of a map file, future-state variants compared.",
        FLOW,
    ),
    Entry(
        "forecast",
        "obeya.cli.forecast:forecast_app",
        "Monte Carlo forecasts from the daily throughput: when N items, how many by a date, "
        "and backtests of them.",
        FLOW,
    ),
    Entry(
        "calibrate",
        "obeya.cli.twin:calibrate_command",
        "Fit a digital twin of the stream to its history (people per step, working calendar, "
        "routing with rework, arrivals, delays, today's WIP); with --holdout or "
        "--validate-from, check whether a twin fitted to the past foretold what followed "
        "(docs/simulation.md).",
        FLOW,
    ),
    Entry(
        "simulate",
        "obeya.cli.simulate:simulate_command",
        "Run a twin forward from its as_of (its events, lead time, throughput, WIP, each "
        "step's utilisation), or simulate a scenario (SimPy): lead time, throughput, "
        "utilisation and the constraint.",
        FLOW,
    ),
    Entry(
        "what-if",
        "obeya.cli.simulate:what_if_command",
        "Compare the current state with future states: lead time, throughput, WIP and "
        "utilisation side by side, with confidence intervals (same seeds: paired "
        "replications). A change may be relative: ``Build.servers=+1``, ``arrivals=+10%``.",
        FLOW,
    ),
    Entry(
        "dora",
        "obeya.cli.dora:dora_command",
        "DORA delivery metrics: deployment frequency, lead time for changes, change failure "
        "rate and failed deployment recovery time, each with its DORA 2023 band.",
        FLOW,
    ),
    Entry(
        "overview",
        "obeya.cli.steering:overview_command",
        "The value stream at a glance: flow, objectives, top risks, dependencies at risk, "
        "improvements in flight, experiments; also as a printable report (--html, --pdf).",
        STEER,
    ),
    Entry(
        "steering",
        "obeya.cli.steering:steering_app",
        "Steering records of any kind: load a TOML file, list, show, history, delete.",
        STEER,
    ),
    Entry("objective", "obeya.cli.steering:objective_app", "Objectives and key results.", STEER),
    Entry("risk", "obeya.cli.steering:risk_app", "The risk register, ROAMed.", STEER),
    Entry(
        "blockers",
        "obeya.cli.blockers:blockers_app",
        "Impediments of the blocked time made risks or improvements, keeping the link.",
        STEER,
    ),
    Entry(
        "roadmap",
        "obeya.cli.steering:roadmap_command",
        "The improvement roadmap: quick wins first, then by WSJF (cost of delay ÷ job size).",
        STEER,
    ),
    Entry(
        "experiment",
        "obeya.cli.experiment:experiment_app",
        "Improvement experiments: a metric compared between a baseline and a trial window, "
        "with a bootstrap interval, a Mann–Whitney U test and a guard metric.",
        STEER,
    ),
    Entry("team", "obeya.cli.steering:team_app", "Teams, people and skill coverage.", STEER),
    Entry(
        "deps",
        "obeya.cli.deps:deps_app",
        "Dependencies between teams' tasks: the critical path, dependencies at risk, the graph.",
        STEER,
    ),
    Entry(
        "families",
        "obeya.cli.families:families_app",
        "Product families: cluster a product catalogue into candidate value streams.",
        STEER,
    ),
    Entry("user", "obeya.cli.access:user_app", "Users and their roles per value stream.", ADMIN),
    Entry(
        "token", "obeya.cli.access:token_app", "API tokens (Authorization: Bearer TOKEN).", ADMIN
    ),
    Entry(
        "audit",
        "obeya.cli.access:audit_command",
        "The audit log: every change, who made it and when, with before and after.",
        ADMIN,
    ),
    Entry(
        "connect",
        "obeya.cli.connectors:connect_app",
        "Connect a value stream to a tracker (then `obeya sync`).",
        ADMIN,
    ),
    Entry(
        "sync",
        "obeya.cli.connectors:sync_command",
        "Pull what changed since the last sync; all or nothing per connector.",
        ADMIN,
    ),
    Entry(
        "connectors",
        "obeya.cli.connectors:connectors_command",
        "List the connectors with their last sync.",
        ADMIN,
    ),
    Entry(
        "disconnect",
        "obeya.cli.connectors:disconnect_command",
        "Forget a connector; its stream and what it synced stay.",
        ADMIN,
    ),
    Entry(
        "export",
        "obeya.cli.archive:export_command",
        "Write the whole workspace, or some value streams, to one archive file; or a stream's "
        "events as Parquet (--events-parquet).",
        ADMIN,
    ),
    Entry(
        "restore",
        "obeya.cli.archive:restore_command",
        "Bring back an archive's value streams, maps and records, all or nothing.",
        ADMIN,
    ),
)


class ObeyaGroup(LazyGroup):
    """The root group: every command listed from :data:`COMMANDS`, loaded when run."""

    entries = COMMANDS


app = typer.Typer(
    cls=ObeyaGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
workflow_app = typer.Typer(help="Workflows: what each state of the data means for flow.")


@app.callback()
def obeya() -> None:
    """Obeya: value stream management from real work-item history."""


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
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    blockers: Annotated[
        Path | None,
        typer.Option(
            help="With FILE: a blockers CSV (item_id,blocked_at,unblocked_at,reason); "
            "adds blocked time. A stream uses the blockers imported into it."
        ),
    ] = None,
) -> None:
    """Flow metrics of a file (no database needed) or of a stored value stream."""
    from obeya.cli.render import print_report
    from obeya.core.metrics import FlowFilter
    from obeya.workspace import Workspace, analyse_file

    if (file is None) == (stream is None):
        err.print("[red]error:[/red] give a FILE or --stream NAME (one of them)")
        raise typer.Exit(2)
    if blockers is not None and stream is not None:
        err.print(
            "[red]error:[/red] --blockers is for a FILE; import a stream's blockers with "
            "`obeya import blockers FILE --stream NAME`"
        )
        raise typer.Exit(2)
    with handle_errors():
        chosen = engine_of(engine, spark_master)
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
                    engine=chosen,
                    blockers=blockers,
                )
        else:
            assert stream is not None
            with Workspace(engine=chosen) as ws:
                ws.initialise()
                report = ws.flow(stream, flt, detail=detail, workflow=load_workflow(workflow))
    from obeya.core.metrics import caveats

    for warning in report.warnings:  # on stderr, so the JSON on stdout stays whole
        err.print(f"[yellow]warning:[/yellow] {safe(warning['message'])}", highlight=False)
    doc = report.to_dict(detail=detail)
    for caveat in caveats(doc):
        err.print(f"[yellow]note:[/yellow] {safe(caveat)}", highlight=False)
    if as_json:
        print_json(doc)
    else:
        print_report(report, out)


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
    (docs/conventions.md, "Delivery metrics") in an existing stream instead, and
    `obeya import blockers FILE --stream S` blockers ("Blocked time").
    """
    from obeya.workspace import Workspace

    if delivery_file is not None and str(file) == "blockers":
        _import_blockers(delivery_file, stream)
        return
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


def _import_blockers(path: Path, stream: str) -> None:
    from obeya.workspace import Workspace

    with handle_errors(), Workspace() as ws:
        ws.initialise()
        counts = ws.import_blockers(path, stream)
    out.print(
        f"{safe(path)}: {counts.given:,} blockers read, {counts.added:,} new, "
        f"{counts.updated:,} updated in value stream '{safe(stream)}'"
    )
    if counts.unknown:
        shown = ", ".join(counts.unknown[:10]) + (" …" if len(counts.unknown) > 10 else "")
        err.print(
            f"[yellow]warning:[/yellow] {len(counts.unknown):,} items the stream has no events "
            f"of: {safe(shown)}; their blockers count nowhere until their events are imported",
            highlight=False,
        )


def _import_delivery(kind: str, path: Path, stream: str) -> None:
    from obeya.workspace import Workspace
    from obeya.workspace_delivery import DELIVERY_KINDS

    if kind not in DELIVERY_KINDS:
        err.print(
            f"[red]error:[/red] two arguments are for delivery records or blockers: the first "
            f"must be one of {', '.join(DELIVERY_KINDS)}, blockers; got {safe(kind)!r}"
        )
        raise typer.Exit(2)
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        counts = ws.delivery.import_file(kind, path, stream)
    out.print(
        f"{safe(path)}: {counts.given:,} {kind} read, {counts.added:,} new, "
        f"{counts.updated:,} updated in value stream '{safe(stream)}'"
    )


def streams(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """List the value streams in the store."""
    from obeya.render.numbers import count
    from obeya.workspace import Workspace

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
        out.print(f"{safe(s.name)}: {count(s.items, 'item')}, {count(s.events, 'event')}")
    if not infos:
        out.print("no value streams yet: `obeya import FILE --stream NAME`")


def init() -> None:
    """Create or upgrade the app store (SQLite in OBEYA_HOME, or OBEYA_DATABASE_URL)."""
    from obeya.workspace import Workspace

    with handle_errors(), Workspace() as ws:
        ws.initialise()
        out.print(f"store ready: {safe(ws.location())}")


def sample() -> None:
    """Load the bundled sample value stream (BPI Challenge 2013 incidents) if missing."""
    from obeya.workspace import Workspace

    with handle_errors(), Workspace() as ws:
        ws.initialise()
        with progress_bar("importing the sample") as progress:
            result = ws.import_sample(progress)
        has_users = bool(ws.access.users())
    if result is None:
        out.print("sample value stream already loaded")
    else:
        out.print(f"sample loaded: {result.events_added:,} events in '{safe(result.stream.name)}'")
    out.print(how_to_open(has_users), markup=False, highlight=False)


def how_to_open(has_users: bool) -> str:
    """The next step after ``obeya sample``: where the app will be and how to get in (the
    first link made on a workspace without users makes its admin)."""
    url = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/"
    serve = f"open it: `obeya serve` (what `make run` runs) serves {url} (or its --port)"
    if has_users:
        return (
            f"{serve}; sign in with your password, or with a one-time link that "
            "`obeya user link [NAME]` prints while it runs"
        )
    return f"{serve} and prints a one-time sign-in link that makes you the workspace admin"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
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
    from obeya.cli.access import noting_served, sign_in_url
    from obeya.connectors.schedule import parse_interval, start_schedule
    from obeya.errors import NotFoundError
    from obeya.workspace import Workspace

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
                secret = ws.access.sign_in_link()
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
    with noting_served(base):  # for `obeya user link` in another shell
        if workers == 1:
            # Who is calling is the socket's peer unless OBEYA_TRUSTED_PROXIES names the
            # proxy (obeya.auth.addresses); uvicorn's X-Forwarded-For rewriting trusts loopback.
            app = create_app()
            uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
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


@with_columns
def workflow_infer(
    file: Annotated[Path | None, typer.Argument(help="File to read (one-shot).")] = None,
    stream: Annotated[str | None, typer.Option(help="Read a stored value stream.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the TOML here (default: print).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the proposal, evidence and flags as JSON.")
    ] = False,
    file_format: FormatOpt = None,
    columns: ColumnMap = ColumnMap(),
) -> None:
    """Propose a workflow file from the data, for you to edit; results that are rarely true
    (flow efficiency over 60 %, an active state holding most of the time) are flagged."""
    from obeya.core.workflow_infer import proposal_text, propose
    from obeya.ingest import read_events
    from obeya.workspace import Workspace

    if (file is None) == (stream is None):
        err.print("[red]error:[/red] give a FILE or --stream NAME (one of them)")
        raise typer.Exit(2)
    with handle_errors():
        if file is not None:
            log = read_events(file, format=file_format, columns=columns)
            proposal, source = propose(log), log.source
        else:
            assert stream is not None
            with Workspace() as ws:
                ws.initialise()
                proposal, source = ws.infer_workflow(stream), f"value stream {stream}"
        text = proposal_text(proposal, source)
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


workflow_app.command("infer")(workflow_infer)


def main() -> None:  # pragma: no cover - console entry
    app()
