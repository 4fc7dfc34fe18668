"""The map pages: discover and save a stream's map, edit it (preview, save, stale and bad
edits refused), copy it to a variant, compare, download the drawing, labelled forms; and the
drawing of side branches (steps few items visit) beside the main line."""

from __future__ import annotations

import html
import re
import struct
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from obeya.core.maps.calculations import calculate
from obeya.core.maps.files import map_to_dict
from obeya.core.maps.model import Step, ValueStreamMap
from obeya.render.map_figures import map_share
from obeya.render.vsm_svg import render_svg
from obeya.web.map_pages import hours, percent_text
from obeya.workspace import Workspace

PAGE = "/maps/Tiny/current"


@pytest.fixture
def saved(client: TestClient) -> TestClient:
    """The tiny stream's discovered map saved as Tiny/current, through the page's button."""
    response = client.post("/streams/Tiny/map", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?saved=1"
    return client


def edit_form(page: str) -> dict[str, str]:
    """The edit form's fields as a browser would post them (unticked checkboxes left out)."""
    form = page[page.index('<form class="map-form"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        if name is None or 'type="checkbox"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[html.unescape(name[1])] = html.unescape(value[1]) if value else ""
    for name, body in re.findall(r'<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>', form, re.S):
        fields[name] = re.search(r'<option value="([^"]*)" selected', body)[1]
    return fields


def figure(page: str, key: str) -> str:
    return re.search(rf'data-total="{key}">.*?data-value="([^"]*)"', page, re.S)[1]


def history(workspace: Workspace, variant: str = "current") -> list[Any]:
    return workspace.map_history("Tiny", variant)


def test_discover_and_save_shows_each_step_and_the_totals(
    saved: TestClient, workspace: Workspace
) -> None:
    page = saved.get(PAGE).text
    vsm = workspace.get_map("Tiny").map
    figs = calculate(vsm)
    assert workspace.get_map("Tiny").stream == "Tiny"
    for step in vsm.steps:
        assert f'value="{step.name}"' in page  # the editable table
        assert html.escape(step.name) in page
    assert "<svg" in page and "</svg>" in page  # the drawing, inline
    assert float(figure(page, "lead_time_hours")) == figs.lead_time_hours
    assert float(figure(page, "process_time_hours")) == figs.process_time_hours
    assert float(figure(page, "activity_ratio")) == figs.activity_ratio
    assert float(figure(page, "rolled_complete_accurate")) == figs.rolled_complete_accurate
    # In Progress, mean of A 48 h, B 48 + 72 h, C 96 h = 88 h, + 24 h blocked × ⅓ (one of the
    # three finished items was blocked): 96 h, the mean cycle time of 2, 6 and 4 days.
    assert [s.visit_share for s in vsm.steps] == [1.0, pytest.approx(1 / 3)]
    assert hours(figs.lead_time_hours) == "96 h"
    # PT is the twin's: In Progress visits of 48, 48, 72 and 96 h (every day works: the log
    # has dates only, on every weekday it uses) average 66 h, 4 visits for 3 items: 88 h.
    assert vsm.steps[0].process_time_hours == pytest.approx(66 * 4 / 3)
    assert map_share(figs.activity_ratio) == "91.7 %"  # 88 ÷ 96
    assert "96 h" in page and "91.7 %" in page
    assert figs.constraint is not None
    assert f'data-constraint="{figs.constraint.step}"' in page
    assert html.escape(figs.constraint.reason) in page
    # The list of maps links to it, and the stream page has the button.
    listing = saved.get("/maps").text
    assert f'href="{PAGE}"' in listing
    assert 'action="/streams/Tiny/map"' in saved.get("/streams/Tiny").text


def test_preview_draws_the_edit_and_saves_nothing(saved: TestClient, workspace: Workspace) -> None:
    fields = edit_form(saved.get(PAGE).text)
    assert fields["s-0-pt"] == "88"  # the twin's (see the test above)
    fields["s-0-pt"] = "40"
    before = len(history(workspace))
    partial = saved.post(f"{PAGE}/preview", data=fields, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="live"')  # only the drawing and figures
    assert float(figure(partial.text, "process_time_hours")) == 40.0
    assert "Preview" in partial.text
    # Without JavaScript the same form posts to the page and the whole page comes back.
    whole = saved.post(PAGE, data={**fields, "action": "preview"})
    assert whole.status_code == 200
    assert "<html" in whole.text and float(figure(whole.text, "process_time_hours")) == 40.0
    assert len(history(workspace)) == before
    assert workspace.get_map("Tiny").map.steps[0].process_time_hours == pytest.approx(88.0)


def test_save_stores_version_2_with_the_new_process_time(
    saved: TestClient, workspace: Workspace
) -> None:
    fields = edit_form(saved.get(PAGE).text)
    fields.update({"s-0-pt": "80", "message": "faster reviews", "action": "save"})
    response = saved.post(PAGE, data=fields, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?saved=2"
    stored = workspace.get_map("Tiny")
    assert stored.version.version == 2
    # The signed-in user (the client's token is user "tester"'s) is the author.
    assert stored.version.author == "tester" and stored.version.message == "faster reviews"
    assert stored.map.steps[0].process_time_hours == 80.0
    # Fields left alone keep their exact stored values (no rounding through the form).
    assert stored.map.steps[0].complete_accurate == pytest.approx(2 / 3, abs=0)
    assert history(workspace)[-1].changes == ("steps.In Progress.process_time_hours",)
    page = saved.get(response.headers["location"]).text
    assert "Saved version 2." in page
    assert "faster reviews" in page and "steps.In Progress.process_time_hours" in page


def test_a_stale_save_is_refused_and_nothing_saved(saved: TestClient, workspace: Workspace) -> None:
    fields = edit_form(saved.get(PAGE).text)  # loaded at version 1
    workspace.save_map(
        workspace.get_map("Tiny").map, author="Bo", message="meanwhile", expected_version=1
    )
    fields.update({"s-0-pt": "50", "action": "save"})
    response = saved.post(PAGE, data=fields)
    assert response.status_code == 409
    assert "changed since version 1" in html.unescape(response.text)
    assert 'value="50"' in response.text  # the edit is still in the form
    assert len(history(workspace)) == 2
    assert workspace.get_map("Tiny").map.steps[0].process_time_hours == pytest.approx(88.0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        # %C&A is typed as every share is (0.9, 90 %); a bare 1.4 is neither.
        ("s-0-ca", "1.4", "Step 1 (In Progress): %C&A is '1.4'; a share is a fraction up to 1"),
        ("s-0-ca", "0 %", "Step 1 (In Progress): %C&A is 0.0; give a share in (0, 1]"),
        ("s-1-lt", "-3", "Step 2 (Blocked): LT h is -3.0; it cannot be negative"),
        ("s-0-people", "many", "Step 1 (In Progress): People is 'many'; give a number"),
        ("s-0-visits", "0 %", "Step 1 (In Progress): Share of items is '0 %'; give a percentage"),
    ],
)
def test_invalid_input_shows_the_error_and_saves_nothing(
    saved: TestClient, workspace: Workspace, field: str, value: str, message: str
) -> None:
    fields = edit_form(saved.get(PAGE).text)
    fields.update({field: value, "action": "save"})
    response = saved.post(PAGE, data=fields)
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert 'role="alert"' in response.text
    assert len(history(workspace)) == 1
    # A live preview of the same edit shows the error in place of the figures.
    partial = saved.post(f"{PAGE}/preview", data=fields, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and message in html.unescape(partial.text)


def test_add_and_remove_steps(saved: TestClient, workspace: Workspace) -> None:
    """Removing a step removes the loop back that starts at it (Tiny's blocked item went
    back to In Progress)."""
    loops = workspace.get_map("Tiny").map.rework_loops
    assert [(x.source, x.target) for x in loops] == [("Blocked", "In Progress")]
    fields = edit_form(saved.get(PAGE).text)
    added = saved.post(PAGE, data={**fields, "action": "add"})
    assert added.status_code == 200
    fields = edit_form(added.text)
    assert fields["s-2-name"] == "New step" and fields["s-2-orig"] == ""
    fields.update({"s-2-name": "Deploy", "s-2-pt": "2", "s-2-lt": "5", "s-1-remove": "on"})
    fields["action"] = "save"
    assert saved.post(PAGE, data=fields, follow_redirects=False).status_code == 303
    steps = workspace.get_map("Tiny").map.steps
    assert [s.name for s in steps] == ["In Progress", "Deploy"]
    assert (steps[1].process_time_hours, steps[1].lead_time_hours) == (2.0, 5.0)
    assert workspace.get_map("Tiny").map.rework_loops == ()


def test_copy_edit_and_compare(saved: TestClient, workspace: Workspace) -> None:
    response = saved.post(f"{PAGE}/copy", data={"to": "future"}, follow_redirects=False)
    assert response.status_code == 303
    future = "/maps/Tiny/future"
    assert response.headers["location"] == f"{future}?saved=1"
    page = saved.get(future).text
    constraint = re.search(r'data-constraint="([^"]*)"', page)[1]
    assert constraint == "In Progress"
    fields = edit_form(page)
    # The discovered map carries the twin's people: Tiny's two assignees of In Progress.
    assert fields["s-0-name"] == constraint and fields["s-0-people"] == "2"
    before = workspace.get_map("Tiny", "future").map.steps[0]
    fields.update({"s-0-people": "4", "action": "save", "message": "two more people"})
    assert saved.post(future, data=fields, follow_redirects=False).status_code == 303
    assert workspace.get_map("Tiny", "future").map.steps[0].people == 4.0

    compared = saved.get("/maps/Tiny/compare?variants=current,future")
    assert compared.status_code == 200
    text = compared.text
    assert text.count("<svg") == 2
    # By hand: capacity = people × available hours ÷ PT, so twice the people, twice the
    # capacity: the delta is the current capacity, +100 %.
    current = workspace.get_map("Tiny", "current").map
    capacity = before.people * current.available_hours_per_day / before.process_time_hours
    row = text[text.index('data-figure="steps.In Progress.capacity_per_day"') :]
    row = row[: row.index("</tr>")]
    assert float(re.search(r'data-delta="([^"]*)"', row)[1]) == pytest.approx(capacity)
    assert "+100 %" in row
    people = text[text.index('data-figure="steps.In Progress.people"') :]
    assert "+2" in people[: people.index("</tr>")]
    # Lead time did not move: shown unchanged, neither better nor worse.
    lead = text[text.index('data-figure="totals.lead_time_hours"') :]
    assert 'class=" unchanged"' in lead[: lead.index(">")]


def test_compare_colours_better_and_worse(saved: TestClient, workspace: Workspace) -> None:
    saved.post(f"{PAGE}/copy", data={"to": "future"})
    fields = edit_form(saved.get("/maps/Tiny/future").text)
    fields.update({"s-0-pt": "48", "s-0-ca": "0.5", "action": "save"})
    assert saved.post("/maps/Tiny/future", data=fields, follow_redirects=False).status_code == 303
    text = saved.get("/maps/Tiny/compare?variants=current,future").text

    def verdict(name: str) -> str:
        return re.search(rf'data-figure="{re.escape(name)}" class="([^"]*)"', text)[1].strip()

    assert verdict("totals.process_time_hours") == "better"  # 96 → 48 h
    assert verdict("totals.activity_ratio") == "worse"  # 96/120 → 48/120
    assert verdict("totals.rolled_complete_accurate") == "worse"  # 2/3 → 1/2 on step 1
    assert verdict("waste.waiting.hours_per_item") == "worse"  # wait 0 → 48 h in step 1
    assert map_share(0.8) == "80 %"


def test_the_svg_download_is_well_formed(saved: TestClient) -> None:
    response = saved.get(f"{PAGE}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    document = saved.get(f"{PAGE}.json")
    assert document.status_code == 200
    assert [s["name"] for s in document.json()["steps"]] == ["In Progress", "Blocked"]
    # The PNG download: the same drawing at its own size, linked from the page.
    png = saved.get(f"{PAGE}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png.content[16:24])
    assert (width, height) == (int(float(root.get("width"))), int(float(root.get("height"))))
    assert f'href="{PAGE}.png" download' in saved.get(PAGE).text


def test_the_json_download_reads_back_into_the_same_map(
    saved: TestClient, workspace: Workspace
) -> None:
    document = saved.get(f"{PAGE}.json").json()
    assert document["name"] == "Tiny" and document == map_to_dict(workspace.get_map("Tiny").map)
    response = saved.put("/api/maps/Tiny/copy-of", json={"map": document, "expected_version": 0})
    assert response.status_code == 200
    assert workspace.get_map("Tiny", "copy-of").map.steps == workspace.get_map("Tiny").map.steps


@pytest.mark.parametrize("path", ["/maps", PAGE, "/maps/Tiny/compare?variants=current,future"])
def test_every_form_input_has_a_label(saved: TestClient, path: str) -> None:
    saved.post(f"{PAGE}/copy", data={"to": "future"})
    page = saved.get(path).text
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', page))
    fields = re.findall(r"<(input|select|textarea)\b([^>]*)>", page)
    checked = 0
    for tag, attrs in fields:
        if re.search(r'type="(hidden|submit)"', attrs):
            continue
        ident = re.search(r'\bid="([^"]+)"', attrs)
        assert ident is not None, f"<{tag}{attrs}> has no id for a label"
        assert ident[1] in labelled, f"<{tag}{attrs}> has no <label>"
        checked += 1
    assert checked > 0 or path == "/maps"
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_unknown_maps_and_bad_copies_say_so(saved: TestClient) -> None:
    missing = saved.get("/maps/Nope/current", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    again = saved.post(f"{PAGE}/copy", data={"to": "current"})
    assert again.status_code == 409
    assert "Not copied." in again.text
    refused = saved.post(f"{PAGE}/copy", data={"to": "compare"})
    assert refused.status_code == 422


def test_the_visit_share_is_edited_saved_and_drawn(saved: TestClient, workspace: Workspace) -> None:
    page = saved.get(PAGE).text
    fields = edit_form(page)
    assert '<th scope="col" class="col-visits">Share of items</th>' in page
    # the stored share, in percent (discovery gives the share of items that went through Blocked)
    before = workspace.get_map("Tiny").map.steps
    assert fields["s-1-visits"] == percent_text(before[1].visit_share) == "33.3333 %"
    assert fields["s-0-visits"] == percent_text(before[0].visit_share) == "100 %"
    fields.update({"s-1-visits": "20", "action": "save", "message": "few block"})
    response = saved.post(PAGE, data=fields, follow_redirects=False)
    assert response.status_code == 303
    stored = workspace.get_map("Tiny").map
    assert [s.visit_share for s in stored.steps] == [before[0].visit_share, 0.2]
    assert history(workspace)[-1].changes == ("steps.Blocked.visit_share",)
    # 0.2 is on the main line, its share in its data box; the totals weigh Blocked by it.
    page = saved.get(PAGE).text
    assert '<text x="' in page and ">20 % of items</text>" in page
    assert float(figure(page, "lead_time_hours")) == calculate(stored).lead_time_hours
    # 0.03 makes it a side branch, drawn beside the main line (preview only).
    fields = edit_form(page)
    assert fields["s-1-visits"] == "20 %"
    fields["s-1-visits"] = "3 %"
    partial = saved.post(f"{PAGE}/preview", data=fields, headers={"HX-Request": "true"})
    assert 'class="process side-branch" data-step="Blocked"' in partial.text
    assert ">3 % of items</text>" in partial.text
    assert workspace.get_map("Tiny").map.steps[1].visit_share == 0.2


# -- side branches in the drawing -------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("typed", ["0.9", "90%", "90 %"])
def test_complete_accurate_is_typed_as_a_fraction_or_in_percent(
    saved: TestClient, workspace: Workspace, typed: str
) -> None:
    """%C&A is a share like any other: 0.9, 90% and 90 % all store 0.9 (90 / 100)."""
    fields = edit_form(saved.get(PAGE).text)
    fields.update({"s-0-ca": typed, "action": "save"})
    response = saved.post(PAGE, data=fields, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert workspace.get_map("Tiny").map.steps[0].complete_accurate == pytest.approx(0.9)


def release(security: float | None) -> ValueStreamMap:
    """Build, Deploy and, between them unless None, a Security review ``security`` of the
    items visit."""
    steps = [Step("Build", 2, 10, team="Dev", inventory_before=3)]
    if security is not None:
        steps.append(Step("Security review", 4, 40, team="Sec", visit_share=security))
    steps.append(Step("Deploy", 1, 5, team="Ops", inventory_before=1))
    return ValueStreamMap("Release", tuple(steps), demand_per_day=2)


def step_boxes(root: ET.Element) -> dict[str, tuple[ET.Element, ET.Element]]:
    """Each step's group and box (its first rect), as the drawing's tests find them."""
    groups = [g for g in root.iter(f"{SVG}g") if "process" in (g.get("class") or "").split()]
    return {g.get("data-step", ""): (g, g.find(f"{SVG}rect")) for g in groups}  # type: ignore[misc]


def shown(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def test_a_side_branch_hangs_below_the_main_row_and_out_of_the_ladder() -> None:
    vsm = release(0.03)
    figures = calculate(vsm)
    assert figures.step("Security review").side_branch
    root = ET.fromstring(render_svg(vsm, figures))
    boxes = step_boxes(root)
    # side branches are drawn first, so that the main line's links cover their connectors' tops
    assert list(boxes) == ["Security review", "Build", "Deploy"]
    build, deploy, security = (boxes[n] for n in ("Build", "Deploy", "Security review"))
    assert build[0].get("class") == deploy[0].get("class") == "process"
    assert security[0].get("class") == "process side-branch"

    def top(box: ET.Element) -> float:
        return float(box.get("y", "nan"))

    # The main steps share a row; the side box starts below their data boxes.
    assert top(build[1]) == top(deploy[1])
    data = build[0].find(f"{SVG}rect[@class='data-box']")
    assert data is not None
    data_bottom = top(data) + float(data.get("height", "nan"))
    assert top(security[1]) > data_bottom
    # It is smaller, and hangs under the gap before Deploy, where it leaves the main line.
    assert float(security[1].get("width", "0")) < float(build[1].get("width", "0"))
    centre = float(security[1].get("x", "0")) + float(security[1].get("width", "0")) / 2
    assert float(build[1].get("x", "0")) + 140 < centre < float(deploy[1].get("x", "0"))
    texts = shown(security[0])
    assert texts == ["Security review", "3 % of items", "PT 4 h · LT 1.7 d"]
    assert all(float(t.get("font-size", "0")) >= 11 for t in security[0].iter(f"{SVG}text"))
    connector = security[0].find(f"{SVG}path[@class='branch-connector']")
    assert connector is not None and connector.get("stroke-dasharray") == "5 4"
    # The connector runs from the main line (22 px under the boxes' tops) to the side box.
    d = connector.get("d", "")
    start, end = d.split()[0], d.split()[-1]
    assert float(start.split(",")[1]) == top(build[1]) + 22
    assert end == f"L{centre:g},{top(security[1]):g}"
    # The ladder has the two main steps' rungs only; the totals count 3 % of the review.
    rungs = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "pt"]
    assert rungs == ["2 h", "1 h"]
    totals = {
        t.get("data-figure"): t.text for t in root.iter(f"{SVG}text") if t.get("class") == "total"
    }
    # LT: 10 + 5 + 0.03 × 40 h and the inventory waits 3 ÷ 2 and 1 ÷ 2 days (36 + 12 h)
    assert figures.lead_time_hours == pytest.approx(10 + 5 + 0.03 * 40 + 48)
    assert totals["lead_time"] == "2.7 d" and totals["process_time"] == "3.1 h"
    assert "3 steps · 1 side branch" in shown(root)[1]


def test_a_side_branch_takes_no_place_in_the_main_row() -> None:
    with_branch = ET.fromstring(render_svg(release(0.03)))
    without = ET.fromstring(render_svg(release(None)))
    for name in ("Build", "Deploy"):
        assert ET.tostring(step_boxes(with_branch)[name][0]) == ET.tostring(
            step_boxes(without)[name][0]
        )


def test_a_main_line_step_not_every_item_visits_says_so_in_its_data_box() -> None:
    root = ET.fromstring(render_svg(release(0.85)))
    boxes = step_boxes(root)
    assert all(g.get("class") == "process" for g, _ in boxes.values())
    visits = [
        (g.get("data-step"), t.text)
        for g, _ in boxes.values()
        for t in g.iter(f"{SVG}text")
        if t.get("class") == "visits"
    ]
    assert visits == [("Security review", "85 % of items")]
    # Its rungs are an item's time: 0.85 × its 4 h of PT.
    rungs = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "pt"]
    assert rungs == ["2 h", "3.4 h", "1 h"]


def test_a_map_every_item_goes_all_through_draws_as_without_visits() -> None:
    """Visits of 1 are the default: said or not, the drawing is the same bytes, with no side
    branch, no visits row and no band for them (the golden file of ``tests/maps`` holds the
    drawing itself)."""
    plain = release(1.0)
    told = ValueStreamMap(
        plain.name,
        tuple(
            Step(
                s.name,
                s.process_time_hours,
                s.lead_time_hours,
                team=s.team,
                inventory_before=s.inventory_before,
            )
            for s in plain.steps
        ),
        demand_per_day=plain.demand_per_day,
    )
    assert told.steps == plain.steps  # 1 is the default
    svg = render_svg(plain)
    assert svg == render_svg(told)
    assert "side-branch" not in svg and 'class="visits"' not in svg
    root = ET.fromstring(svg)
    data = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "data-box"]
    assert {r.get("height") for r in data} == {"76"}  # 4 rows of 16 px + 12


def test_the_saved_map_says_where_its_demand_and_lead_time_come_from(
    saved: TestClient, workspace: Workspace
) -> None:
    """The discovered map keeps, and its page shows, the period its demand is of (the
    twin's arrival rate, the map's own demand) and the measured mean lead time beside the
    map's; an edit saved through the form keeps the note."""
    vsm = workspace.get_map("Tiny").map
    twin = workspace.stream_twin("Tiny")
    assert vsm.demand_per_day == pytest.approx(twin.arrivals.per_week / 7)
    page = saved.get(PAGE).text
    notes = html.unescape(re.search(r'<p class="help" id="map-notes">(.*?)</p>', page, re.S)[1])
    assert notes == vsm.notes
    assert notes.startswith(f"Demand: {vsm.demand_per_day:.3g} items a day, the twin's")
    assert twin.arrivals.evidence in notes
    fields = {**edit_form(page), "s-0-people": "3", "action": "save"}
    assert saved.post(PAGE, data=fields, follow_redirects=False).status_code == 303
    assert workspace.get_map("Tiny").map.notes == vsm.notes


def test_a_most_loaded_step_far_from_capacity_is_not_called_the_constraint(
    saved: TestClient, workspace: Workspace
) -> None:
    """At a demand that loads the tiny map's busiest step to 40 % it is shown as the highest
    load, not as the constraint (drawing and card alike); at 120 % it is the constraint."""
    vsm = workspace.get_map("Tiny").map
    figs = calculate(vsm)
    assert figs.constraint is not None and figs.constraint.utilisation is not None
    assert vsm.demand_per_day is not None
    per_unit = figs.constraint.utilisation / vsm.demand_per_day  # utilisation per item a day
    for load, card, burst in (
        (0.4, "Highest load (no constraint)", "highest load:"),
        (1.2, ">Constraint</h2>", "constraint:"),
    ):
        fields = {**edit_form(saved.get(PAGE).text), "demand": f"{load / per_unit:.6g}"}
        page = saved.post(f"{PAGE}/preview", data=fields).text
        assert card in page and burst in page
        assert ('class="is-constraint"' in page) == (load >= 0.8)


def test_simulating_a_discovered_map_runs_the_twin_until_it_is_edited(
    saved: TestClient, workspace: Workspace
) -> None:
    """The map as discovered is the stream's twin (as `obeya map to-scenario` says): its
    Simulate button opens the twin's page. Once edited, it is a model of its own and the
    button opens the simulation of the map."""
    page = saved.get(PAGE).text
    assert 'href="/streams/Tiny/twin"' in page and "Simulate (the twin)" in page
    assert workspace.map_twin_stream(workspace.get_map("Tiny")) == "Tiny"
    fields = {**edit_form(page), "s-0-people": "3", "message": "three", "action": "save"}
    assert saved.post(PAGE, data=fields, follow_redirects=False).status_code == 303
    edited = saved.get(PAGE).text
    assert 'href="/simulate?map=Tiny&amp;variant=current"' in edited
    assert "Simulate (the twin)" not in edited
    assert workspace.map_twin_stream(workspace.get_map("Tiny")) is None
