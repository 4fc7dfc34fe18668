"""``obeya user``, ``obeya token`` and ``obeya audit``: who may sign in, with which role on
which stream, their API tokens, and the log of every change.

Whoever can run the CLI on the server's machine holds the database itself, so these commands
need no sign-in; what they change is audited as ``cli:<login>``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

import typer

from obeya.auth.credentials import MAX_TOKEN_DAYS_VARIABLE
from obeya.auth.names import user_name
from obeya.cli.common import handle_errors, out, print_json
from obeya.core.access import Role
from obeya.workspace import Workspace

user_app = typer.Typer(help="Users and their roles per value stream.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (Authorization: Bearer TOKEN).", no_args_is_help=True)

UserArg = Annotated[str, typer.Argument(help="The user's name, as they sign in.")]
StreamOpt = Annotated[
    str | None,
    typer.Option("--stream", help="Only this value stream (default: the whole workspace)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _where(stream: str | None) -> str:
    return "the whole workspace" if stream is None else f"value stream {stream!r}"


@user_app.command("add")
def user_add(
    name: UserArg,
    role: Annotated[str, typer.Option("--role", help="viewer, editor or admin.")],
    stream: StreamOpt = None,
    password: Annotated[
        bool,
        typer.Option(
            "--password/--no-password",
            help="Ask for a password for a new user (default); without one, the user signs "
            "in by a link from `obeya user link`.",
        ),
    ] = True,
) -> None:
    """Give NAME a role on a stream (or the whole workspace), creating the user if new."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        name = user_name(name)  # as it will be kept; refused before a password is asked
        wanted = Role.parse(role)
        known = {u.name for u in ws.access.users()}
        secret = None
        if name not in known and password:
            secret = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
        user = ws.access.add_user(name, wanted, stream, secret)
    roles = ", ".join(f"{g.role.label} of {_where(g.stream)}" for g in user.grants)
    verb = "added" if name not in known else "updated"
    out.print(f"{verb} user {name}: {roles}", highlight=False)


@user_app.command("list")
def user_list(as_json: JsonOpt = False) -> None:
    """Every user and their roles."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        users = ws.access.users()
    if as_json:
        print_json([u.to_dict() for u in users])
        return
    if not users:
        out.print("no users yet: `obeya user add NAME --role admin`")
    for u in users:
        roles = ", ".join(f"{g.role.label} of {_where(g.stream)}" for g in u.grants) or "no role"
        sign_in = "password" if u.password_hash else "link only"
        out.print(f"{u.name}  ({sign_in})  {roles}", highlight=False)


@user_app.command("revoke")
def user_revoke(name: UserArg, stream: StreamOpt = None) -> None:
    """Take away NAME's role on a stream (or their workspace-wide role)."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        ws.access.revoke(name, stream)
    out.print(f"{name} has no role on {_where(stream)} any more", highlight=False)


@user_app.command("remove")
def user_remove(name: UserArg) -> None:
    """Delete NAME with their roles and tokens; their sessions end."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        ws.access.remove_user(name)
    out.print(f"removed user {name}", highlight=False)


@user_app.command("password")
def user_password(name: UserArg) -> None:
    """Set NAME's password; their open sessions end and their API tokens and sign-in links
    are revoked."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        name = ws.access.user(name).name  # NotFoundError before asking
        secret = typer.prompt(f"New password for {name}", hide_input=True, confirmation_prompt=True)
        revoked = ws.access.set_password(name, secret)
    tokens = "1 API token" if revoked == 1 else f"{revoked} API tokens"
    out.print(
        f"password of {name} changed; their sessions ended and {tokens} revoked",
        highlight=False,
    )


@user_app.command("link")
def user_link(
    name: Annotated[
        str | None, typer.Argument(help="The user (default: the first workspace admin).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Where the server is (default: where `obeya serve` serves this OBEYA_HOME, "
            "else http://127.0.0.1:8000).",
        ),
    ] = None,
) -> None:
    """Print a one-time sign-in link (it works once, for 15 minutes)."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        secret = ws.access.sign_in_link(name)
    out.print(sign_in_url(base_url or served_url(), secret), highlight=False, soft_wrap=True)


def sign_in_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/sign-in/link?token={secret}"


#: Where ``obeya serve`` notes, under OBEYA_HOME, the address it serves while it runs: a link
#: printed by another shell then points at the server, whatever its port.
SERVED_FILE = "served-at"
DEFAULT_URL = "http://127.0.0.1:8000"


def served_url() -> str:
    """The address ``obeya serve`` serves this OBEYA_HOME at, else :data:`DEFAULT_URL`."""
    from obeya.store.settings import obeya_home

    try:
        noted = (obeya_home() / SERVED_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return DEFAULT_URL
    return noted if noted.startswith(("http://", "https://")) else DEFAULT_URL


@contextlib.contextmanager
def noting_served(base_url: str) -> Iterator[None]:
    """Note ``base_url`` as where this OBEYA_HOME is served, for as long as the block runs."""
    from obeya.store.settings import obeya_home

    path = obeya_home() / SERVED_FILE
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(base_url + "\n", encoding="utf-8")
    except OSError:  # a home we cannot write: the link defaults to DEFAULT_URL
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


@token_app.command("create")
def token_create(
    name: UserArg,
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            help="Days until it expires (default 90); at most the workspace's maximum, "
            f"${MAX_TOKEN_DAYS_VARIABLE} (default 365).",
        ),
    ] = None,
) -> None:
    """Create an API token for NAME and print it, this once (only its hash is kept)."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        secret, info = ws.access.create_token(name, label, days)
    typer.echo(secret)
    expires = "never expires" if info.expires_at is None else f"expires {info.expires_at:%Y-%m-%d}"
    typer.echo(
        f"token {info.id} for {name}, {expires}; it is not shown again. "
        "Send it as 'Authorization: Bearer TOKEN'.",
        err=True,
    )


@token_app.command("list")
def token_list(
    name: Annotated[str | None, typer.Argument(help="Only this user's.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """API tokens: id, user, label, state, dates (never the secret)."""
    now = datetime.now(UTC)
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        tokens = ws.access.tokens(name)
    if as_json:
        print_json([t.to_dict(now) for t in tokens])
        return
    for t in tokens:
        d = t.to_dict(now)
        out.print(
            f"{t.id}  {t.user}  {t.label}  {d['state']}  created {d['created_at']}  "
            f"expires {d['expires_at'] or 'never'}  last used {d['last_used_at'] or 'never'}",
            highlight=False,
        )


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a token: it stops working at once."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        info = ws.access.revoke_token(token_id)
    out.print(f"token {info.id} of {info.user} revoked", highlight=False)


def audit_command(
    stream: StreamOpt = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's changes.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The audit log: every change, who made it and when, with before and after."""
    with handle_errors(), Workspace() as ws:
        ws.initialise()
        entries = ws.access.audit_log(stream=stream, actor=user, limit=limit)
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    for e in entries:
        where = f" [{e.stream}]" if e.stream else ""
        out.print(
            f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor}  {e.action}  {e.target}{where}",
            highlight=False,
        )
