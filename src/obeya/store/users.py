"""Users and their grants (roles per stream), their tokens, and the wrong-password counts:
the ``users``, ``tokens`` and ``sign_ins`` parts of :class:`~obeya.store.store.Store`.

The store keeps hashes only: argon2 for passwords (made by :mod:`obeya.auth.credentials`),
SHA-256 for token secrets (random 256-bit strings, for which a fast hash is enough: there is
nothing to guess by brute force). Every change is audited in its own transaction.

User names are kept as :func:`~obeya.auth.names.user_name` makes them and looked up as
:func:`~obeya.auth.names.lookup_name` does. Grants name streams to callers but are stored by
stream id, so they go with the stream. The wrong-password counts live here too
(``sign_in_failures``), so every server process sees the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from obeya.auth.names import lookup_name, user_name
from obeya.core.access import Grant, Role
from obeya.errors import NotFoundError, StoreError, named_missing
from obeya.store.audit import write_audit
from obeya.store.models import (
    GrantRow,
    SignInFailureRow,
    StreamRow,
    TokenRow,
    UserRow,
)
from obeya.store.versioning import utc

if TYPE_CHECKING:
    from obeya.store.store import Store

#: How stale ``last_used_at`` may get before a use writes it again: a token used on every
#: request must not turn every read into a write.
LAST_USED_GRAIN = timedelta(minutes=5)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    password_hash: str | None
    session_epoch: int
    grants: tuple[Grant, ...]
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "password": self.password_hash is not None,
            "grants": [g.to_dict() for g in self.grants],
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user: str
    kind: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_dict(self, now: datetime) -> dict[str, object]:
        def when(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat(timespec="seconds")

        return {
            "id": self.id,
            "user": self.user,
            "label": self.label,
            "state": self.state(now),
            "created_at": when(self.created_at),
            "expires_at": when(self.expires_at),
            "last_used_at": when(self.last_used_at),
        }


def _opt_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def _at(stream_id: int | None) -> Any:
    """The grants on ``stream_id`` (the workspace's when None)."""
    return GrantRow.stream_id.is_(None) if stream_id is None else GrantRow.stream_id == stream_id


class Users:
    """Users and their grants (``store.users``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, name: str, password_hash: str | None) -> User:
        """A new user without grants; InputError for a name that is blank or holds invisible
        characters, StoreError if the name is taken."""
        name = user_name(name)
        with (
            self._store._errors(f"adding user {name!r}", writing=True),
            self._store._write() as connection,
        ):
            if _user_id(connection, name) is not None:
                raise StoreError(f"user {name!r} exists already")
            connection.execute(
                insert(UserRow).values(
                    name=name, password_hash=password_hash, created_at=datetime.now(UTC)
                )
            )
            write_audit(connection, "user.add", name, after={"password": password_hash is not None})
            return _user(connection, name)

    def get(self, name: str) -> User:
        """The user ``name``; NotFoundError if there is none."""
        with (
            self._store._errors(f"reading user {name!r}"),
            self._store.engine.connect() as connection,
        ):
            return _user(connection, name)

    def by_id(self, user_id: int) -> User | None:
        with self._store._errors("reading a user"), self._store.engine.connect() as connection:
            return _find_user(connection, UserRow.id == user_id)

    def all(self) -> list[User]:
        """Every user, by name."""
        with self._store._errors("listing users"), self._store.engine.connect() as connection:
            names = connection.execute(select(UserRow.name).order_by(UserRow.name)).scalars()
            return [_user(connection, n) for n in list(names)]

    def set_password(self, name: str, password_hash: str | None) -> int:
        """Replace the password; every session of the user ends and every token and sign-in
        link of theirs is revoked (whoever learnt the old password may have made one). The
        number of API tokens revoked."""
        with (
            self._store._errors(f"setting the password of {name!r}", writing=True),
            self._store._write() as c,
        ):
            user = _user(c, name)
            c.execute(
                update(UserRow)
                .where(UserRow.id == user.id)
                .values(password_hash=password_hash, session_epoch=user.session_epoch + 1)
            )
            live = c.execute(
                select(TokenRow.id, TokenRow.kind).where(
                    TokenRow.user_id == user.id, TokenRow.revoked_at.is_(None)
                )
            ).all()
            if live:
                c.execute(
                    update(TokenRow)
                    .where(TokenRow.id.in_([t.id for t in live]))
                    .values(revoked_at=datetime.now(UTC))
                )
            revoked = sum(1 for t in live if t.kind == "api")
            after = {"password": password_hash is not None, "tokens_revoked": revoked}
            write_audit(c, "user.password", user.name, after=after)
        return revoked

    def end_sessions(self, user_id: int) -> None:
        """End every session of the user (sign-out): their cookies stop working, copies too."""
        with self._store._errors("signing out", writing=True), self._store._write() as c:
            c.execute(
                update(UserRow)
                .where(UserRow.id == user_id)
                .values(session_epoch=UserRow.session_epoch + 1)
            )

    def remove(self, name: str) -> None:
        """Delete the user with their grants and tokens."""
        with (
            self._store._errors(f"removing user {name!r}", writing=True),
            self._store._write() as c,
        ):
            user = _user(c, name)
            for table in (GrantRow, TokenRow):
                c.execute(delete(table).where(table.user_id == user.id))
            c.execute(delete(UserRow).where(UserRow.id == user.id))
            write_audit(c, "user.remove", user.name, before=user.to_dict())

    def grant(self, name: str, role: Role, stream: str | None) -> User:
        """Give ``name`` the role on ``stream`` (the workspace when None), replacing the role
        they had there."""
        where = "the workspace" if stream is None else f"stream {stream!r}"
        with (
            self._store._errors(f"granting {name!r} on {where}", writing=True),
            self._store._write() as c,
        ):
            user = _user(c, name)
            stream_id = None if stream is None else self._store._require_id(c, stream)
            before = next((g for g in user.grants if g.stream == stream), None)
            c.execute(delete(GrantRow).where(GrantRow.user_id == user.id, _at(stream_id)))
            c.execute(
                insert(GrantRow).values(user_id=user.id, stream_id=stream_id, role=role.label)
            )
            write_audit(
                c,
                "user.grant",
                user.name,
                stream=stream,
                before=None if before is None else before.to_dict(),
                after=Grant(stream, role).to_dict(),
            )
            user = _user(c, user.name)
        return user

    def revoke(self, name: str, stream: str | None) -> User:
        """Take away ``name``'s role on ``stream`` (the workspace-wide role when None)."""
        where = "the workspace" if stream is None else f"stream {stream!r}"
        with (
            self._store._errors(f"revoking {name!r} on {where}", writing=True),
            self._store._write() as c,
        ):
            user = _user(c, name)
            before = next((g for g in user.grants if g.stream == stream), None)
            if before is None:
                raise NotFoundError(f"user {user.name!r} has no role on {where}")
            stream_id = None if stream is None else self._store._require_id(c, stream)
            c.execute(delete(GrantRow).where(GrantRow.user_id == user.id, _at(stream_id)))
            write_audit(c, "user.revoke", user.name, stream=stream, before=before.to_dict())
            user = _user(c, user.name)
        return user


class Tokens:
    """API tokens and sign-in links (``store.tokens``), kept as their secrets' SHA-256."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(
        self, name: str, *, kind: str, label: str, digest: str, expires_at: datetime | None
    ) -> TokenInfo:
        """Keep a token (its secret's SHA-256) for user ``name``."""
        with (
            self._store._errors(f"creating a token for {name!r}", writing=True),
            self._store._write() as c,
        ):
            user = _user(c, name)
            token_id = c.execute(
                insert(TokenRow)
                .values(
                    user_id=user.id,
                    kind=kind,
                    label=label,
                    secret_sha256=digest,
                    created_at=datetime.now(UTC),
                    expires_at=expires_at,
                )
                .returning(TokenRow.id)
            ).scalar_one()
            info = _token(c, token_id)
            if kind == "api":  # a sign-in link is not a change worth a line of its own
                write_audit(c, "token.create", user.name, after=info.to_dict(datetime.now(UTC)))
            return info

    def use(self, digest: str, kind: str) -> tuple[TokenInfo, User] | None:
        """The active token with this digest and its user, or None (unknown, revoked or
        expired). A sign-in link (``kind`` 'link') is used up: see :meth:`_use_link`."""
        if kind == "link":
            return self._use_link(digest)
        now = datetime.now(UTC)
        with self._store._errors("checking a token"), self._store._glance() as c:
            # Every request with a token comes here: one query for the token and one for
            # the user (with their grants).
            row = c.execute(
                _TOKEN_COLUMNS.join(UserRow, UserRow.id == TokenRow.user_id).where(
                    TokenRow.secret_sha256 == digest,
                    TokenRow.kind == kind,
                    TokenRow.revoked_at.is_(None),
                )
            ).one_or_none()
            if row is None:
                return None
            info = _token_info(row)
            if info.state(now) != "active":
                return None
            user = _find_user(c, UserRow.id == row.user_id)
            if user is None:  # pragma: no cover - the foreign key keeps tokens with users
                return None
        last = _opt_utc(row.last_used_at)
        if last is None or now - last > LAST_USED_GRAIN:
            with (
                self._store._errors("noting a token's use", writing=True),
                self._store._write() as c,
            ):
                c.execute(update(TokenRow).where(TokenRow.id == row.id).values(last_used_at=now))
        return info, user

    def _use_link(self, digest: str) -> tuple[TokenInfo, User] | None:
        """Use up the sign-in link with this digest: one conditional UPDATE … RETURNING marks
        it used only if it is not yet, so of any number of uses at once, in any number of
        processes, exactly one gets the row back (on PostgreSQL the others wait for its row
        lock, then find the condition false). An expired link is used up too, and refused."""
        now = datetime.now(UTC)
        with self._store._errors("using a sign-in link", writing=True), self._store._write() as c:
            used = c.execute(
                update(TokenRow)
                .where(
                    TokenRow.secret_sha256 == digest,
                    TokenRow.kind == "link",
                    TokenRow.revoked_at.is_(None),
                )
                .values(revoked_at=now)
                .returning(TokenRow.id, TokenRow.expires_at)
            ).one_or_none()
            if used is None:
                return None
            expires = _opt_utc(used.expires_at)
            if expires is not None and expires <= now:
                return None
            info = _token(c, used.id)
            user = _find_user(c, UserRow.name == info.user)
        return None if user is None else (info, user)

    def all(self, name: str | None = None) -> list[TokenInfo]:
        """The API tokens (of user ``name``), oldest first."""
        with self._store._errors("listing tokens"), self._store.engine.connect() as c:
            query = select(TokenRow.id).where(TokenRow.kind == "api").order_by(TokenRow.id)
            if name is not None:
                query = query.where(TokenRow.user_id == _user(c, name).id)
            return [_token(c, i) for i in list(c.execute(query).scalars())]

    def get(self, token_id: int) -> TokenInfo | None:
        """The API token ``token_id`` (never its secret), or None."""
        with self._store._errors(f"reading token {token_id}"), self._store.engine.connect() as c:
            row = c.execute(
                _TOKEN_COLUMNS.join(UserRow, UserRow.id == TokenRow.user_id).where(
                    TokenRow.id == token_id, TokenRow.kind == "api"
                )
            ).one_or_none()
        return None if row is None else _token_info(row)

    def revoke(self, token_id: int) -> TokenInfo:
        """Revoke the API token; it stops working at once."""
        with (
            self._store._errors(f"revoking token {token_id}", writing=True),
            self._store._write() as c,
        ):
            exists = c.execute(
                select(TokenRow.id).where(TokenRow.id == token_id, TokenRow.kind == "api")
            ).scalar_one_or_none()
            if exists is None:
                raise NotFoundError(f"no API token {token_id}; `obeya token list` shows them")
            before = _token(c, token_id)
            now = datetime.now(UTC)
            if before.revoked_at is None:
                c.execute(update(TokenRow).where(TokenRow.id == token_id).values(revoked_at=now))
            after = _token(c, token_id)
            write_audit(
                c, "token.revoke", before.user, before=before.to_dict(now), after=after.to_dict(now)
            )
        return after


class SignIns:
    """The wrong-password counts (``store.sign_ins``), what
    :class:`obeya.auth.ratelimit.FailureStore` needs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, name: str, address: str, at: datetime, since: datetime) -> int:
        """Note a sign-in attempt, committed before it is counted; attempts of any pair older
        than ``since`` are forgotten on the way (the table stays the size of one window)."""
        with (
            self._store._errors("noting a sign-in attempt", writing=True),
            self._store._write() as c,
        ):
            c.execute(delete(SignInFailureRow).where(SignInFailureRow.at <= since))
            return c.execute(
                insert(SignInFailureRow)
                .values(name=name, address=address, at=at)
                .returning(SignInFailureRow.id)
            ).scalar_one()

    def recent(self, name: str, address: str, since: datetime) -> list[tuple[int, datetime]]:
        """The pair's attempts after ``since``, oldest first: (id, time)."""
        with self._store._errors("counting sign-in attempts"), self._store._glance() as c:
            rows = c.execute(
                select(SignInFailureRow.id, SignInFailureRow.at)
                .where(
                    SignInFailureRow.name == name,
                    SignInFailureRow.address == address,
                    SignInFailureRow.at > since,
                )
                .order_by(SignInFailureRow.at, SignInFailureRow.id)
            ).all()
        return [(r.id, utc(r.at)) for r in rows]

    def forget(self, name: str, address: str, attempt: int | None = None) -> None:
        """Forget the pair's attempts (after a right password), or the one ``attempt``."""
        where = [SignInFailureRow.name == name, SignInFailureRow.address == address]
        if attempt is not None:
            where.append(SignInFailureRow.id == attempt)
        with (
            self._store._errors("clearing sign-in attempts", writing=True),
            self._store._write() as c,
        ):
            c.execute(delete(SignInFailureRow).where(*where))


def _user_id(connection: Connection, name: str) -> int | None:
    return connection.execute(
        select(UserRow.id).where(UserRow.name == lookup_name(name))
    ).scalar_one_or_none()


def _user(connection: Connection, name: str) -> User:
    user = _find_user(connection, UserRow.name == lookup_name(name))
    if user is None:
        names = connection.execute(select(UserRow.name).order_by(UserRow.name)).scalars()
        raise named_missing("user", name, list(names), "users")
    return user


def _find_user(connection: Connection, where: Any) -> User | None:
    """The user matching ``where``, with their grants (one query, the user's rows
    joined to their grants), or None."""
    rows = connection.execute(
        select(
            UserRow.id,
            UserRow.name,
            UserRow.password_hash,
            UserRow.session_epoch,
            UserRow.created_at,
            GrantRow.stream_id,
            StreamRow.name.label("stream"),
            GrantRow.role,
        )
        .outerjoin(GrantRow, GrantRow.user_id == UserRow.id)
        .outerjoin(StreamRow, StreamRow.id == GrantRow.stream_id)
        .where(where)
    ).all()
    if not rows:
        return None
    first = rows[0]
    # A grant whose stream is gone (a SQLite connection with foreign keys off deleted it)
    # is no grant, and certainly not one on the whole workspace.
    grants = [
        Grant(r.stream, Role.parse(r.role))
        for r in rows
        if r.role is not None and (r.stream_id is None or r.stream is not None)
    ]
    return User(
        id=first.id,
        name=first.name,
        password_hash=first.password_hash,
        session_epoch=first.session_epoch,
        grants=tuple(sorted(grants, key=lambda g: (g.stream is not None, g.stream or ""))),
        created_at=utc(first.created_at),
    )


def _token(connection: Connection, token_id: int) -> TokenInfo:
    row = connection.execute(
        _TOKEN_COLUMNS.join(UserRow, UserRow.id == TokenRow.user_id).where(TokenRow.id == token_id)
    ).one()
    return _token_info(row)


#: A token's columns and its user's name (join ``users`` to use it).
_TOKEN_COLUMNS = select(
    TokenRow.id,
    TokenRow.user_id,
    TokenRow.kind,
    TokenRow.label,
    TokenRow.created_at,
    TokenRow.expires_at,
    TokenRow.revoked_at,
    TokenRow.last_used_at,
    UserRow.name.label("user"),
)


def _token_info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        user=row.user,
        kind=row.kind,
        label=row.label,
        created_at=utc(row.created_at),
        expires_at=_opt_utc(row.expires_at),
        revoked_at=_opt_utc(row.revoked_at),
        last_used_at=_opt_utc(row.last_used_at),
    )
