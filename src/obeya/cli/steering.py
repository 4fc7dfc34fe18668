"""Steering from the command line (docs/steering.md): risks, objectives, the roadmap, teams,
any record by kind, and the stream at a glance. Sub-apps and commands registered by
:mod:`obeya.cli.main`; every command calls the Workspace and prints."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from obeya.cli.common import PlainTable, handle_errors, out, parse_date, print_json, safe
from obeya.cli.maps_store import default_author, open_workspace
from obeya.core.documents import Declared, Document, declared, declared_field, from_text
from obeya.core.steering.kinds import KINDS
from obeya.core.steering.objectives import KeyResult
from obeya.core.steering.risks import Risk
from obeya.errors import InputError
from obeya.render.numbers import count, share
from obeya.store.records import ANY_STREAM, StreamRef

if TYPE_CHECKING:
    from obeya.store.records import RecordVersion

F = TypeVar("F", bound=Callable[..., None])
StreamOpt = Annotated[str, typer.Option("--stream", help="The value stream.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON document.")]
AuthorOpt = Annotated[
    str | None, typer.Option("--author", help="Who makes the change (default: your login).")
]
MessageOpt = Annotated[str, typer.Option("--message", "-m", help="Why (kept in the history).")]
TodayOpt = Annotated[
    str | None, typer.Option("--today", help="Judge due dates as of this day (YYYY-MM-DD).")
]

steering_app = typer.Typer(
    help="Steering records of any kind: load a TOML file, list, show, history, delete.",
    no_args_is_help=True,
)
risk_app = typer.Typer(help="The risk register, ROAMed.", no_args_is_help=True)
objective_app = typer.Typer(help="Objectives and key results.", no_args_is_help=True)
team_app = typer.Typer(help="Teams, people and skill coverage.", no_args_is_help=True)

KindArg = Annotated[str, typer.Argument(help=f"Kind: {', '.join(KINDS)}.")]
#: Keys are unique per stream: the stream is needed when several streams have the key.
OfStreamOpt = Annotated[
    str | None,
    typer.Option(
        "--stream", help="The record's value stream (needed when several streams have the key)."
    ),
]


def _of(stream: str | None) -> StreamRef:
    return stream if stream else ANY_STREAM


def _saved(version: RecordVersion) -> None:
    changed = f" (changed {safe(', '.join(version.changes))})" if version.changes else ""
    out.print(
        f"saved {safe(version.kind)} {safe(repr(version.key))} as version {version.version}"
        f"{changed}",
        highlight=False,
    )


def _today(text: str | None) -> date:
    return parse_date(text, "--today") or date.today()


# -- any kind ---------------------------------------------------------------------------------


@steering_app.command("load")
def load_command(
    file: Annotated[Path, typer.Argument(help="Steering TOML: [[risk]], [[objective]], ...")],
    stream: Annotated[
        str | None, typer.Option("--stream", help="The stream of records that name none.")
    ] = None,
    author: AuthorOpt = None,
) -> None:
    """Save every record of a file in one go: all of them, or none if one breaks a rule."""
    with handle_errors(), open_workspace() as ws:
        saved = ws.steering.load_steering_file(
            file, author=author or default_author(), stream=stream
        )
    for version in saved:
        _saved(version)


@steering_app.command("list")
def list_command(
    kind: KindArg,
    stream: Annotated[str | None, typer.Option("--stream", help="Only this stream's.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The records of a kind, newest versions."""
    with handle_errors(), open_workspace() as ws:
        records = ws.steering.records(kind, stream)
    docs = [{**r.document, "stream": r.stream, "version": r.version.version} for r in records]
    if as_json:
        print_json(docs)
        return
    table = PlainTable("key", "title / name", "stream", "version", "saved by", "at")
    for r in records:
        title = r.document.get("title") or r.document.get("name") or ""
        table.add_row(
            r.key,
            str(title),
            r.stream or "",
            str(r.version.version),
            r.version.author,
            r.version.created_at.isoformat(timespec="seconds"),
        )
    out.print(table)


@steering_app.command("show")
def show_command(
    kind: KindArg,
    key: Annotated[str, typer.Argument(help="The record's key.")],
    version: Annotated[int | None, typer.Option(help="An older version.")] = None,
    stream: OfStreamOpt = None,
) -> None:
    """One record as JSON, with its version and stream."""
    with handle_errors(), open_workspace() as ws:
        record = ws.steering.record(kind, key, version, stream=_of(stream))
    print_json({**record.document, "stream": record.stream, "version": record.version.to_dict()})


@steering_app.command("history")
def history_command(
    kind: KindArg,
    key: Annotated[str, typer.Argument(help="The record's key.")],
    as_json: JsonOpt = False,
    stream: OfStreamOpt = None,
) -> None:
    """Every version of a record: who, when, why, what changed (before → after)."""
    with handle_errors(), open_workspace() as ws:
        history = ws.steering.record_history(kind, key, stream=_of(stream))
    if as_json:
        print_json([{**v.to_dict(), "document": doc} for v, doc in history])
        return
    table = PlainTable("version", "at", "by", "message", "changes")
    before: dict[str, Any] = {}
    for version, doc in history:
        changes = ", ".join(
            f"{field}: {_short(before.get(field))} → {_short(doc.get(field))}"
            for field in dict.fromkeys(f.split(".")[0] for f in version.changes)
        )
        table.add_row(
            str(version.version),
            version.created_at.isoformat(timespec="seconds"),
            version.author,
            version.message,
            changes or ("created" if version.version == 1 else ""),
        )
        before = doc
    out.print(table)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "…"


@steering_app.command("delete")
def delete_command(
    kind: KindArg, key: Annotated[str, typer.Argument()], stream: OfStreamOpt = None
) -> None:
    """Delete a record and its history."""
    with handle_errors(), open_workspace() as ws:
        ws.steering.delete_record(kind, key, stream=_of(stream))
    out.print(f"deleted {safe(kind)} {safe(repr(key))}", highlight=False)


@steering_app.command("move")
def move_command(
    kind: KindArg,
    key: Annotated[str, typer.Argument()],
    to: Annotated[str | None, typer.Option("--to", help="The value stream to move it to.")] = None,
    stream: OfStreamOpt = None,
) -> None:
    """Move a record to another value stream: a save never moves one."""
    with handle_errors(), open_workspace() as ws:
        ws.steering.move_record(kind, key, to, stream=_of(stream))
    where = f"value stream {to!r}" if to else "no value stream"
    out.print(f"moved {safe(kind)} {safe(repr(key))} to {safe(where)}", highlight=False)


# -- risks ------------------------------------------------------------------------------------


def field_options(document: type[Document], *, adding: bool) -> Callable[[F], F]:
    """Give a command an option per declared field of ``document`` but its key (``--title``,
    ``--probability``...), with the declaration's help; a list takes its singular too
    (``--team A --team B``, or ``--teams "A, B"``). Adding, the fields a document needs are
    required options; changing, every one is optional (None: unchanged). The command takes
    them as ``**fields`` and reads them with :func:`typed_fields`."""

    def wrap(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)  # typer reads the annotations
        kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        for f in declared(document):
            if f.name == "key" or f.kind == "tables":
                continue
            flags = ["--" + f.name.replace("_", "-")]
            if f.kind == "texts" and f.name.endswith("s"):
                flags.append("--" + f.name[:-1].replace("_", "-"))
            required = adding and f.required
            option = typer.Option(*flags, help=_option_help(f, adding))
            kind: Any = list[str] | None if f.kind == "texts" else str if required else str | None
            kept.append(
                inspect.Parameter(
                    f.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=... if required else None,
                    annotation=Annotated[kind, option],
                )
            )
        command.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
        return command

    return wrap


def _option_help(f: Declared, adding: bool) -> str:
    spec = f.spec
    words = [spec.help or spec.label]
    if spec.options:
        words.append(f"One of {', '.join(spec.options)}.")
    if not adding and (f.nullable or (f.kind == "text" and not spec.nonempty)):
        words.append("'' to clear.")
    elif adding and not f.required and f.default not in (None, "", ()):
        words.append(f"Default: {f.default}.")
    return " ".join(words)


def typed_fields(document: type[Document], given: Mapping[str, Any]) -> dict[str, Any]:
    """The document values of the options a person gave (None: not given), read as the
    pages read what is typed in a form (:func:`~obeya.core.documents.from_text`)."""
    values = {}
    for f in declared(document):
        typed = given.get(f.name)
        if typed is not None:
            values[f.name] = from_text(f, ", ".join(typed) if isinstance(typed, list) else typed)
    return values


@risk_app.command("add")
@field_options(Risk, adding=True)
def risk_add(
    stream: StreamOpt,
    key: Annotated[
        str | None,
        typer.Argument(help="A short id, e.g. R-7 (default: the stream's next, R-1, R-2…)."),
    ] = None,
    author: AuthorOpt = None,
    **fields: Any,
) -> None:
    """Add a risk to the register (refused if the key is taken in the stream)."""
    with handle_errors(), open_workspace() as ws:
        version = ws.steering.save_record(
            "risk",
            {"key": key, **typed_fields(Risk, fields)},
            author=author or default_author(),
            message="added",
            stream=stream,
            expected_version=0,
        )
    _saved(version)


@risk_app.command("set")
@field_options(Risk, adding=False)
def risk_set(
    key: Annotated[str, typer.Argument(help="The risk's key.")],
    version: Annotated[
        int | None,
        typer.Option(help="The version you looked at: refused if someone saved since."),
    ] = None,
    author: AuthorOpt = None,
    message: MessageOpt = "",
    stream: OfStreamOpt = None,
    **fields: Any,
) -> None:
    """Change a risk (a new version; the old ones stay in its history)."""
    if all(v is None for v in fields.values()):
        raise typer.BadParameter("give at least one field to change")
    with handle_errors(), open_workspace() as ws:
        given = typed_fields(Risk, fields)
        current = ws.steering.record("risk", key, stream=_of(stream))
        saved = ws.steering.save_record(
            "risk",
            {**current.document, **given},
            author=author or default_author(),
            message=message,
            stream=current.stream,
            expected_version=version if version is not None else current.version.version,
        )
    _saved(saved)


@risk_app.command("board")
def risk_board(stream: StreamOpt, today: TodayOpt = None, as_json: JsonOpt = False) -> None:
    """The ROAM board: risks by state, highest exposure first; overdue and unowned marked."""
    with handle_errors(), open_workspace() as ws:
        doc = ws.steering.risk_board(stream, _today(today))
    if as_json:
        print_json(doc)
        return
    table = PlainTable("state", "key", "title", "exposure", "owner", "due", "flags")
    for state, risks in doc["board"].items():
        for r in risks:
            flags = [f for f in ("overdue", "unowned") if r[f]]
            if "impediment_cost" in r:
                per_week = r["impediment_cost"]["blocked_days_per_week"]
                flags.append(f"costs {per_week:.1f} blocked d/week")
            table.add_row(
                state,
                r["key"],
                r["title"],
                f"{r['exposure']:.2f}",
                r["owner"],
                r["due"] or "",
                ", ".join(flags),
            )
    out.print(table)
    if "impediment_cost_rule" in doc:
        out.print(f"blocked d/week: {safe(doc['impediment_cost_rule'])}", highlight=False)
    s = doc["summary"]
    out.print(
        f"{count(s['risks'], 'risk')}; open exposure {s['open_exposure']:.2f}; overdue: "
        f"{safe(', '.join(s['overdue']) or 'none')}; "
        f"unowned: {safe(', '.join(s['unowned']) or 'none')}",
        highlight=False,
    )


# -- objectives -------------------------------------------------------------------------------


@objective_app.command("list")
def objective_list(stream: StreamOpt, today: TodayOpt = None, as_json: JsonOpt = False) -> None:
    """Objectives with each key result's value now, whether it is met, and its progress."""
    with handle_errors(), open_workspace() as ws:
        doc = ws.steering.objectives(stream, _today(today))
    if as_json:
        print_json(doc)
        return
    for objective in doc["objectives"]:
        progress = objective["progress"]
        out.print(
            f"[bold]{safe(objective['key'])}[/bold] {safe(objective['title'])}"
            + ("" if progress is None else f" — {share(progress)}")
        )
        table = PlainTable("key", "title", "value", "target", "by", "met", "progress", "source")
        for kr in objective["key_results"]:
            value = kr["value"]
            table.add_row(
                kr["key"],
                kr["title"],
                "–" if value is None else f"{value:,.2f}",
                f"{kr['comparator']} {kr['target']:g}",
                kr["by"] or "",
                {True: "yes", False: "no", None: "–"}[kr["met"]],
                "–" if kr["progress"] is None else share(kr["progress"]),
                kr["source"],
            )
        out.print(table)
    if doc["as_of"]:
        out.print(f"measured up to {doc['as_of']}, the stream's last event", highlight=False)


#: The value now of a key result kept by hand, as the objective's declaration reads it.
_CURRENT = declared_field(KeyResult, "current")


@objective_app.command("update")
def objective_update(
    key: Annotated[str, typer.Argument(help="The objective's key.")],
    kr: Annotated[str, typer.Option("--kr", help="The key result's key.")],
    current: Annotated[str, typer.Option(help=_option_help(_CURRENT, adding=True))],
    author: AuthorOpt = None,
    message: MessageOpt = "",
    stream: OfStreamOpt = None,
) -> None:
    """Record a by-hand key result's new value (a new version of the objective)."""
    with handle_errors(), open_workspace() as ws:
        record = ws.steering.record("objective", key, stream=_of(stream))
        results = record.document["key_results"]
        match = [r for r in results if r["key"] == kr]
        if not match:
            known = ", ".join(r["key"] for r in results)
            raise InputError(f"objective {key!r} has no key result {kr!r}; it has {known}")
        if match[0]["metric"]:
            raise InputError(
                f"objective {key!r}: key result {kr!r} is measured ({match[0]['metric']}); "
                "only a key result kept by hand takes a value"
            )
        match[0]["current"] = from_text(_CURRENT, current)
        saved = ws.steering.save_record(
            "objective",
            record.document,
            author=author or default_author(),
            message=message or f"{kr} = {current.strip()}",
            stream=record.stream,
            expected_version=record.version.version,
        )
    _saved(saved)


# -- roadmap, teams, overview -----------------------------------------------------------------


def roadmap_command(stream: StreamOpt, as_json: JsonOpt = False) -> None:
    """The improvement roadmap: quick wins first, then by WSJF (cost of delay ÷ job size)."""
    with handle_errors(), open_workspace() as ws:
        items = ws.steering.roadmap(stream)
    if as_json:
        print_json(items)
        return
    table = PlainTable("#", "key", "title", "kind", "status", "CoD", "size", "WSJF", "attacks")
    for i in items:
        attacks = " / ".join(p for p in (i["map"], i["step"], i["target"]) if p)
        table.add_row(
            str(i["rank"]),
            i["key"],
            i["title"] + (" ★ quick win" if i["quick_win"] else ""),
            i["kind"],
            i["status"],
            f"{i['cost_of_delay']:g}",
            f"{i['job_size']:g}",
            f"{i['wsjf']:.2f}",
            attacks,
        )
    out.print(table)


@team_app.command("coverage")
def team_coverage(as_json: JsonOpt = False) -> None:
    """Per value stream: its teams, people, the skills they hold and the skills it lacks."""
    with handle_errors(), open_workspace() as ws:
        doc = ws.steering.coverage()
    if as_json:
        print_json(doc)
        return
    table = PlainTable("stream", "teams", "people", "skills (people)", "lacking")
    for row in doc["streams"]:
        skills = ", ".join(f"{s} ({n})" for s, n in row["skills"].items())
        table.add_row(
            row["stream"],
            ", ".join(row["teams"]),
            str(len(row["people"])),
            skills,
            ", ".join(row["lacking"]),
        )
    out.print(table)
    for person, streams in doc["split_people"].items():
        out.print(f"{safe(person)} is split across {safe(', '.join(streams))}", highlight=False)


def overview_command(
    stream: StreamOpt,
    today: TodayOpt = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the printable report as HTML here.")
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the report as PDF here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The value stream at a glance: flow, objectives, top risks, dependencies at risk,
    improvements in flight, experiments; also as a printable report (--html, --pdf)."""
    with handle_errors(), open_workspace() as ws:
        doc = ws.steering.overview(stream, _today(today))
    if html is not None or pdf is not None:
        from obeya.render.report import report_html, report_pdf

        if html is not None:
            html.write_text(report_html(doc), encoding="utf-8")
            out.print(f"report written to {safe(html)}", highlight=False)
        if pdf is not None:
            pdf.write_bytes(report_pdf(doc))
            out.print(f"report written to {safe(pdf)}", highlight=False)
        return
    if as_json:
        print_json(doc)
        return
    flow = doc["flow"]
    ct = flow["cycle_time_days"]
    out.print(
        f"[bold]{safe(stream)}[/bold] up to {flow['as_of']}: "
        f"{flow['items']['finished']:,} finished, "
        f"{flow['items']['in_progress']:,} in progress; cycle time p50 {ct['p50'] or 0:.1f} d, "
        f"p85 {ct['p85'] or 0:.1f} d"
    )
    for o in doc["objectives"]:
        progress = "–" if o["progress"] is None else share(o["progress"])
        out.print(f"objective {safe(o['key'])} {safe(o['title'])}: {progress}", highlight=False)
    for r in doc["risks"]["top"]:
        out.print(
            f"risk {safe(r['key'])} {safe(r['title'])} ({safe(r['state'])}, "
            f"exposure {r['exposure']:.2f})",
            highlight=False,
        )
    for i in doc["improvements"]:
        out.print(
            f"improvement {safe(i['key'])} {safe(i['title'])} ({safe(i['status'])})",
            highlight=False,
        )
    for plan in doc["dependencies"]:
        late = safe(", ".join(m["id"] for m in plan["need_by_misses"]) or "none")
        risky = safe(", ".join(r["id"] for r in plan["at_risk"]))
        out.print(
            f"plan {safe(plan['key'])}: {plan['duration_days']:g} days; need-by missed: {late}"
            + (f"; at risk: {risky}" if risky else ""),
            highlight=False,
        )
    for e in doc["experiments"]:
        out.print(
            f"experiment {safe(e['key'])}: {safe(e['verdict'] or e.get('note'))}",
            highlight=False,
        )
