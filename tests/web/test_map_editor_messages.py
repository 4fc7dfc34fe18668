"""The map editor's words: a refused edit names the step by its row number and name and the
field by its column label (from the fields the model's error carries), and the
share of items is edited in percent while the map keeps the fraction."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from fastapi.testclient import TestClient

from obeya.core.maps.model import MapError, Step, ValueStreamMap
from obeya.web.map_pages import readable
from obeya.workspace import Workspace
from web.test_map_pages import PAGE, edit_form


@pytest.fixture
def saved(client: TestClient) -> TestClient:
    """The tiny stream's discovered map (In Progress, Blocked) saved as Tiny/current."""
    assert client.post("/streams/Tiny/map", follow_redirects=False).status_code == 303
    return client


@pytest.fixture
def three(saved: TestClient) -> dict[str, str]:
    """The edit form with a third step, Review, added (PT 1 h, LT 1 h, every item)."""
    added = saved.post(PAGE, data={**edit_form(saved.get(PAGE).text), "action": "add"})
    fields = edit_form(added.text)
    assert fields["s-2-visits"] == "100 %"
    return {**fields, "s-2-name": "Review"}


def alert(page: str, start: str) -> str:
    """The text of the page's error alert that starts with ``start``, spaces squeezed."""
    found = re.findall(r'<div class="alert alert-error" role="alert"[^>]*>(.*?)</div>', page, re.S)
    texts = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split()) for text in found]
    mine = [text.removeprefix(start).strip() for text in texts if text.startswith(start)]
    assert len(mine) == 1, texts
    return mine[0]


def refused(client: TestClient, fields: dict[str, str]) -> str:
    """Save ``fields``: refused, said on the page and in the live preview alike; the message."""
    response = client.post(PAGE, data={**fields, "action": "save"})
    assert response.status_code == 422
    message = alert(response.text, "Not saved.")
    assert "steps[" not in message and "map 'Tiny'" not in message
    assert alert(response.text, "Not drawn:") == message  # above the drawing too
    partial = client.post(f"{PAGE}/preview", data=fields, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert alert(partial.text, "Not drawn:") == message
    return message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("s-2-visits", "abc", "Step 3 (Review): Share of items is 'abc'; give a number"),
        (
            "s-2-visits",
            "150",
            "Step 3 (Review): Share of items is '150'; give a percentage above 0 and at most 100",
        ),
        ("s-2-pt", "", "Step 3 (Review): PT h is empty; give a number"),
        ("s-2-link", "pull", "Step 3 (Review): Link is 'pull'; give one of push, fifo,"),
        # The model's messages, translated.
        (
            "s-2-pt",
            "5",
            "Step 3 (Review): LT h (1.0) is shorter than PT h (5.0); lead time includes the work",
        ),
        ("s-2-ca", "0", "Step 3 (Review): %C&A is 0.0; give a share in (0, 1]"),
        ("s-2-ca", "150 %", "Step 3 (Review): %C&A is '150 %'; give a share from 0 % to 100 %"),
        ("s-2-people", "0", "Step 3 (Review): People is 0.0; a step needs someone"),
        ("s-2-capacity", "-2", "Step 3 (Review): Capacity/day is -2.0; it must be > 0"),
        ("s-2-inventory", "-1", "Step 3 (Review): Inventory before is -1.0; it cannot be"),
        ("s-2-name", "Blocked", "Step 3 (Blocked): Name 'Blocked' is used by two steps"),
        ("s-2-name", " ", "Step 3: Name is empty"),
        # Map-level fields, by their labels.
        ("demand", "lots", "Demand per day is 'lots'; give a number"),
        ("demand", "0", "Demand per day is 0.0; it must be > 0"),
        ("hours", "30", "Available hours per day is 30.0; give hours in (0, 24]"),
        ("cost", "-5", "Hourly cost is -5.0; it cannot be negative"),
    ],
)
def test_a_refused_edit_names_the_step_and_the_field_as_the_table_does(
    saved: TestClient,
    workspace: Workspace,
    three: dict[str, str],
    field: str,
    value: str,
    message: str,
) -> None:
    assert message in refused(saved, {**three, field: value})
    assert len(workspace.map_history("Tiny")) == 1


def test_removing_every_step_says_so(saved: TestClient) -> None:
    fields = {**edit_form(saved.get(PAGE).text), "s-0-remove": "on", "s-1-remove": "on"}
    assert refused(saved, fields) == "The map has no steps left; keep at least one"


def test_rows_are_numbered_as_shown_after_a_removal(saved: TestClient) -> None:
    """With step 1 removed, Blocked is the first row of the table and of the message."""
    fields = {**edit_form(saved.get(PAGE).text), "s-0-remove": "on", "s-1-ca": "200 %"}
    assert refused(saved, fields).startswith("Step 1 (Blocked): %C&A is '200 %'")


@pytest.mark.parametrize(
    ("text", "share"),
    [("5", 0.05), ("5 %", 0.05), ("5%", 0.05), (" 20 ", 0.2), ("0.5 %", 0.005), ("100", 1.0)],
)
def test_the_share_of_items_is_edited_in_percent_and_stored_as_a_fraction(
    saved: TestClient, workspace: Workspace, text: str, share: float
) -> None:
    fields = {**edit_form(saved.get(PAGE).text), "s-1-visits": text, "action": "save"}
    assert saved.post(PAGE, data=fields, follow_redirects=False).status_code == 303
    assert workspace.get_map("Tiny").map.steps[1].visit_share == share


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("0.05", "write 5 for 5 % of the items, or 0.05 % if you mean 0.05 %"),
        ("1", "write 100 for 100 % of the items, or 1 % if you mean 1 %"),
        ("0", "give a percentage above 0 and at most 100"),
        ("0 %", "give a percentage above 0 and at most 100"),
    ],
)
def test_a_bare_share_of_one_or_less_is_refused_as_ambiguous(
    saved: TestClient, text: str, hint: str
) -> None:
    """0.05 could be the fraction (5 %) or 0.05 %: with no % sign it is refused, not guessed."""
    fields = {**edit_form(saved.get(PAGE).text), "s-1-visits": text}
    message = refused(saved, fields)
    assert message.startswith(f"Step 2 (Blocked): Share of items is '{text}'")
    assert hint in message


def test_the_hint_says_how_the_share_of_items_is_read(saved: TestClient) -> None:
    page = saved.get(PAGE).text
    hint = re.search(r'<span id="visits-help">(.*?)</span>', page, re.S)
    assert hint is not None and "in percent" in hint[1] and "5 or 5 % alike" in hint[1]
    assert 'id="s-1-visits" name="s-1-visits" type="text" value="33.3333 %"' in page
    assert page.count('aria-describedby="visits-help"') == 2


@pytest.mark.parametrize("blocked", ["33.3333 %", "33.3333%", " 33.3333  % "])
def test_an_unchanged_form_keeps_every_stored_value_exactly(
    saved: TestClient, workspace: Workspace, blocked: str
) -> None:
    """Blocked's share is 1/3 and its %C&A and PT carry more digits than the form shows: saved
    unchanged (the shown percentage retyped, spaces aside), the map is the same to the bit."""
    before = workspace.get_map("Tiny").map
    assert before.steps[1].visit_share == 1 / 3
    fields = {**edit_form(saved.get(PAGE).text), "s-1-visits": blocked, "action": "save"}
    response = saved.post(PAGE, data=fields, follow_redirects=False)
    assert response.status_code == 303
    after = workspace.get_map("Tiny").map
    assert after.steps == before.steps
    assert [s.visit_share for s in after.steps] == [1.0, 1 / 3]
    assert (after.demand_per_day, after.available_hours_per_day, after.hourly_cost) == (
        before.demand_per_day,
        before.available_hours_per_day,
        before.hourly_cost,
    )
    assert after.rework_loops == before.rework_loops
    assert workspace.map_history("Tiny")[-1].changes == ()


@pytest.mark.parametrize(
    ("at", "changes", "level", "expected"),
    [
        (
            2,
            {"visit_share": 1.5},
            {},
            "Step 3 (Review): Share of items is 150 %; give a percentage above 0 and at most 100",
        ),
        (0, {"batch_size": 0}, {}, "Step 1 (In Progress): Batch size is 0; it must be at least 1"),
        (
            1,
            {"team": "Ops"},
            {"teams": ("Dev",)},
            "Step 2 (Blocked): Team 'Ops' is not a team of the map (Dev); add it to 'teams' or "
            "fix the name",
        ),
        (
            2,
            {"process_time_hours": 5.0},
            {},
            "Step 3 (Review): LT h (2.0) is shorter than PT h (5.0); lead time includes the work",
        ),
        (
            0,
            {},
            {"available_hours_per_day": 30.0},
            "Available hours per day is 30.0; give hours in (0, 24]",
        ),
    ],
)
def test_the_models_errors_are_said_in_the_editors_words(
    at: int, changes: dict[str, object], level: dict[str, object], expected: str
) -> None:
    """The model's error carries the step and field; the editor says them by row and label,
    while the model's own message (for files and the API) keeps its path."""
    steps = [Step("In Progress", 1.0, 2.0), Step("Blocked", 1.0, 2.0), Step("Review", 1.0, 2.0)]
    steps[at] = dataclasses.replace(steps[at], **changes)  # type: ignore[arg-type]
    with pytest.raises(MapError) as caught:
        ValueStreamMap(name="Tiny", steps=tuple(steps), **level)  # type: ignore[arg-type]
    assert ("steps[" in str(caught.value)) == bool(changes)
    assert readable(caught.value, steps) == expected
