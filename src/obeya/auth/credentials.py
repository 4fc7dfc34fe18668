"""Passwords (argon2id through pwdlib) and token secrets (random, kept as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from obeya.errors import InputError
from obeya.settings import SETTINGS, setting

MIN_PASSWORD_LENGTH = 8
#: Prefixes tell a leaked secret's kind at a glance (and let secret scanners find them).
API_TOKEN_PREFIX = "obeya_"
LINK_PREFIX = "obeyalink_"
#: The longest an API token may live, in days, unless the operator sets
#: :data:`MAX_TOKEN_DAYS_VARIABLE`: a leaked token must run out one day.
MAX_TOKEN_DAYS_VARIABLE = "OBEYA_MAX_TOKEN_DAYS"
DEFAULT_MAX_TOKEN_DAYS = SETTINGS[MAX_TOKEN_DAYS_VARIABLE].default
#: A new token's lifetime when none is asked for (shorter if the maximum is).
DEFAULT_TOKEN_DAYS = 90


#: Lanes of argon2id; its memory must be at least 8 KiB per lane.
ARGON2_LANES = 4


def password_hasher(environ: Mapping[str, str] | None = None) -> PasswordHash:
    """argon2id with the workspace's costs: ``$OBEYA_ARGON2_TIME_COST`` passes over
    ``$OBEYA_ARGON2_MEMORY_KIB`` of memory (defaults 3 and 64 MiB, about 0.2 s a password on
    two cores), for an operator to fit to the machine. A hash keeps its costs, so changing
    them leaves every password valid; the test suite sets them low."""
    memory = setting("OBEYA_ARGON2_MEMORY_KIB", environ)
    if memory < 8 * ARGON2_LANES:
        raise InputError(
            f"OBEYA_ARGON2_MEMORY_KIB={memory} is too little for argon2id; give at least "
            f"{8 * ARGON2_LANES} (KiB)"
        )
    time_cost = setting("OBEYA_ARGON2_TIME_COST", environ)
    return PasswordHash(
        (Argon2Hasher(time_cost=time_cost, memory_cost=memory, parallelism=ARGON2_LANES),)
    )


@cache
def _hasher() -> PasswordHash:
    return password_hasher()


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


def max_token_days() -> int:
    """``$OBEYA_MAX_TOKEN_DAYS``, else :data:`DEFAULT_MAX_TOKEN_DAYS`; read at each call, so
    every process of a server applies the setting it was started with."""
    return setting(MAX_TOKEN_DAYS_VARIABLE)


def token_days(days: int | None) -> int:
    """The lifetime of a new token: ``days`` (default :data:`DEFAULT_TOKEN_DAYS`, or the
    maximum if that is shorter); InputError if it is below 1 or above :func:`max_token_days`."""
    most = max_token_days()
    if days is None:
        return min(DEFAULT_TOKEN_DAYS, most)
    if not 1 <= days <= most:
        raise InputError(
            f"days must be between 1 and {most} (the workspace's longest token lifetime, "
            f"{MAX_TOKEN_DAYS_VARIABLE}); a token that never expires is not offered"
        )
    return days
