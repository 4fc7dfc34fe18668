"""`obeya blockers`: an impediment of a stream's blocked time made a risk or an improvement
(docs/user-guide.md, "Blocked time"), the same call the dashboard's buttons make."""

from __future__ import annotations

from typing import Annotated

import typer

from obeya.cli.common import handle_errors, out, safe
from obeya.cli.maps_store import default_author, open_workspace
from obeya.errors import InputError

blockers_app = typer.Typer(
    help="Impediments of the blocked time made risks or improvements, keeping the link.",
    no_args_is_help=True,
)

ItemArg = Annotated[
    str | None,
    typer.Argument(help="The blocked item (with --reason); leave out for a pair of teams."),
]
StreamOpt = Annotated[str, typer.Option("--stream", help="The value stream.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="The blocker's reason.")]
WaitingOpt = Annotated[
    str, typer.Option("--waiting-team", help="A cross-team impediment: the team waiting.")
]
BlockingOpt = Annotated[
    str, typer.Option("--blocking-team", help="A cross-team impediment: the team waited on.")
]
AuthorOpt = Annotated[
    str | None, typer.Option("--author", help="Who makes the change (default: your login).")
]


@blockers_app.command("to-risk")
def to_risk(
    stream: StreamOpt,
    item: ItemArg = None,
    reason: ReasonOpt = "",
    waiting_team: WaitingOpt = "",
    blocking_team: BlockingOpt = "",
    author: AuthorOpt = None,
) -> None:
    """Make a risk of ITEM's blocker (--reason) or of a cross-team pair (--waiting-team,
    --blocking-team): probability 1, impact 3 until rated, open; the ROAM board then shows
    the blocked days it costs per week."""
    _record("risk", item, stream, reason, waiting_team, blocking_team, author)


@blockers_app.command("to-improvement")
def to_improvement(
    stream: StreamOpt,
    item: ItemArg = None,
    reason: ReasonOpt = "",
    waiting_team: WaitingOpt = "",
    blocking_team: BlockingOpt = "",
    author: AuthorOpt = None,
) -> None:
    """Make a roadmap item (a kaizen idea attacking waiting, scores 0 until scored) of ITEM's
    blocker (--reason) or of a cross-team pair (--waiting-team, --blocking-team)."""
    _record("improvement", item, stream, reason, waiting_team, blocking_team, author)


def _record(
    kind: str,
    item: str | None,
    stream: str,
    reason: str,
    waiting_team: str,
    blocking_team: str,
    author: str | None,
) -> None:
    from obeya.core.blockers.impediments import Impediment

    with handle_errors(), open_workspace() as ws:
        try:
            impediment = Impediment(item or "", reason, waiting_team, blocking_team)
        except ValueError as error:
            raise InputError(str(error)) from None
        saved = ws.steering.record_impediment(
            kind, stream, impediment, author=author or default_author()
        )
    out.print(
        f"saved {kind} {safe(repr(saved.key))} from the impediment {safe(impediment.label)} "
        f"in value stream '{safe(stream)}'",
        highlight=False,
    )
