"""``obeya stream rename|delete``: a value stream's name, and its end.

Like ``obeya user``, these need no sign-in (whoever runs the CLI holds the database); the
change is audited as ``cli:<login>``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from obeya.cli.common import handle_errors, out, safe

stream_app = typer.Typer(help="Rename or delete a value stream.", no_args_is_help=True)

StreamArg = Annotated[str, typer.Argument(help="The value stream's name.")]


@stream_app.command("rename")
def rename_command(
    name: StreamArg, new_name: Annotated[str, typer.Argument(help="Its new name.")]
) -> None:
    """Rename NAME to NEW_NAME; its roles, maps, records, delivery records, connectors and
    audit log follow it."""
    from obeya.workspace import Workspace

    with handle_errors(), Workspace() as ws:
        ws.initialise()
        info = ws.rename_stream(name, new_name)
    out.print(f"renamed value stream {safe(name)} to {safe(info.name)}", highlight=False)


@stream_app.command("delete")
def delete_command(
    name: StreamArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete NAME with its events, imports, roles, delivery records and connectors (its
    maps and records stay, linked to no stream). Asks first, unless --yes."""
    from obeya.workspace import Workspace

    with handle_errors(), Workspace() as ws:
        ws.initialise()
        info = ws.stream(name)  # NotFoundError (naming the streams) before asking
        if not yes:
            typer.confirm(
                f"Delete value stream {info.name!r} ({info.items:,} items, {info.events:,} "
                "events)? This cannot be undone",
                abort=True,
            )
        ws.delete_stream(name)
    out.print(f"deleted value stream {safe(name)}", highlight=False)
