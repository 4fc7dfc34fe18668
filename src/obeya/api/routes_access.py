"""The REST API of access: who am I, users and their roles, API tokens, the audit log, and
creating and deleting value streams.

An admin of a stream manages the roles on that stream; an admin of the workspace manages every
role and every user's tokens. Anyone signed in manages their own tokens. The audit log of a
stream is for its admins, the whole log for the workspace's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from obeya.api.auth import Caller, CallerDep, require
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import BODY_ERRORS, ERRORS, ErrorResponse, StreamDetail, stream_query
from obeya.auth.credentials import MAX_TOKEN_DAYS_VARIABLE, token_days
from obeya.auth.names import MAX_NAME_LENGTH, lookup_name, user_name
from obeya.core.access import Role
from obeya.core.workflow import Workflow
from obeya.errors import InputError, NotFoundError

router = APIRouter(prefix="/api", tags=["access"], route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]
RoleName = Field(description="viewer, editor or admin.", pattern="^(viewer|editor|admin)$")
#: A stream (or user) of that name exists already: a create that cannot be made.
TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The name is taken."}
}


class GrantOut(BaseModel):
    stream: str | None = Field(description="The stream; null for the whole workspace.")
    role: str


class Me(BaseModel):
    user: str
    via: str = Field(description="How the request signed in: token or session.")
    grants: list[GrantOut]


class UserOut(BaseModel):
    name: str
    password: bool = Field(description="Whether the user has a password (else: links only).")
    grants: list[GrantOut]
    created_at: str
    tokens_revoked: int | None = Field(
        default=None,
        description="When this call changed the password: how many of the user's API tokens "
        "it revoked (their sign-in links and sessions end too).",
    )


class UserIn(BaseModel):
    """A user to create, or a role to give an existing one."""

    name: str = Field(
        min_length=1,
        max_length=4 * MAX_NAME_LENGTH,
        description=f"Kept NFKC-normalised; at most {MAX_NAME_LENGTH} characters, no invisible, "
        "control or format characters.",
    )
    role: str = RoleName
    stream: str | None = Field(default=None, description="Omit for the whole workspace.")
    password: str | None = Field(default=None, description="At least 8 characters.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return user_name(value)
        except InputError as error:
            raise ValueError(str(error)) from None


class TokenIn(BaseModel):
    label: str = Field(default="", max_length=200, description="What the token is for.")
    days: int | None = Field(
        default=None,
        description="Lifetime in days: 90 if omitted, at least 1, at most the workspace's "
        f"maximum ({MAX_TOKEN_DAYS_VARIABLE}, default 365).",
    )
    user: str | None = Field(default=None, description="Another user's (workspace admins).")

    @field_validator("days")
    @classmethod
    def _days(cls, value: int | None) -> int:
        try:
            return token_days(value)
        except InputError as error:
            raise ValueError(str(error)) from None


class TokenOut(BaseModel):
    id: int
    user: str
    label: str
    state: str = Field(description="active, expired or revoked.")
    created_at: str
    expires_at: str | None
    last_used_at: str | None


class NewToken(TokenOut):
    token: str = Field(description="The bearer token. Shown this once: it is not kept.")


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    target: str
    stream: str | None
    before: Any
    after: Any


class StreamIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    workflow: str | None = Field(default=None, description="The workflow as TOML.")


@router.get("/me", response_model=Me, responses=ERRORS)
def me(caller: CallerDep) -> Me:
    """The signed-in user and their roles."""
    grants = [GrantOut(stream=g.stream, role=g.role.label) for g in caller.principal.grants]
    return Me(user=caller.principal.user, via=caller.via, grants=grants)


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(ctx: Ctx, caller: CallerDep) -> list[UserOut]:
    """Every user and their roles (workspace admins)."""
    require(caller, Role.ADMIN, None)
    return [UserOut.model_validate(u.to_dict()) for u in ctx.workspace.access.users()]


@router.post("/users", response_model=UserOut, status_code=201, responses={**BODY_ERRORS, **TAKEN})
def add_user(ctx: Ctx, caller: CallerDep, body: UserIn) -> UserOut:
    """Give a user a role on a stream (admins of it) or on the workspace (its admins),
    creating the user if new; ``obeya user add`` does the same."""
    require(caller, Role.ADMIN, body.stream)
    change = ctx.workspace.access.grant_user(
        body.name,  # as the store keeps it (the validator normalised it)
        Role.parse(body.role),
        body.stream,
        body.password,
        may_reset_password=caller.principal.allows(Role.ADMIN, None),
    )
    return UserOut.model_validate(
        {**change.user.to_dict(), "tokens_revoked": change.tokens_revoked}
    )


@router.delete("/users/{user}/roles", status_code=204, responses=ERRORS)
def revoke_role(
    ctx: Ctx,
    caller: CallerDep,
    user: Annotated[str, Path(description="The user's name.")],
    stream: Annotated[str | None, stream_query("Omit for the workspace-wide role.")] = None,
) -> Response:
    """Take away a user's role on a stream (its admins) or on the workspace."""
    require(caller, Role.ADMIN, stream)
    ctx.workspace.access.revoke(user, stream)
    return Response(status_code=204)


def _own_or_admin(caller: Caller, user: str) -> None:
    if lookup_name(user) != caller.principal.user:
        require(caller, Role.ADMIN, None)


@router.get("/tokens", response_model=list[TokenOut], responses=ERRORS)
def list_tokens(
    ctx: Ctx,
    caller: CallerDep,
    user: Annotated[str | None, Query(description="Another user's (workspace admins).")] = None,
) -> list[TokenOut]:
    """API tokens: your own, or (workspace admins) another user's. Secrets are never shown."""
    name = user or caller.principal.user
    _own_or_admin(caller, name)
    now = datetime.now(UTC)
    return [TokenOut.model_validate(t.to_dict(now)) for t in ctx.workspace.access.tokens(name)]


@router.post("/tokens", response_model=NewToken, status_code=201, responses=BODY_ERRORS)
def create_token(ctx: Ctx, caller: CallerDep, body: TokenIn) -> NewToken:
    """A new API token; the answer holds the secret, which is shown this once."""
    name = body.user or caller.principal.user
    _own_or_admin(caller, name)
    secret, info = ctx.workspace.access.create_token(name, body.label, body.days)
    return NewToken.model_validate({**info.to_dict(datetime.now(UTC)), "token": secret})


@router.delete("/tokens/{token_id}", status_code=204, responses=ERRORS)
def revoke_token(
    ctx: Ctx,
    caller: CallerDep,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    """Revoke a token (yours, or any as a workspace admin); it stops working at once. A
    token that is not there and one that is not yours get the same 404: the answer does not
    tell which ids exist."""
    token = ctx.workspace.access.token(token_id)
    mine = token is not None and token.user == caller.principal.user
    if token is None or not (mine or caller.principal.allows(Role.ADMIN, None)):
        raise NotFoundError(f"you have no API token {token_id}; GET /api/tokens lists yours")
    ctx.workspace.access.revoke_token(token_id)
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditOut], responses=ERRORS)
def audit(
    ctx: Ctx,
    caller: CallerDep,
    stream: Annotated[str | None, stream_query("One stream's changes (its admins).")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[AuditOut]:
    """Every change, newest first: who, when, what, and the documents before and after."""
    require(caller, Role.ADMIN, stream)
    return [
        AuditOut(**e.to_dict()) for e in ctx.workspace.access.audit_log(stream=stream, limit=limit)
    ]


@router.post(
    "/streams", response_model=StreamDetail, status_code=201, responses={**BODY_ERRORS, **TAKEN}
)
def create_stream(ctx: Ctx, body: StreamIn) -> StreamDetail:
    """Create an empty value stream (editors of the workspace); 409 if the name is taken."""
    workflow = Workflow.from_toml_text(body.workflow, "the workflow") if body.workflow else None
    return StreamDetail.of(ctx.workspace.create_stream(body.name, workflow))


class StreamRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The stream's new name.")


@router.patch("/streams/{name}", response_model=StreamDetail, responses={**BODY_ERRORS, **TAKEN})
def rename_stream(
    ctx: Ctx, name: Annotated[str, Path(description="The value stream's name.")], body: StreamRename
) -> StreamDetail:
    """Rename a stream (its admins); 409 if the new name is taken. Roles, maps, records,
    delivery records, connectors and the audit log follow it."""
    return StreamDetail.of(ctx.workspace.rename_stream(name, body.name))


@router.delete("/streams/{name}", status_code=204, responses=ERRORS)
def delete_stream(
    ctx: Ctx, name: Annotated[str, Path(description="The value stream's name.")]
) -> Response:
    """Delete a stream with its events (its admins). Maps and records stay, unlinked."""
    ctx.workspace.delete_stream(name)
    return Response(status_code=204)
