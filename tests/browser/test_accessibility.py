"""Accessibility and layout in a real browser: every control and every picture of each page
(the sign-in page too) has an accessible name (read from Chromium's own accessibility tree),
the colours of obeya.css reach WCAG's 4.5:1, and the pages fit a laptop and a tablet without
sideways scrolling."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from browser.helpers import (
    ADMIN,
    LAPTOP,
    LINE,
    TABLET,
    csrf_headers,
    expect_all_drawn,
    sign_in,
)
from obeya.web.pages import STATIC

#: Roles a person operates: each needs a name that says what it does.
CONTROLS = {
    "button",
    "checkbox",
    "combobox",
    "Date",
    "DateTime",
    "DisclosureTriangle",
    "InputTime",
    "link",
    "listbox",
    "radio",
    "searchbox",
    "slider",
    "spinbutton",
    "switch",
    "textbox",
}
#: Roles of pictures: each needs a text alternative, unless it sits inside a named picture or
#: control (a chart's canvas inside the chart's named container, an icon inside a button).
PICTURES = {"image", "img", "graphics-document", "Canvas", "SvgRoot"}
#: The date field's parts (day, month, year, picker) are named by the field itself.
DATE_FIELDS = {"Date", "DateTime", "InputTime"}

PAGES = [
    "/",
    "/streams/Tiny",
    "/streams/Tiny/forecast?question=how-many&days=14&trials=500",
    "/maps",
    "/maps/Tiny/current",
    "/simulate?map=Line",
    "/streams/Tiny/risks",
    "/streams/Tiny/dependencies",
    "/streams/Tiny/dependencies/P-1",
    "/streams/Tiny/experiments",
]


def unnamed(page: Page) -> list[str]:
    """Controls and pictures of the page that Chromium gives no accessible name."""
    session = page.context.new_cdp_session(page)
    nodes: list[dict[str, Any]] = session.send("Accessibility.getFullAXTree")["nodes"]
    session.detach()
    by_id = {node["nodeId"]: node for node in nodes}

    def role(node: dict[str, Any]) -> str:
        return str(node.get("role", {}).get("value", ""))

    def name(node: dict[str, Any]) -> str:
        return str(node.get("name", {}).get("value", "")).strip()

    def ancestors(node: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        while "parentId" in node and node["parentId"] in by_id:
            node = by_id[node["parentId"]]
            found.append(node)
        return found

    missing = []
    for node in nodes:
        if node.get("ignored") or name(node):
            continue
        kind = role(node)
        above = ancestors(node)
        if kind in CONTROLS:
            if not any(role(a) in DATE_FIELDS for a in above):
                missing.append(kind)
        elif kind in PICTURES and not any(
            name(a) and (role(a) in PICTURES or role(a) in CONTROLS) for a in above
        ):
            missing.append(kind)
    return missing


def make_records(page: Page) -> None:
    """A map, a what-if map, a risk and a plan, so every page has its forms and tables."""
    csrf = csrf_headers(page)
    assert page.request.post("/streams/Tiny/map", headers=csrf).ok
    assert page.request.put("/api/maps/Line/current", data={"map": LINE}, headers=csrf).ok
    assert page.request.post(
        "/streams/Tiny/risks",
        form={"key": "R-1", "title": "Vendor late", "probability": "0.4", "impact": "5"},
        headers=csrf,
    ).ok
    assert page.request.post(
        "/streams/Tiny/dependencies",
        form={"key": "P-1", "task_id": "A", "task_team": "Alpha", "task_duration_days": "3"},
        headers=csrf,
    ).ok


def sign_out(page: Page) -> None:
    """Sign out with the top bar's button: the browser lands on the sign-in page."""
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def test_every_control_and_picture_has_a_name(signed_in_page: Page) -> None:
    page = signed_in_page
    make_records(page)
    problems = {}
    for url in PAGES:
        page.goto(url)
        expect_all_drawn(page)
        if missing := unnamed(page):
            problems[url] = missing
    # The sign-in page as a person who is not signed in sees it, blank and after a wrong try.
    sign_out(page)
    if missing := unnamed(page):
        problems["/sign-in"] = missing
    sign_in(page, ADMIN, "not the password")
    expect(page.get_by_role("alert")).to_have_text("wrong user name or password")
    if missing := unnamed(page):
        problems["/sign-in (wrong password)"] = missing
    assert not problems, f"controls or pictures without an accessible name: {problems}"


def test_the_sign_in_form_is_labelled(signed_in_page: Page) -> None:
    page = signed_in_page
    sign_out(page)
    form = page.get_by_role("region", name="Your Obeya account")
    expect(form.get_by_label("User name")).to_have_attribute("autocomplete", "username")
    expect(form.get_by_label("Password")).to_have_attribute("type", "password")
    expect(form.get_by_label("User name")).to_be_focused()  # ready to type on arrival


def test_the_charts_and_drawings_have_text_alternatives(signed_in_page: Page) -> None:
    page = signed_in_page
    assert page.request.post("/streams/Tiny/map", headers=csrf_headers(page)).ok
    page.goto("/streams/Tiny")
    for title in ("Cumulative flow", "Cycle time scatterplot", "Throughput per week"):
        expect(page.get_by_role("img", name=f"{title} chart")).to_be_visible()
    page.goto("/maps/Tiny/current")
    expect(page.get_by_role("img", name="Tiny — value stream map (current)")).to_be_visible()


# -- colour contrast --------------------------------------------------------------------------


def css_colours() -> dict[str, str]:
    """The colour variables of obeya.css's :root, e.g. {"ink": "#1f2937", …}."""
    css = (Path(STATIC) / "obeya.css").read_text(encoding="utf-8")
    root = re.search(r":root\s*\{(.*?)\}", css, re.S)
    assert root is not None
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\b", root[1]))


def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour ``#rrggbb``."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_matches_wcag() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


#: Text colour on background, as obeya.css pairs them: variables, or the literal colours of
#: the top bar and the board's columns.
PAIRS = [
    ("ink", "surface"),
    ("ink", "canvas"),
    ("ink-soft", "surface"),
    ("ink-soft", "canvas"),
    ("muted", "surface"),
    ("muted", "canvas"),  # breadcrumbs, the footer
    ("muted", "#eceef2"),  # the ROAM board's columns
    ("primary-dark", "surface"),  # links
    ("primary-dark", "canvas"),
    ("#ffffff", "primary"),  # buttons
    ("ok", "ok-bg"),
    ("warn", "warn-bg"),
    ("error", "error-bg"),
    ("error", "surface"),
    ("#d1d5db", "#111827"),  # the top bar's links, the signed-in user's name
    ("#f9fafb", "#111827"),  # the brand, the sign-out button
    ("#f9fafb", "#374151"),  # the sign-out button, hovered or focused
]


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_has_at_least_4_5_to_1_contrast(text: str, background: str) -> None:
    colours = css_colours()

    def resolve(colour: str) -> str:
        return colour if colour.startswith("#") else colours[colour]

    ratio = contrast(resolve(text), resolve(background))
    assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}:1"


#: Each element's own text: its colour and the first opaque background behind it.
TEXT_COLOURS = """() => {
  const opaque = (colour) => !/^rgba\\(.*, 0\\)$/.test(colour) && colour !== "transparent";
  const found = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some(
      (n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const style = getComputedStyle(element);
    if (!own || style.visibility === "hidden" || !element.getClientRects().length) continue;
    let behind = element;
    while (behind && !opaque(getComputedStyle(behind).backgroundColor)) {
      behind = behind.parentElement;
    }
    const background = behind ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)";
    found.push([element.textContent.trim().slice(0, 40), style.color, background]);
  }
  return found;
}"""


def hex_of(css: str) -> str:
    """``#rrggbb`` of a computed ``rgb(r, g, b)`` (or opaque ``rgba``) colour."""
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def test_the_sign_in_page_text_has_at_least_4_5_to_1_contrast(signed_in_page: Page) -> None:
    """The colours Chromium computes for every text of the sign-in page (the top bar, the form,
    the wrong-password alert), against the background behind each."""
    page = signed_in_page
    sign_out(page)
    sign_in(page, ADMIN, "not the password")
    expect(page.get_by_role("alert")).to_be_visible()
    texts = page.evaluate(TEXT_COLOURS)
    assert any(text == "wrong user name or password" for text, _, _ in texts)
    low = [
        (text, colour, background, round(ratio, 2))
        for text, colour, background in texts
        if (ratio := contrast(hex_of(colour), hex_of(background))) < 4.5
    ]
    assert not low, f"text below 4.5:1 on the sign-in page: {low}"


# -- laptop and tablet widths -----------------------------------------------------------------


@pytest.mark.parametrize("viewport", [LAPTOP, TABLET], ids=["laptop", "tablet"])
def test_pages_fit_the_width_without_sideways_scrolling(
    signed_in_page: Page, viewport: dict[str, int]
) -> None:
    page = signed_in_page
    page.set_viewport_size(viewport)
    assert page.request.post("/streams/Tiny/map", headers=csrf_headers(page)).ok

    def fits(url: str) -> None:
        expect_all_drawn(page)
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{url} at {viewport['width']} px is {width} px wide"

    for url in ("/streams/Tiny", "/streams/Tiny/risks", "/maps/Tiny/current", "/"):
        page.goto(url)
        fits(url)
    sign_out(page)  # the sign-in page, as a person who is not signed in sees it
    fits("/sign-in")
