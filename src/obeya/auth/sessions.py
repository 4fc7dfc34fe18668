"""Session cookies: signed (itsdangerous), holding the user's id, the user's session epoch
(a password change ends every session) and a random nonce from which the CSRF token of the
session's forms is derived. A visitor not signed in gets a session too (no user), so the
sign-in form itself carries a CSRF token.

The signing key is derived from the operator's secret, ``$OBEYA_SECRET_KEY``, when it is set
(so the database holds nothing that signs a cookie); else it is made once per workspace and
kept in the database (:meth:`obeya.workspace_access.Access.session_key`)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from obeya.errors import InputError

COOKIE = "obeya_session"
#: How long a session lasts after sign-in.
MAX_AGE_SECONDS = 12 * 3600
SECRET_KEY_VARIABLE = "OBEYA_SECRET_KEY"
#: Shortest operator secret accepted: a short one could be guessed from a cookie offline.
MIN_SECRET_KEY_LENGTH = 32


def operator_key() -> str | None:
    """The session signing key derived from ``$OBEYA_SECRET_KEY``, or None when it is not set.

    Derived (HMAC-SHA256 under a fixed label) rather than used as it is, so the same secret
    could key something else later without the two keys being equal. InputError if the secret
    is shorter than :data:`MIN_SECRET_KEY_LENGTH`: a server must not start on a weak one.
    """
    secret = os.environ.get(SECRET_KEY_VARIABLE, "").strip()
    if not secret:
        return None
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        raise InputError(
            f"{SECRET_KEY_VARIABLE} has {len(secret)} characters; use at least "
            f"{MIN_SECRET_KEY_LENGTH} random ones (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`)"
        )
    return hmac.new(secret.encode(), b"obeya session signing key v1", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    nonce: str
    user_id: int | None = None
    epoch: int = 0

    @staticmethod
    def anonymous() -> Session:
        return Session(secrets.token_urlsafe(16))

    @staticmethod
    def of_user(user_id: int, epoch: int) -> Session:
        """A new session for a user who just signed in (a new nonce: no fixation)."""
        return Session(secrets.token_urlsafe(16), user_id, epoch)


class SessionCodec:
    """Signs sessions into cookie values and reads them back; derives CSRF tokens."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt="obeya.session")

    def dump(self, session: Session) -> str:
        return self._serializer.dumps([session.nonce, session.user_id, session.epoch])

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie; None if absent, forged or older than the maximum age."""
        if not value:
            return None
        try:
            nonce, user_id, epoch = self._serializer.loads(value, max_age=MAX_AGE_SECONDS)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(nonce, str) or not isinstance(epoch, int):
            return None
        if user_id is not None and not isinstance(user_id, int):
            return None
        return Session(nonce, user_id, epoch)

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._secret, b"csrf:" + session.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), str(token))
