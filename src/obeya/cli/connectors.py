"""``obeya connect``, ``obeya sync``, ``obeya connectors``: live connectors to trackers.

A connector's token is never given on the command line (it would stay in the shell's
history and the process list): ``--token-env VAR`` names the environment variable that holds
it, read at each sync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from obeya.cli.common import (
    WorkflowOpt,
    err,
    handle_errors,
    load_workflow,
    out,
    print_json,
    safe,
)
from obeya.errors import ObeyaError
from obeya.render.numbers import count, timestamp
from obeya.workspace import Workspace

connect_app = typer.Typer(
    help="Connect a value stream to a tracker (then `obeya sync`).", no_args_is_help=True
)

NameArg = Annotated[str, typer.Argument(help="The connector's name.")]
StreamOpt = Annotated[str, typer.Option(help="Value stream it fills (created if new).")]
TokenEnvOpt = Annotated[
    str, typer.Option("--token-env", help="Environment variable holding the API token.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON document.")]


def _add(
    name: str,
    kind: str,
    stream: str,
    settings: dict[str, Any],
    token_env: str,
    workflow: Path | None,
    as_json: bool,
) -> None:
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        info = ws.connectors.add(
            name,
            kind,
            stream,
            settings,
            secret_env=token_env,
            workflow=load_workflow(workflow),
            local=True,
        )
    if as_json:
        print_json(info.to_dict())
        return
    out.print(
        f"connector '{safe(name)}' ({kind}) fills value stream '{safe(stream)}'; its token is "
        f"read from ${safe(token_env)}. Pull its history with `obeya sync {safe(name)}`."
    )


@connect_app.command("jira")
def connect_jira(
    name: NameArg,
    url: Annotated[str, typer.Option(help="Jira's base URL, e.g. https://acme.atlassian.net.")],
    jql: Annotated[str, typer.Option(help='Which issues, e.g. "project = PAY".')],
    stream: StreamOpt,
    token_env: TokenEnvOpt,
    email: Annotated[
        str | None,
        typer.Option(help="Jira Cloud: the account's e-mail (without: a Data Center PAT)."),
    ] = None,
    workflow: WorkflowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Jira Cloud (e-mail + API token) or Data Center (a personal access token)."""
    _add(
        name, "jira", stream, {"url": url, "jql": jql, "email": email}, token_env, workflow, as_json
    )


@connect_app.command("github")
def connect_github(
    name: NameArg,
    repo: Annotated[str, typer.Option(help="owner/name.")],
    stream: StreamOpt,
    token_env: TokenEnvOpt,
    state_label: Annotated[
        list[str] | None,
        typer.Option("--state-label", help="A label that is a workflow state (repeatable)."),
    ] = None,
    api_url: Annotated[str, typer.Option(help="GitHub's API (Enterprise: its /api/v3).")] = (
        "https://api.github.com"
    ),
    project_number: Annotated[
        int | None,
        typer.Option(help="A project (v2) whose Status field gives the states.", min=1),
    ] = None,
    deploy_workflow: Annotated[
        str | None,
        typer.Option(
            help="A workflow file (deploy.yml) whose runs on the default branch are "
            "production deployments."
        ),
    ] = None,
    workflow: WorkflowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """GitHub issues and pull requests, their labels as states; deployments for DORA."""
    settings = {
        "repo": repo,
        "api_url": api_url,
        "state_labels": list(state_label or ()),
        "project_number": project_number,
        "deploy_workflow": deploy_workflow,
    }
    _add(name, "github", stream, settings, token_env, workflow, as_json)


@connect_app.command("gitlab")
def connect_gitlab(
    name: NameArg,
    url: Annotated[str, typer.Option(help="GitLab's base URL, e.g. https://gitlab.com.")],
    project: Annotated[str, typer.Option(help="group/name.")],
    stream: StreamOpt,
    token_env: TokenEnvOpt,
    scoped_label_prefix: Annotated[
        str | None,
        typer.Option(help='Scoped labels "PREFIX::Value" are board columns (states).'),
    ] = None,
    workflow: WorkflowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """GitLab issues with their state and label events; deployments for DORA."""
    settings = {"url": url, "project": project, "scoped_label_prefix": scoped_label_prefix}
    _add(name, "gitlab", stream, settings, token_env, workflow, as_json)


def sync_command(
    name: Annotated[
        str | None, typer.Argument(help="The connector (default: every connector).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Pull what changed since the last sync; all or nothing per connector."""
    results: list[dict[str, Any]] = []
    failed = False
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        names = [name] if name is not None else [c.name for c in ws.connectors.list()]
        if not names:
            err.print("no connectors yet: `obeya connect jira|github|gitlab NAME …`")
            raise typer.Exit(1)
        for each in names:
            try:
                with err.status(f"syncing {safe(each)}…") as status:
                    stored = ws.connectors.sync(
                        each, progress=lambda text: status.update(safe(text))
                    )
            except ObeyaError as error:  # syncing all: one failing does not stop the others
                if name is not None:
                    raise
                failed = True
                results.append({"connector": each, "ok": False, "error": error.shown("cli")})
                err.print(f"[red]error:[/red] {safe(error.shown('cli'))}")
                continue
            result = ws.connectors.get(each).last_result or {}
            results.append({"connector": each, **result})
            if not as_json:
                delivery = result.get("delivery", {})
                added = ", ".join(
                    f"{count(v['added'])} {k}" for k, v in delivery.items() if v.get("added")
                )
                out.print(
                    f"{safe(each)}: {count(result.get('items', 0), 'item')} changed, "
                    f"{count(stored.events.events_added, 'new event')}"
                    + (f", {added}" if added else "")
                    + (
                        f", {count(stored.blockers.added, 'new blocker')}"
                        if stored.blockers.added
                        else ""
                    )
                    + (
                        f", {count(stored.blockers.updated, 'blocker')} updated"
                        if stored.blockers.updated
                        else ""
                    )
                    + (f"; renamed states {safe(str(stored.renamed))}" if stored.renamed else "")
                )
                for note in result.get("notes", [])[:10]:
                    out.print(f"  note: {safe(note)}")
    if as_json:
        print_json(results)
    if failed:
        raise typer.Exit(1)


def connectors_command(as_json: JsonOpt = False) -> None:
    """List the connectors with their last sync."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        infos = ws.connectors.list()
    if as_json:
        print_json([c.to_dict() for c in infos])
        return
    if not infos:
        out.print("no connectors yet: `obeya connect jira|github|gitlab NAME …`")
        return
    table = Table("connector", "tracker", "stream", "last sync", "items", "result")
    for c in infos:
        last = c.last_result or {}
        table.add_row(
            safe(c.name),
            c.kind,
            safe(c.stream),
            "never" if c.last_sync_at is None else f"{timestamp(c.last_sync_at)} UTC",
            count(last.get("items", 0)) if last.get("ok") else "",
            "ok" if last.get("ok") else safe(str(last.get("error", ""))),
        )
    out.print(table)


def disconnect_command(name: NameArg) -> None:
    """Forget a connector; its stream and what it synced stay."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        ws.connectors.remove(name)
    out.print(f"connector '{safe(name)}' removed; value stream and history kept")
