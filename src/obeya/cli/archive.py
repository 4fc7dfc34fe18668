"""``obeya export`` and ``obeya restore``: a workspace (or some streams) as one archive file
and back, on SQLite or PostgreSQL (the format: :mod:`obeya.store.archive`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from obeya.cli.common import handle_errors, out, progress_bar, safe
from obeya.workspace import Workspace


def export_command(
    output: Annotated[
        Path, typer.Argument(help="Archive to write, e.g. team.obeya.zip (replaced if there).")
    ],
    stream: Annotated[
        list[str] | None,
        typer.Option(
            "--stream",
            help="Only this value stream, with its maps and records (repeatable). "
            "Default: the whole workspace.",
        ),
    ] = None,
) -> None:
    """Write the whole workspace, or some value streams, to one archive file."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        with progress_bar(f"exporting to {output.name}", unit="events") as progress:
            summary = ws.export_archive(output, stream or None, progress=progress)
    out.print(f"{safe(output)}: {safe(summary.describe())}", highlight=False)


def restore_command(
    archive: Annotated[
        Path, typer.Argument(help="Archive written by `obeya export`.", exists=True, dir_okay=False)
    ],
    replace: Annotated[
        bool,
        typer.Option(
            help="Replace the streams, maps and records the store has already, instead of "
            "refusing the archive."
        ),
    ] = False,
) -> None:
    """Bring back an archive's value streams, maps and records, all or nothing."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        with progress_bar(f"restoring {archive.name}", unit="events") as progress:
            summary = ws.restore_archive(archive, replace=replace, progress=progress)
    replaced = f"; replaced {safe(', '.join(summary.replaced))}" if summary.replaced else ""
    out.print(
        f"restored from {safe(archive)}: {safe(summary.describe())}{replaced}", highlight=False
    )
