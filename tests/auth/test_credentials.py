"""Passwords (argon2id) and token secrets (random, kept as SHA-256)."""

from __future__ import annotations

import pytest

from obeya.auth.credentials import (
    API_TOKEN_PREFIX,
    LINK_PREFIX,
    check_password,
    digest,
    hash_password,
    new_secret,
    password_hasher,
    verify_password,
)
from obeya.errors import InputError


def test_a_password_is_hashed_with_argon2id_and_verified() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert hash_password("correct horse") != hashed  # salted
    assert verify_password("correct horse", hashed) is True
    assert verify_password("wrong horse!", hashed) is False


def test_the_hash_costs_are_the_defaults_or_the_environments() -> None:
    # The encoded hash names its costs (the PHC string format): m= KiB, t= passes, p= lanes.
    default = password_hasher({}).hash("correct horse")
    assert default.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    cheap = {"OBEYA_ARGON2_TIME_COST": "1", "OBEYA_ARGON2_MEMORY_KIB": "64"}
    light = password_hasher(cheap).hash("correct horse")
    assert light.startswith("$argon2id$v=19$m=64,t=1,p=4$")
    # A hash keeps its costs: either verifies under the other's settings.
    assert password_hasher(cheap).verify("correct horse", default)
    assert password_hasher({}).verify("correct horse", light)
    with pytest.raises(InputError, match="OBEYA_ARGON2_MEMORY_KIB=16 is too little"):
        password_hasher({"OBEYA_ARGON2_MEMORY_KIB": "16"})


def test_no_password_never_verifies() -> None:
    assert verify_password("anything at all", None) is False


def test_a_short_password_is_refused() -> None:
    with pytest.raises(InputError, match="at least 8 characters"):
        hash_password("seven77")
    check_password("eight888")  # long enough: no error


def test_a_secret_is_kept_as_its_sha256() -> None:
    # sha256("abc"), from FIPS 180-2's example.
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert len(digest("obeya_x")) == 64


def test_secrets_are_random_and_tell_their_kind() -> None:
    first, second = new_secret(API_TOKEN_PREFIX), new_secret(API_TOKEN_PREFIX)
    assert first != second
    assert first.startswith("obeya_") and new_secret(LINK_PREFIX).startswith("obeyalink_")
    assert len(first) == len("obeya_") + 43  # 32 random bytes, URL-safe base64
