"""The ``access`` part of the :class:`~obeya.workspace.Workspace`: users and their roles, API
tokens, one-time sign-in links, sessions, the audit log, and checking who someone is. The CLI
(``obeya user``, ``obeya token``, ``obeya audit``), the API and the web app (sign-in, bearer
tokens) call these, never the store."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from obeya.auth.credentials import (
    API_TOKEN_PREFIX,
    LINK_PREFIX,
    digest,
    hash_password,
    new_secret,
    token_days,
    verify_password,
)
from obeya.auth.names import lookup_name
from obeya.auth.sessions import operator_key
from obeya.core.access import Principal, Role
from obeya.errors import AuthError, ForbiddenError, NotFoundError

if TYPE_CHECKING:
    from obeya.auth.ratelimit import SignInLimiter
    from obeya.store import Store
    from obeya.store.audit import AuditEntry
    from obeya.store.users import TokenInfo, User
    from obeya.workspace import Workspace

#: How long who a token stands for is remembered (see Access.token_principal).
TOKEN_CACHE_SECONDS = 2.0
TOKEN_CACHE_SIZE = 10_000
#: How long a printed sign-in link works (once).
LINK_LIFETIME = timedelta(minutes=15)
#: The user ``obeya serve`` makes for its sign-in link when the workspace has none.
FIRST_ADMIN = "admin"
SESSION_KEY_SETTING = "session_key"


def principal_of(user: User) -> Principal:
    return Principal(user.name, user.grants)


@dataclass(frozen=True)
class UserChange:
    """A user after :meth:`Access.grant_user`; ``tokens_revoked`` is the number of
    their API tokens a password change revoked (None: the password was not changed)."""

    user: User
    tokens_revoked: int | None = None


class Access:
    """Who may do what in a workspace, and who someone is."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._token_cache: dict[str, tuple[Principal, float, int, datetime | None]] = {}

    @property
    def store(self) -> Store:
        return self._workspace.store

    # -- users and their roles -------------------------------------------------------------

    def users(self) -> list[User]:
        return self.store.users.all()

    def user(self, name: str) -> User:
        """NotFoundError (naming the users there are) if there is none by that name."""
        return self.store.users.get(name)

    def user_by_id(self, user_id: int) -> User | None:
        return self.store.users.by_id(user_id)

    def remove_user(self, name: str) -> None:
        self.store.users.remove(name)

    def revoke(self, name: str, stream: str | None) -> User:
        """Take ``name``'s role on ``stream`` (the whole workspace when None) away."""
        return self.store.users.revoke(name, stream)

    def end_sessions(self, user_id: int) -> None:
        """Sign the user out everywhere (their session cookies stop working)."""
        self.store.users.end_sessions(user_id)

    def add_user(
        self,
        name: str,
        role: Role,
        stream: str | None = None,
        password: str | None = None,
        *,
        may_reset_password: bool = True,
    ) -> User:
        """:meth:`grant_user`'s user."""
        change = self.grant_user(
            name, role, stream, password, may_reset_password=may_reset_password
        )
        return change.user

    def grant_user(
        self,
        name: str,
        role: Role,
        stream: str | None = None,
        password: str | None = None,
        *,
        may_reset_password: bool = True,
    ) -> UserChange:
        """Give ``name`` the role on ``stream`` (the whole workspace when None), creating the
        user first if needed (with ``password``, if given); a stream must exist. Replacing an
        existing user's password needs ``may_reset_password`` (a stream's admin must not take
        over a workspace admin's account by naming it), and revokes the user's tokens."""
        revoked = None
        if stream is not None:
            self.store.get_stream(stream)  # NotFoundError naming the streams there are
        try:
            self.store.users.get(name)
        except NotFoundError:
            self.store.users.add(name, hash_password(password) if password else None)
        else:
            if password and not may_reset_password:
                raise ForbiddenError(
                    f"user {name!r} exists; only an admin of the whole workspace may change "
                    "their password"
                )
            if password:
                revoked = self.store.users.set_password(name, hash_password(password))
        return UserChange(self.store.users.grant(name, role, stream), revoked)

    def set_password(self, name: str, password: str) -> int:
        """Replace ``name``'s password (checked for length); their sessions end and their
        tokens and sign-in links are revoked. The number of API tokens revoked."""
        return self.store.users.set_password(name, hash_password(password))

    def create_token(
        self, user: str, label: str = "", days: int | None = None
    ) -> tuple[str, TokenInfo]:
        """A new API token for ``user``: (the secret, shown this once; what is kept). It
        lives ``days`` (see :func:`~obeya.auth.credentials.token_days`: at least 1, at most
        the workspace's maximum; InputError otherwise)."""
        lifetime = token_days(days)
        secret = new_secret(API_TOKEN_PREFIX)
        expires = datetime.now(UTC) + timedelta(days=lifetime)
        info = self.store.tokens.add(
            user, kind="api", label=label or "api", digest=digest(secret), expires_at=expires
        )
        return secret, info

    def token_principal(self, secret: str) -> Principal:
        """Who a bearer token stands for; AuthError if unknown, expired or revoked.

        A script's every request asks this, so the answer is kept for
        :data:`TOKEN_CACHE_SECONDS`: a change made through this workspace (a revocation, a
        role) is seen at once; one made by another process (the CLI, another server worker)
        within those seconds. (Any write through this workspace's store ends the memory.)
        """
        key = digest(secret)
        cache = self._token_cache
        now = time.monotonic()
        hit = cache.get(key)
        if hit is not None:
            principal, until, generation, expires = hit
            fresh = now < until and generation == self.store.writes
            if fresh and (expires is None or datetime.now(UTC) < expires):
                return principal
        generation = self.store.writes
        found = self.store.tokens.use(key, "api")
        if found is None:
            cache.pop(key, None)
            raise AuthError("the token is unknown, expired or revoked")
        principal = principal_of(found[1])
        if len(cache) >= TOKEN_CACHE_SIZE:
            cache.clear()
        cache[key] = (principal, now + TOKEN_CACHE_SECONDS, generation, found[0].expires_at)
        return principal

    def check_password(self, name: str, password: str) -> User:
        """The user, if the password is theirs; AuthError otherwise (the same for an unknown
        name, and as slow)."""
        try:
            user = self.store.users.get(name)
        except NotFoundError:
            verify_password(password, None)
            raise AuthError("wrong user name or password") from None
        if not verify_password(password, user.password_hash):
            raise AuthError("wrong user name or password")
        return user

    def sign_in(self, name: str, password: str, address: str, limiter: SignInLimiter) -> User:
        """The user, if the password is theirs and ``name`` has not had too many wrong ones
        from ``address`` lately (TooManyAttempts, before the password is tried); AuthError
        for a wrong password, which counts against the name from that address."""
        key = lookup_name(name)
        attempt = limiter.begin(self.store.sign_ins, key, address)
        try:
            user = self.check_password(name, password)
        except AuthError:
            raise  # the attempt stays: a wrong password
        except BaseException:
            limiter.abandoned(self.store.sign_ins, key, address, attempt)
            raise
        limiter.succeeded(self.store.sign_ins, key, address)
        return user

    def sign_in_link(self, user: str | None = None) -> str:
        """A one-time sign-in secret for ``user`` (default: the first workspace admin, made
        as ``admin`` without a password when there is no user at all)."""
        name = user or self._first_admin()
        secret = new_secret(LINK_PREFIX)
        self.store.tokens.add(
            name,
            kind="link",
            label="sign-in link",
            digest=digest(secret),
            expires_at=datetime.now(UTC) + LINK_LIFETIME,
        )
        return secret

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        """The API tokens (of ``user``, or everyone's), never their secrets."""
        return self.store.tokens.all(user)

    def token(self, token_id: int) -> TokenInfo | None:
        return self.store.tokens.get(token_id)

    def revoke_token(self, token_id: int) -> TokenInfo:
        return self.store.tokens.revoke(token_id)

    def audit_log(
        self, *, stream: str | None = None, actor: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """The newest changes first (of ``stream``, or by ``actor``), at most ``limit``."""
        return self.store.audit_log(stream=stream, actor=actor, limit=limit)

    def use_sign_in_link(self, secret: str) -> User:
        found = self.store.tokens.use(digest(secret), "link")
        if found is None:
            raise AuthError("the sign-in link is unknown, used or expired; ask for a new one")
        return found[1]

    def session_key(self) -> str:
        """The key that signs session cookies: derived from ``$OBEYA_SECRET_KEY`` if the
        operator set it (nothing secret is then kept in the database), else made once per
        workspace and kept in the database, shared by every server process on it."""
        derived = operator_key()
        if derived is not None:
            return derived
        return self.store.setting(SESSION_KEY_SETTING, lambda: secrets.token_urlsafe(48))

    def _first_admin(self) -> str:
        users = self.store.users.all()
        admins = [
            u.name
            for u in users
            if any(g.stream is None and g.role is Role.ADMIN for g in u.grants)
        ]
        if admins:
            return admins[0]
        if not users:
            self.store.users.add(FIRST_ADMIN, None)
            self.store.users.grant(FIRST_ADMIN, Role.ADMIN, None)
            return FIRST_ADMIN
        raise NotFoundError(
            "no user is an admin of the whole workspace; name one: "
            "`obeya user add NAME --role admin`"
        )
