"""The compare page shows the figures a variant changed first and folds the unchanged ones;
a figure counts as changed when its value moved, or is on one side only; the favicon."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from obeya.core.maps.compare import FigureDelta, compare, with_step
from obeya.core.maps.model import Step, ValueStreamMap
from obeya.web.pages import STATIC

PAGE = "/maps/Tiny/current"


def future_with_more_people(client: TestClient) -> str:
    """Tiny's map saved as current, a future variant with 4 people at its first step; the
    compare page's HTML."""
    assert client.post("/streams/Tiny/map", follow_redirects=False).status_code == 303
    assert client.post(f"{PAGE}/copy", data={"to": "future"}).status_code == 200
    page = client.get("/maps/Tiny/future").text
    fields = dict(re.findall(r'<input [^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    fields.update({"s-0-people": "4", "action": "save"})
    fields.pop("s-0-remove", None)
    fields.pop("s-1-remove", None)
    saved = client.post("/maps/Tiny/future", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    response = client.get("/maps/Tiny/compare?variants=current,future")
    assert response.status_code == 200
    return response.text


def test_changed_rows_come_first_and_the_unchanged_are_folded(client: TestClient) -> None:
    text = future_with_more_people(client)
    rows = re.findall(r'<tr data-figure="([^"]+)" class="([^"]*)"', text)
    changed = [figure for figure, cls in rows if "unchanged" not in cls.split()]
    unchanged = [figure for figure, cls in rows if "unchanged" in cls.split()]
    # Doubling the people of step 1 moves its people, capacity and utilisation (and more),
    # and leaves the lead time, which capacity does not enter, as it was.
    assert "steps.In Progress.people" in changed
    assert "steps.In Progress.capacity_per_day" in changed
    assert "totals.lead_time_hours" in unchanged
    assert changed and unchanged
    # every changed row before every unchanged one
    order = [figure for figure, _ in rows]
    assert max(order.index(f) for f in changed) < min(order.index(f) for f in unchanged)
    # the unchanged ones, and only they, in a <details> that is closed, saying how many
    folded = re.search(r"<details class=\"unchanged-figures\"( open)?>(.*?)</details>", text, re.S)
    assert folded and folded[1] is None
    inside = re.findall(r'<tr data-figure="([^"]+)"', folded[2])
    assert inside == unchanged
    assert f"<summary>{len(unchanged)} unchanged figures</summary>" in folded[2]
    before = text[: text.index('<details class="unchanged-figures"')]
    assert re.findall(r'<tr data-figure="([^"]+)"', before) == changed


def test_a_figure_changes_when_it_moves_or_is_on_one_side_only() -> None:
    base = ValueStreamMap("M", (Step("A", 1, 5), Step("B", 2, 10)))
    lead = next(f for f in compare(base, base).variants[0].figures if "lead_time" in f.figure)
    assert lead.delta == 0 and not lead.changed
    assert FigureDelta("x", 1.0, 1.0 + 1e-12, 1e-12, 0.0).changed is False  # float noise
    assert FigureDelta("x", 1.0, 1.5, 0.5, 50.0).changed is True
    assert FigureDelta("x", None, 2.0, None, None).changed is True  # a new step's figure
    assert FigureDelta("x", 2.0, None, None, None).changed is True  # a removed step's
    assert FigureDelta("x", None, None, None, None).changed is False
    faster = with_step(base, "B", lead_time_hours=6)
    moved = {f.figure for f in compare(base, faster).variants[0].figures if f.changed}
    assert "steps.B.lead_time_hours" in moved and "steps.A.lead_time_hours" not in moved
    # the comparison's JSON keeps its fields
    row = compare(base, faster).to_dict()["variants"][0]["figures"][0]
    assert set(row) == {"figure", "base", "value", "delta", "change_pct"}


def test_the_favicon_is_served_to_anyone(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    response = anonymous.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.content == (STATIC / "favicon.svg").read_bytes()
    page = anonymous.get("/sign-in").text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
