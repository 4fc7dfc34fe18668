"""``obeya map``: a map file's figures, variants against a base map, discovery, and maps saved
in the app store (``save | list | history | variant | get | export``, in :mod:`.maps_store`).

A sub-app, registered by :mod:`obeya.cli.main`; it keeps its own small error handling so the
two modules do not import each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from obeya.cli.common import PlainTable, err, handle_errors, out, print_json, safe
from obeya.cli.maps_discover import discover_command
from obeya.cli.maps_store import (
    export_command,
    get_command,
    history_command,
    list_command,
    move_command,
    open_workspace,
    save_command,
    to_scenario_command,
    variant_command,
)
from obeya.core.maps.calculations import HANDOFF_COST_HOURS, PERIOD_DAYS, MapFigures, calculate
from obeya.core.maps.compare import compare as compare_maps
from obeya.core.maps.files import load_map
from obeya.render import map_figures
from obeya.render.map_figures import map_share
from obeya.render.numbers import DASH, number

maps_app = typer.Typer(
    help="Value stream maps: figures of a map file, future-state variants compared.",
    no_args_is_help=True,
)
maps_app.command("discover")(discover_command)
maps_app.command("save")(save_command)
maps_app.command("list")(list_command)
maps_app.command("history")(history_command)
maps_app.command("variant")(variant_command)
maps_app.command("move")(move_command)
maps_app.command("get")(get_command)
maps_app.command("export")(export_command)
maps_app.command("to-scenario")(to_scenario_command)

MapFile = Annotated[Path, typer.Argument(help="Map file, TOML ([[step]] tables) or JSON.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON document.")]
CostOpt = Annotated[
    float | None,
    typer.Option("--hourly-cost", help="Money per hour of waste (overrides the map's)."),
]
HandoffOpt = Annotated[
    float, typer.Option("--handoff-cost", help="Hours one handoff costs an item.")
]
PeriodOpt = Annotated[float, typer.Option("--period-days", help="Days of the money period.")]


def _num(value: float | None, digits: int = 1) -> str:
    return number(value, digits)


@maps_app.command()
def show(
    file: MapFile,
    as_json: JsonOpt = False,
    hourly_cost: CostOpt = None,
    handoff_cost: HandoffOpt = HANDOFF_COST_HOURS,
    period_days: PeriodOpt = PERIOD_DAYS,
) -> None:
    """The map's figures: steps, totals, takt, the constraint and waste."""
    with handle_errors():
        vsm = load_map(file)
        figures = calculate(
            vsm, hourly_cost=hourly_cost, handoff_cost_hours=handoff_cost, period_days=period_days
        )
    if as_json:
        print_json(figures.to_dict())
    else:
        print_figures(figures)


@maps_app.command()
def compare(
    base: Annotated[
        Path, typer.Argument(help="Base map file, or a saved map's name with --variants.")
    ],
    variants: Annotated[
        list[Path] | None, typer.Argument(help="Variant map files.", show_default=False)
    ] = None,
    stored: Annotated[
        str | None,
        typer.Option(
            "--variants",
            help="Compare these variants of the saved map BASE, the first being the base: "
            "current,future.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    hourly_cost: CostOpt = None,
    handoff_cost: HandoffOpt = HANDOFF_COST_HOURS,
    period_days: PeriodOpt = PERIOD_DAYS,
) -> None:
    """Every figure of each variant beside the base map's, with delta and % change.

    Map files: ``compare BASE VARIANT...``; saved maps: ``compare NAME --variants a,b``."""
    options = {
        "hourly_cost": hourly_cost,
        "handoff_cost_hours": handoff_cost,
        "period_days": period_days,
    }
    if (stored is None) == (not variants):
        err.print("[red]error:[/red] give VARIANT files, or --variants for a saved map (one)")
        raise typer.Exit(2)
    with handle_errors():
        if stored is not None:
            names = [v.strip() for v in stored.split(",") if v.strip()]
            with open_workspace() as ws:
                result = ws.compare_map_variants(str(base), names, **options)
        else:
            base_map = load_map(base)
            others = [load_map(path) for path in variants or []]
            result = compare_maps(base_map, *others, **options)
    if as_json:
        print_json(result.to_dict())
        return
    for variant in result.variants:
        table = PlainTable(title=f"{result.base.variant} → {variant.variant}")
        for column in ("figure", "base", "variant", "delta", "change"):
            table.add_column(column, justify="left" if column == "figure" else "right")
        for row in variant.figures:
            # Each figure as the map page's comparison shows it: hours, shares, money.
            kind = map_figures.kind(row.figure)
            table.add_row(
                row.figure,
                map_figures.shown(row.base, kind),
                map_figures.shown(row.value, kind),
                map_figures.delta(row.delta, kind),
                map_figures.change(row.change_pct),
            )
        out.print(table)
        out.print(
            f"constraint: {safe(result.base.constraint.step if result.base.constraint else DASH)}"
            f" → {safe(variant.constraint or DASH)}; biggest waste: "
            f"{safe(result.base.waste.biggest or DASH)} → {safe(variant.biggest_waste or DASH)}"
        )


def print_figures(figures: MapFigures) -> None:
    out.print(f"[bold]{safe(figures.name)}[/bold] ({safe(figures.variant)})")
    steps = PlainTable(title="Steps (hours)")
    for column in ("step", "PT", "LT", "wait", "%C&A", "inventory wait", "capacity/day", "util."):
        steps.add_column(column, justify="left" if column == "step" else "right")
    for s in figures.steps:
        steps.add_row(
            s.name,
            _num(s.process_time_hours, 2),
            _num(s.lead_time_hours, 2),
            _num(s.wait_hours, 2),
            map_share(s.complete_accurate),
            _num(s.inventory_wait_hours),
            _num(s.capacity_per_day, 2),
            map_share(s.utilisation),
        )
    out.print(steps)

    totals = PlainTable(title="Totals", show_header=False)
    totals.add_column("figure")
    totals.add_column("value", justify="right")
    ratio = figures.activity_ratio
    totals.add_row("lead time (h)", _num(figures.lead_time_hours, 2))
    totals.add_row("process time (h)", _num(figures.process_time_hours, 2))
    totals.add_row("activity ratio", map_share(ratio))
    totals.add_row("rolled %C&A", map_share(figures.rolled_complete_accurate))
    totals.add_row("takt time (h)", _num(figures.takt_time_hours, 2))
    out.print(totals)
    if figures.constraint:
        out.print(f"[bold]Constraint[/bold] {safe(figures.constraint.reason)}")

    waste = PlainTable(title=f"Waste per item (money per {number(figures.waste.period_days)} days)")
    for column in ("category", "hours/item", "money/period"):
        waste.add_column(column, justify="left" if column == "category" else "right")
    for c in figures.waste.categories:
        waste.add_row(
            c.category.replace("_", " "), _num(c.hours_per_item, 2), _num(c.money_per_period, 0)
        )
    out.print(waste)
    if figures.waste.biggest:
        out.print(f"[bold]Biggest waste[/bold] {safe(figures.waste.biggest.replace('_', ' '))}")
