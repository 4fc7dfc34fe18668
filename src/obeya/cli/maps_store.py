"""``obeya map save | list | history | variant | get | export``: maps saved in the app store.

Saved maps are versioned: every ``save`` adds a version with its author (``--author``, by
default the login name) and message, and ``--expect-version N`` refuses the save when someone
else saved since version N. The command functions are registered on the ``map`` sub-app by
:mod:`obeya.cli.maps`.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from obeya.cli.common import PlainTable, err, handle_errors, out, print_json, safe
from obeya.core.maps.calculations import calculate
from obeya.core.maps.files import dump_map_toml, load_map, map_to_dict
from obeya.core.maps.model import ValueStreamMap
from obeya.errors import InputError, ObeyaError
from obeya.render.numbers import DASH
from obeya.store import MapVersion
from obeya.workspace import Workspace

NameArg = Annotated[str, typer.Argument(help="The saved map's name.")]
VariantOpt = Annotated[str, typer.Option("--variant", help="The map's variant.")]
AuthorOpt = Annotated[
    str | None, typer.Option("--author", help="Who makes the change (default: your login).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON document.")]


def default_author() -> str:
    """The login name of whoever runs the command, the author of what they save."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor the password database
        return "unknown"


def open_workspace() -> Workspace:
    ws = Workspace()
    ws.initialise()
    return ws


def _saved(version: MapVersion) -> None:
    out.print(
        f"saved map {safe(repr(version.name))} ({safe(version.variant)}) as version "
        f"{version.version}",
        highlight=False,
    )


def save_command(
    file: Annotated[Path, typer.Argument(help="Map file, TOML or JSON.")],
    name: Annotated[
        str | None, typer.Option(help="Save under this name (default: the map's).")
    ] = None,
    variant: Annotated[
        str | None, typer.Option(help="Save as this variant (default: the map's, 'current').")
    ] = None,
    stream: Annotated[str | None, typer.Option(help="The value stream the map is of.")] = None,
    message: Annotated[str, typer.Option("--message", "-m", help="Why it changed.")] = "",
    expect_version: Annotated[
        int | None,
        typer.Option(
            "--expect-version",
            help="The version your change is based on (0: a new map); refused if it moved on.",
        ),
    ] = None,
    author: AuthorOpt = None,
) -> None:
    """Save a map file as the next version of a saved map."""
    with handle_errors():
        vsm = load_map(file)
        vsm = dataclasses.replace(vsm, name=name or vsm.name, variant=variant or vsm.variant)
        with open_workspace() as ws:
            saved = ws.save_map(
                vsm,
                author=author or default_author(),
                message=message,
                stream=stream,
                expected_version=expect_version,
            )
    _saved(saved)


def list_command(as_json: JsonOpt = False) -> None:
    """Every saved map and variant, with its newest version."""
    with handle_errors(), open_workspace() as ws:
        maps = ws.maps()
    if as_json:
        print_json(
            [
                {
                    "name": m.name,
                    "variant": m.variant,
                    "version": m.version,
                    "stream": m.stream,
                    "author": m.author,
                    "updated_at": m.updated_at.isoformat(),
                }
                for m in maps
            ]
        )
        return
    if not maps:
        out.print("no saved maps yet: `obeya map save FILE`")
        return
    table = PlainTable()
    for column in ("map", "variant", "version", "stream", "last saved by", "at (UTC)"):
        table.add_column(column, justify="right" if column == "version" else "left")
    for m in maps:
        table.add_row(
            m.name,
            m.variant,
            str(m.version),
            m.stream or DASH,
            m.author,
            m.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


def history_command(
    name: NameArg, variant: VariantOpt = "current", as_json: JsonOpt = False
) -> None:
    """Every version of a saved map: who saved it, when, why and what changed."""
    with handle_errors(), open_workspace() as ws:
        history = ws.map_history(name, variant)
    if as_json:
        print_json([h.to_dict() for h in history])
        return
    table = PlainTable(title=f"{name} ({variant})", title_justify="left")
    for column in ("version", "author", "at (UTC)", "message", "changed"):
        table.add_column(column, justify="right" if column == "version" else "left")
    for h in history:
        table.add_row(
            str(h.version),
            h.author,
            h.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            h.message,
            ", ".join(h.changes) or DASH,
        )
    out.print(table)


def variant_command(
    name: NameArg,
    new: Annotated[str, typer.Argument(help="The new variant's name, e.g. future.")],
    source: Annotated[str, typer.Option("--from", help="The variant to copy.")] = "current",
    author: AuthorOpt = None,
) -> None:
    """Start a variant (a future state) as a copy of another's newest version."""
    with handle_errors(), open_workspace() as ws:
        saved = ws.copy_map_variant(name, source, new, author=author or default_author())
    _saved(saved)
    out.print(
        f"edit it: `obeya map get {safe(shlex.quote(name))} --variant {safe(shlex.quote(new))} "
        f"--toml > {safe(shlex.quote(new + '.toml'))}`",
        highlight=False,
    )


def move_command(
    name: NameArg,
    to: Annotated[
        str | None,
        typer.Option("--to", help="The value stream to move it to (leave out: to no stream)."),
    ] = None,
) -> None:
    """Move every variant of a map to another value stream: a save never moves one."""
    with handle_errors(), open_workspace() as ws:
        ws.move_map(name, to)
    where = f"value stream {to!r}" if to else "no value stream"
    out.print(f"moved map {safe(repr(name))} to {safe(where)}", highlight=False)


def get_command(
    name: NameArg,
    variant: VariantOpt = "current",
    version: Annotated[int | None, typer.Option(help="A given version (default: newest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    as_toml: Annotated[
        bool, typer.Option("--toml", help="Print the map itself as TOML, to edit and save.")
    ] = False,
) -> None:
    """A saved map's figures (as `obeya map show FILE` prints them), or the map as TOML."""
    from obeya.cli.maps import print_figures

    with handle_errors(), open_workspace() as ws:
        stored = ws.get_map(name, variant, version)
        figures = calculate(stored.map)
    if as_toml:
        sys.stdout.write(dump_map_toml(stored.map))
    elif as_json:
        print_json(figures.to_dict())
    else:
        v = stored.version
        out.print(
            f"version {v.version}, saved by {safe(v.author)} at "
            f"{v.created_at.strftime('%Y-%m-%d %H:%M')} UTC",
            highlight=False,
        )
        print_figures(figures)


def export_command(
    source: Annotated[str, typer.Argument(help="A map file, or the name of a saved map.")],
    export_format: Annotated[
        str | None,
        typer.Option("--format", help="svg, png or json (default: the output's suffix, else svg)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: stdout).")
    ] = None,
    variant: Annotated[str, typer.Option("--variant", help="The saved map's variant.")] = "current",
    version: Annotated[int | None, typer.Option(help="A saved map's version.")] = None,
) -> None:
    """Export a map as a drawing (SVG or PNG) or as JSON (the document `map save` reads back)."""
    with handle_errors():
        if export_format is None:
            suffix = output.suffix.lower().lstrip(".") if output is not None else ""
            export_format = suffix if suffix in {"svg", "png", "json"} else "svg"
        if export_format not in {"svg", "png", "json"}:
            raise InputError(f"--format {export_format!r}: give svg, png or json")
        if Path(source).is_file():
            vsm = load_map(source)
        else:
            with open_workspace() as ws:
                vsm = ws.get_map(source, variant, version).map
        if export_format == "png":
            from obeya.render.raster import svg_to_png

            png = svg_to_png(draw_svg(vsm))
            if output is None:
                raise InputError("--format png writes binary data: give --output FILE.png")
            output.write_bytes(png)
            out.print(f"wrote {safe(output)}", highlight=False)
            return
        if export_format == "json":
            text = json.dumps(map_to_dict(vsm), indent=2, ensure_ascii=False) + "\n"
        else:
            text = draw_svg(vsm)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {safe(output)}", highlight=False)


def draw_svg(vsm: ValueStreamMap) -> str:
    """The map drawn in VSM notation (the drawing module loads only when asked for)."""
    try:
        from obeya.render.vsm_svg import render_svg
    except ImportError as error:
        raise ObeyaError(f"SVG drawing is not available ({error})") from None
    return render_svg(vsm, calculate(vsm))


def to_scenario_command(
    source: Annotated[str, typer.Argument(help="A map file, or the name of a saved map.")],
    variant: Annotated[str, typer.Option("--variant", help="The saved map's variant.")] = "current",
    distribution: Annotated[
        str, typer.Option(help="Process-time distribution: exponential or constant.")
    ] = "exponential",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: stdout).")
    ] = None,
) -> None:
    """A simulation scenario of the map, for `obeya simulate` (demand becomes arrivals); of a
    map discovered from a stream and not edited since, the stream's twin."""
    from obeya.core.simulation.from_map import scenario_from_map
    from obeya.core.simulation.scenario import scenario_toml
    from obeya.core.twin.files import twin_toml

    with handle_errors():
        twin = None
        if Path(source).is_file():
            vsm = load_map(source)
        else:
            with open_workspace() as ws:
                vsm = ws.get_map(source, variant).map
                twin = ws.map_twin(source, variant)
        if twin is not None:
            err.print(
                "the map was discovered from its stream and not edited since: its model is the "
                "stream's twin (as `obeya calibrate --stream` fits it), for `obeya simulate` "
                "and `obeya what-if`",
                highlight=False,
            )
            text = twin_toml(twin)
        else:
            text = scenario_toml(scenario_from_map(vsm, distribution=distribution))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {safe(output)}", highlight=False)
