"""Roles and grants (core/access.py), on hand-computed cases: the highest grant reaching a
stream wins; reading what belongs to no stream needs any grant, changing it a workspace one."""

from __future__ import annotations

import pytest

from obeya.core.access import Grant, Principal, Role
from obeya.errors import InputError

V, E, A = Role.VIEWER, Role.EDITOR, Role.ADMIN

#: A workspace viewer who edits stream A.
ANA = Principal("ana", (Grant(None, V), Grant("A", E)))
#: An admin of stream A only.
BO = Principal("bo", (Grant("A", A),))
#: A workspace admin.
ROOT = Principal("root", (Grant(None, A),))
#: Signed in, but no role anywhere.
NOBODY = Principal("nobody", ())
#: An editor of the workspace who is also a viewer of B (the higher role wins on B).
CY = Principal("cy", (Grant(None, E), Grant("B", V)))


@pytest.mark.parametrize(
    ("principal", "stream", "role"),
    [
        (ANA, "A", E),  # max(viewer of the workspace, editor of A)
        (ANA, "B", V),  # the workspace grant reaches B
        (ANA, None, V),
        (BO, "A", A),
        (BO, "B", None),
        (BO, None, None),  # a stream grant does not reach the workspace
        (ROOT, "anything", A),
        (ROOT, None, A),
        (NOBODY, "A", None),
        (NOBODY, None, None),
        (CY, "B", E),  # a lower stream grant does not lower the workspace one
    ],
)
def test_role_on_is_the_highest_grant_reaching_the_stream(
    principal: Principal, stream: str | None, role: Role | None
) -> None:
    assert principal.role_on(stream) == role


@pytest.mark.parametrize(
    ("principal", "need", "stream", "allowed"),
    [
        (ANA, E, "A", True),
        (ANA, A, "A", False),
        (ANA, V, "B", True),
        (ANA, E, "B", False),
        (ANA, V, None, True),
        (ANA, E, None, False),  # changing teams and people needs a workspace editor
        (BO, A, "A", True),
        (BO, V, "B", False),
        (BO, V, None, True),  # reading what belongs to no stream: any grant
        (BO, E, None, False),
        (ROOT, A, "B", True),
        (ROOT, A, None, True),
        (NOBODY, V, None, False),
        (NOBODY, V, "A", False),
        (CY, E, "B", True),
        (CY, E, None, True),
        (CY, A, None, False),
    ],
)
def test_allows(principal: Principal, need: Role, stream: str | None, allowed: bool) -> None:
    assert principal.allows(need, stream) is allowed
    if need is V:
        assert principal.sees(stream) is allowed


def test_visible_keeps_the_order_and_only_what_the_user_may_read() -> None:
    streams = ["C", "A", "B", "A"]
    assert BO.visible(streams) == ["A", "A"]
    assert ANA.visible(streams) == streams
    assert NOBODY.visible(streams) == []
    assert Principal("dee", (Grant("B", V), Grant("C", E))).visible(streams) == ["C", "B"]


def test_roles_are_ordered_and_parsed() -> None:
    assert V < E < A
    assert [r.label for r in Role] == ["viewer", "editor", "admin"]
    assert Role.parse(" Editor ") is E
    with pytest.raises(InputError, match="viewer, editor, admin"):
        Role.parse("owner")
    assert Grant("A", E).to_dict() == {"stream": "A", "role": "editor"}
    assert Grant(None, A).to_dict() == {"stream": None, "role": "admin"}
