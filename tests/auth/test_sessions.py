"""Session cookies: signed, read back only when untouched and young enough; CSRF tokens bound
to the session."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from obeya.auth.sessions import MAX_AGE_SECONDS, Session, SessionCodec

KEY = "k" * 48


def test_a_cookie_reads_back_as_the_session() -> None:
    codec = SessionCodec(KEY)
    session = Session.of_user(7, 3)
    assert codec.load(codec.dump(session)) == session
    anonymous = Session.anonymous()
    assert codec.load(codec.dump(anonymous)) == anonymous
    assert anonymous.user_id is None


def test_each_sign_in_gets_a_new_nonce() -> None:
    assert Session.of_user(7, 3).nonce != Session.of_user(7, 3).nonce


def test_a_tampered_cookie_is_no_session() -> None:
    codec = SessionCodec(KEY)
    value = codec.dump(Session.of_user(7, 0))
    payload, _, signature = value.rpartition(".")
    # The first character: base64's last one may carry only padding bits, which decoding
    # ignores (flipping it then changed nothing, now and then: a flaky test).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert codec.load(f"{payload}.{flipped}") is None
    # The payload of another user under the original signature.
    other = codec.dump(Session.of_user(8, 0))
    assert codec.load(other.rsplit(".", 2)[0] + "." + value.split(".", 1)[1]) is None
    assert codec.load(value + "x") is None
    assert SessionCodec("another key " * 4).load(value) is None  # signed with another key
    assert codec.load("not a cookie") is None
    assert codec.load("") is None
    assert codec.load(None) is None


@pytest.mark.parametrize("payload", [["n", "7", 0], [1, 7, 0], ["n", 7, "0"], ["n", 7], "n", None])
def test_a_well_signed_cookie_of_the_wrong_shape_is_no_session(payload: object) -> None:
    forged = URLSafeTimedSerializer(KEY, salt="obeya.session").dumps(payload)
    assert SessionCodec(KEY).load(forged) is None


def test_an_expired_cookie_is_no_session(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = SessionCodec(KEY)
    now = time.time()
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: now - MAX_AGE_SECONDS - 5)
        old = codec.dump(Session.of_user(7, 0))
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: now - MAX_AGE_SECONDS + 60)
        young = codec.dump(Session.of_user(7, 0))
    assert codec.load(old) is None
    assert codec.load(young) is not None


def test_the_csrf_token_belongs_to_the_session() -> None:
    codec = SessionCodec(KEY)
    session, other = Session.anonymous(), Session.anonymous()
    token = codec.csrf_token(session)
    assert token == codec.csrf_token(session)  # stable for the session
    assert codec.csrf_ok(session, token)
    assert not codec.csrf_ok(other, token)
    assert not codec.csrf_ok(session, None)
    assert not codec.csrf_ok(session, "")
    assert not codec.csrf_ok(session, token[:-1] + ("0" if token[-1] != "0" else "1"))
    assert not SessionCodec("another key " * 4).csrf_ok(session, token)
