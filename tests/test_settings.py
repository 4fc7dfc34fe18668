"""The operator's settings (obeya.settings): one table, each documented, each refused by name
when set wrong — at the server's start, not at the first request that reads it."""

from __future__ import annotations

import re

import pytest

from obeya.api.app import create_app
from obeya.errors import InputError
from obeya.settings import SETTINGS, check_environment, setting

from support import REPO


def test_every_setting_is_in_the_limits_table_of_the_docs() -> None:
    docs = (REPO / "docs" / "access.md").read_text(encoding="utf-8")
    table = docs[docs.index("## Limits") :]
    for name in SETTINGS:
        assert re.search(rf"\| `{name}` \|", table), f"docs/access.md does not document {name}"


def test_a_setting_is_its_default_or_the_environments() -> None:
    assert setting("OBEYA_MAX_SIM_EVENTS", {}) == 2_000_000
    assert setting("OBEYA_MAX_SIM_EVENTS", {"OBEYA_MAX_SIM_EVENTS": " 5_000 "}) == 5_000
    assert setting("OBEYA_MAX_UPLOAD_BYTES", {"OBEYA_MAX_UPLOAD_BYTES": "1,048,576"}) == 2**20
    assert setting("OBEYA_MAX_TOKEN_DAYS", {"OBEYA_MAX_TOKEN_DAYS": ""}) == 365


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1e6", "9" * 30, "2.5"])
def test_a_setting_set_wrong_is_refused_naming_it(value: str) -> None:
    with pytest.raises(InputError, match=r"OBEYA_MAX_EVENTS_PER_ITEM=.* positive whole number"):
        setting("OBEYA_MAX_EVENTS_PER_ITEM", {"OBEYA_MAX_EVENTS_PER_ITEM": value})


def test_the_server_does_not_start_with_a_setting_set_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_environment({})  # the defaults are fine
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "lots")
    with pytest.raises(InputError, match="OBEYA_MAX_SIM_EVENTS='lots'"):
        create_app(lambda: pytest.fail("no workspace is opened"))
