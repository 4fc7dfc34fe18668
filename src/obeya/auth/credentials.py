"""Passwords (argon2id through pwdlib) and token secrets (random, kept as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from obeya.errors import InputError

MIN_PASSWORD_LENGTH = 8
#: Prefixes tell a leaked secret's kind at a glance (and let secret scanners find them).
API_TOKEN_PREFIX = "obeya_"
LINK_PREFIX = "obeyalink_"


@cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; as slow for a user without a password (or an unknown
    one, ``None``) as for a real check, so timing does not tell which names exist."""
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False
    return bool(_hasher().verify(password, password_hash))


def new_secret(prefix: str) -> str:
    """A new random secret (256 bits), e.g. ``obeya_…``."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the store keeps of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()
