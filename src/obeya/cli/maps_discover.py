"""``obeya map discover``: the current-state value stream map measured from history.

The command function is registered on the ``map`` sub-app by whoever assembles it; it takes the
same column options as ``obeya metrics`` (the aliases come from :mod:`obeya.cli.main`, so the
two commands cannot drift apart). Import this module after those aliases are defined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console

from obeya.cli.common import (
    FormatOpt,
    PlainTable,
    WorkflowOpt,
    err,
    handle_errors,
    load_history,
    one_source,
    out,
    print_json,
    safe,
    with_columns,
    workflow_or_inferred,
)
from obeya.cli.maps_store import default_author
from obeya.core.maps.calculations import SIDE_BRANCH_SHARE
from obeya.core.maps.discovery import Discovery, discover_with_twin
from obeya.core.twin.model import Twin
from obeya.ingest import ColumnMap
from obeya.render.map_figures import map_share
from obeya.render.numbers import count, number, significant
from obeya.workspace import Workspace, discovered_message


@with_columns
def discover_command(
    file: Annotated[Path | None, typer.Argument(help="File to map (one-shot).")] = None,
    stream: Annotated[str | None, typer.Option(help="Map a stored value stream.")] = None,
    workflow: WorkflowOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
    file_format: FormatOpt = None,
    columns: ColumnMap = ColumnMap(),
    save: Annotated[
        bool, typer.Option("--save", help="Save the map (with --stream) as a new version.")
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Name of the saved map (default: the stream's).")
    ] = None,
    author: Annotated[
        str | None, typer.Option("--author", help="Who saves it (default: your login).")
    ] = None,
) -> None:
    """Discover the current-state map: steps from the workflow's stages, with PT, LT, %C&A,
    handoffs and inventory measured from the history of a file or a stored value stream."""
    one_source(file, stream)
    if save and stream is None:
        err.print(
            "[red]error:[/red] --save saves the map of a --stream; map a file with `map save`"
        )
        raise typer.Exit(2)
    saved = None
    with handle_errors():
        log, chosen = load_history(
            file, stream, workflow, file_format=file_format, columns=columns, quiet=as_json
        )
        result, twin = discover_with_twin(log, workflow_or_inferred(log, chosen))
        if save:
            assert stream is not None
            with Workspace() as ws:
                saved = ws.save_map(
                    ws.discovered_map(stream, name or stream)[1],
                    author=author or default_author(),
                    message=discovered_message(stream),
                    stream=stream,
                )
    if as_json:
        print_json(result.to_dict())
    else:
        print_discovery(result, out, twin)
    if saved is not None:
        err.print(
            f"saved map {safe(repr(saved.name))} ({safe(saved.variant)}) as version "
            f"{saved.version}",
            highlight=False,
        )


def _num(value: float | None, digits: int = 1) -> str:
    return number(value, digits)


def print_discovery(result: Discovery, console: Console, twin: Twin | None = None) -> None:
    """The steps as a table in flow order, sample sizes beside their figures, then totals."""
    table = PlainTable(
        title=f"Current-state map of {result.source}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
    )
    rows = [
        (
            ("↳ " if s.share < SIDE_BRANCH_SHARE else "") + s.name,
            count(s.items),
            map_share(s.visit_share),
            _num(s.process_time_hours),
            _num(s.lead_time_hours),
            map_share(s.complete_accurate),
            count(s.complete_accurate_items),
            _num(s.handoffs, 2),
            count(s.handoff_items),
            _num(s.inventory_before),
        )
        for s in result.steps
    ]
    # Figures are never cut short on a narrow terminal: the step's name wraps instead.
    table.add_column("Step", overflow="fold", min_width=12)
    headings = ("Items", "Share", "PT h", "LT h", "%C&A", "n", "Hand-offs", "n", "Waiting")
    for k, heading in enumerate(headings, start=1):
        widest = max([len(r[k]) for r in rows] + [max(len(w) for w in heading.split("-"))])
        table.add_column(heading, justify="right", min_width=widest, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for s in result.steps:
        if list(s.states) != [s.name]:  # a step of one state of its name says nothing more
            console.print(f"[dim]{safe(s.name)}: {safe(', '.join(s.states))}[/dim]")
    totals = result.totals()
    console.print(
        f"Total LT {_num(totals['lead_time_hours'])} h · total PT "
        f"{_num(totals['process_time_hours'])} h · activity ratio "
        f"{map_share(totals['activity_ratio'])} · rolled %C&A "
        f"{map_share(totals['rolled_complete_accurate'])}"
    )
    if result.loops:
        top = sorted(result.loops, key=lambda loop: -loop.moves)[:5]
        console.print(
            "Loops back (rework): "
            + "; ".join(
                f"{safe(x.source)} → {safe(x.target)} {count(x.moves, 'move')} "
                f"({significant(x.share, 2)} per item that passed it)"
                for x in top
            )
            + (
                f"; and {len(result.loops) - len(top)} more" if len(result.loops) > len(top) else ""
            ),
            highlight=False,
        )
    console.print(safe(result.demand_note(twin)), highlight=False)
    if result.reconciliation is not None:
        console.print(f"Lead time: {safe(result.reconciliation.explanation)}.", highlight=False)
    who = result.handoff_column or "no assignee or team column"
    console.print(
        "[dim]Share: of the finished items, those that passed the step; the totals weigh each "
        "step by it (↳ a side branch: under 5 %). "
        f"PT, LT: means over items with a completed visit; handoffs counted on {safe(who)}; "
        f"waiting: mean items in the step's waiting states over {number(result.inventory_days, 0)} "
        "days.[/dim]"
    )
