"""User names: kept NFKC-normalised, refused when they hold what cannot be seen, and looked up
the same way, so no second account reads as another's name."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import pytest

from obeya.auth.names import MAX_NAME_LENGTH, lookup_name, user_name
from obeya.core.access import Role
from obeya.errors import InputError, NotFoundError
from obeya.workspace import Workspace

LOOK_ALIKES = [
    "wsadmin\u200b",  # zero-width space (Cf)
    "ws\u200dadmin",  # zero-width joiner (Cf)
    "\u202ewsadmin",  # right-to-left override (Cf)
    "ws\u00adadmin",  # soft hyphen (Cf)
    "wsadmin\ufeff",  # byte order mark (Cf)
    "ws\u0000admin",  # NUL (Cc)
    "ws\tadmin",  # tab (Cc)
    "ws\u2028admin",  # line separator (Zl)
    "ws\u2800admin",  # braille blank (So, renders blank)
    "ws\u1680admin",  # ogham space mark (Zs, NFKC keeps it)
    "wsadmin\u3164",  # Hangul filler (Lo, renders blank)
    "wsadmin\ufe0f",  # variation selector (Mn)
    "ws\ue000admin",  # private use (Co)
]


def test_nfkc_and_stripping_make_one_spelling() -> None:
    assert user_name("  ana ") == "ana"
    assert user_name("ａｎａ") == "ana"  # full-width
    assert user_name("ﬁona") == "fiona"  # ligature
    assert user_name("Ana\u00a0Lopez") == "Ana Lopez"  # no-break space → space
    assert user_name("Ana\u3000Lopez") == "Ana Lopez"  # ideographic space → space
    assert user_name("Ana\u2003Lopez") == "Ana Lopez"  # em space → space
    assert user_name("Jose\u0301") == "José" == unicodedata.normalize("NFC", "José")
    assert user_name("Zoë-O'Neil.2") == "Zoë-O'Neil.2"
    assert lookup_name(" ａｎａ\u200b ") == "ana\u200b"  # a look-up judges nothing


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_invisible_and_control_characters_are_refused(name: str) -> None:
    normal = unicodedata.normalize("NFKC", name)
    with pytest.raises(InputError) as refused:
        user_name(name)
    assert refused.value.http_status == 422
    bad = next(c for c in normal if not (c.isalnum() and c.isascii()))
    assert f"U+{ord(bad):04X}" in str(refused.value)


@pytest.mark.parametrize("name", ["", "   ", "\u00a0\u3000", "x" * (MAX_NAME_LENGTH + 1)])
def test_blank_and_overlong_names_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        user_name(name)


@pytest.fixture
def ws(database_url: str) -> Iterator[Workspace]:
    with Workspace(database_url) as workspace:
        workspace.initialise()
        yield workspace


def test_the_store_refuses_a_look_alike_and_finds_the_normal_form(ws: Workspace) -> None:
    ws.access.add_user("wsadmin", Role.ADMIN, password="correct horse")
    for name in ("wsadmin\u200b", "ws\u202eadmin", "wsadmin\u3164"):
        with pytest.raises(InputError):
            ws.access.add_user(name, Role.VIEWER)
    assert [u.name for u in ws.store.users.all()] == ["wsadmin"]
    # Another spelling of the same name is that user: it gains a role, no new account.
    user = ws.access.add_user("ｗｓａｄｍｉｎ", Role.VIEWER, password=None)
    assert user.name == "wsadmin"
    assert [u.name for u in ws.store.users.all()] == ["wsadmin"]
    assert ws.store.users.get(" ｗｓａｄｍｉｎ").name == "wsadmin"
    assert ws.access.check_password("ｗｓａｄｍｉｎ", "correct horse").name == "wsadmin"
    with pytest.raises(NotFoundError):  # a look-alike finds no one
        ws.store.users.get("wsadmin\u200b")
    ws.access.add_user("Ana\u00a0Lopez", Role.VIEWER)
    assert ws.store.users.get("Ana Lopez").name == "Ana Lopez"
