"""``obeya export`` and ``obeya restore``: a workspace (or some streams) as one archive file
and back, on SQLite or PostgreSQL (the format: :mod:`obeya.store.archive`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from obeya.cli.common import err, handle_errors, out, progress_bar, safe
from obeya.workspace import Workspace


def export_command(
    output: Annotated[
        Path | None,
        typer.Argument(help="Archive to write, e.g. team.obeya.zip (replaced if there)."),
    ] = None,
    stream: Annotated[
        list[str] | None,
        typer.Option(
            "--stream",
            help="Only this value stream, with its maps and records (repeatable). "
            "Default: the whole workspace.",
        ),
    ] = None,
    events_parquet: Annotated[
        Path | None,
        typer.Option(
            "--events-parquet",
            help="Instead of an archive: write one --stream's events to this directory as "
            "Parquet partitioned by month (replaced if there), for `obeya metrics DIR`.",
        ),
    ] = None,
) -> None:
    """Write the whole workspace, or some value streams, to one archive file; or a stream's
    events as Parquet (--events-parquet)."""
    if (output is None) == (events_parquet is None):
        err.print("[red]error:[/red] give an archive OUTPUT or --events-parquet DIR (one of them)")
        raise typer.Exit(2)
    if events_parquet is not None:
        if stream is None or len(stream) != 1:
            err.print("[red]error:[/red] --events-parquet writes one stream: give one --stream")
            raise typer.Exit(2)
        _export_events(stream[0], events_parquet)
        return
    assert output is not None
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        with progress_bar(f"exporting to {output.name}", unit="events") as progress:
            summary = ws.export_archive(output, stream or None, progress=progress)
    out.print(f"{safe(output)}: {safe(summary.describe())}", highlight=False)


def _export_events(stream: str, directory: Path) -> None:
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        with progress_bar(f"exporting {stream} to {directory.name}", unit="events") as progress:
            events = ws.export_events_parquet(stream, directory, progress=progress)
    out.print(
        f"{safe(directory)}: {events:,} events of {safe(stream)}, partitioned by month "
        f"(read them with `obeya metrics {safe(directory)}`)",
        highlight=False,
    )


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
