"""Regenerate the docs' screenshots of the bundled sample from the current code.

The images in docs/img/ that show the sample stream "VINST incidents" (dashboard.png,
map-current.png, map-compare.png, forecast.png, simulate.png, twin.png), and the DORA page of
a stream "Payments" with twelve weeks of generated deliveries (delivery.png), go stale
whenever a page or a figure changes. This script makes them again, as a person would see them:

1. a throw-away workspace (a temporary OBEYA_HOME, SQLite): ``obeya init``, ``obeya sample``,
   the sample's current-state map discovered and saved, and a future-state variant of it with
   more people and less rework at one step; the deliveries imported with ``obeya import
   deployments|changes|incidents`` (:func:`delivery_files`: seeded, so the same each time);
2. ``obeya serve`` on a free port of the loopback, and Debian's Chromium (driven by
   Playwright, nothing downloaded) signed in with a one-time sign-in link;
3. each page opened, its forms run (with their defaults, but for what a default cannot do:
   see the constants below), its charts waited for, and a screenshot 1400 px wide (the whole
   page, cut below the last card that fits in 2600 px) written over the old image. A page
   that shows an error stops the script instead.

The server is stopped and the workspace removed at the end, whatever happens.

Run it from the repository's root, after ``make install``::

    .venv/bin/python scripts/doc_images.py            # every image
    .venv/bin/python scripts/doc_images.py delivery   # only the pages named (see PAGES)

``OBEYA_CHROMIUM`` names another Chromium than /usr/bin/chromium. It takes a few minutes: the
simulation and the twin's checks run for real.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "img"
CHROMIUM = os.environ.get("OBEYA_CHROMIUM", "/usr/bin/chromium")

STREAM = "VINST incidents"
MAP = STREAM  # `map discover --save` names the map after the stream
FUTURE = "future"
#: The future state: this step of the map gets this many times its people, and this share of
#: its items done right first time (docs/user-guide.md: a future state that cuts the rework
#: of Resolve shows how much the total lead time and the rolled %C&A move).
FUTURE_STEP = "Resolve"
FUTURE_PEOPLE_FACTOR = 1.1
FUTURE_COMPLETE_ACCURATE = 0.6
#: Who signs in; the top bar shows the name.
USER = "admin"
#: The forecast page's question "when will N items be done?" has no default N.
FORECAST_ITEMS = "2000"
#: The simulate page's own run (1,000 days, 5 replications) of the sample's map is more than
#: the server's budget (OBEYA_MAX_SIM_EVENTS, 2,000,000 events for both states): a shorter one.
SIMULATION_RUN = {"days": "150", "warmup_days": "30", "replications": "3"}

#: The stream of the DORA page's image, and its generated history: twelve weeks from a Monday.
DELIVERY_STREAM = "Payments"
DELIVERY_START = date(2024, 3, 4)
DELIVERY_WEEKS = 12
DELIVERY_SEED = 2024

VIEWPORT: ViewportSize = {"width": 1400, "height": 900}
MAX_HEIGHT = 2600
#: Page background left below the last card shown.
MARGIN = 12
#: The server's answer to a long run (a simulation, the twin's check) may take this long.
RUN_TIMEOUT_MS = 600_000


@dataclass
class Workspace:
    """A temporary OBEYA_HOME and the environment the ``obeya`` commands run in."""

    home: Path
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        env = dict(os.environ, OBEYA_HOME=str(self.home))
        # Never a developer's own store: the throw-away SQLite in OBEYA_HOME only.
        env.pop("OBEYA_DATABASE_URL", None)
        self.env = env

    def obeya(self, *args: str) -> str:
        """Run ``obeya ARGS`` on this workspace; its standard output."""
        done = subprocess.run(
            [obeya_command(), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"obeya {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout


def obeya_command() -> str:
    """The ``obeya`` beside the Python running this script (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "obeya"
    if beside.exists():
        return str(beside)
    found = shutil.which("obeya")
    if found is None:
        raise RuntimeError("no `obeya` command: run `make install`, then .venv/bin/python")
    return found


def prepare(ws: Workspace) -> None:
    """The store, the sample, its saved current-state map, a future-state variant, and the
    user who signs in."""
    ws.obeya("init")
    ws.obeya("sample")
    ws.obeya("map", "discover", "--stream", STREAM, "--save", "--author", USER)
    ws.obeya("map", "variant", MAP, FUTURE, "--author", USER)
    save_future(ws)
    for kind, path in delivery_files(ws.home).items():
        ws.obeya("import", kind, str(path), "--stream", DELIVERY_STREAM)
    ws.obeya("user", "add", USER, "--role", "admin", "--no-password")


def save_future(ws: Workspace) -> None:
    """The future variant: more people at FUTURE_STEP, and fewer of its items coming back."""
    document = json.loads(ws.obeya("map", "export", MAP, "--variant", FUTURE, "--format", "json"))
    step = next(s for s in document["steps"] if s["name"] == FUTURE_STEP)
    people = step.get("people") or 1.0
    step["people"] = round(people * FUTURE_PEOPLE_FACTOR)
    step["complete_accurate"] = FUTURE_COMPLETE_ACCURATE
    path = ws.home / "future.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    message = (
        f"{FUTURE_STEP}: {step['people']:g} people instead of {people:g}, "
        f"{FUTURE_COMPLETE_ACCURATE:.0%} complete and accurate"
    )
    ws.obeya(
        "map", "save", str(path), "--name", MAP, "--variant", FUTURE, "-m", message,
        "--author", USER,
    )  # fmt: skip


def delivery_files(folder: Path) -> dict[str, Path]:
    """Twelve weeks of a team's deliveries as the three CSV files, seeded: on a working day
    none to three deployments (one in ten to staging, a few failed), each shipping one to
    four changes whose lead time shrinks from about 60 to 18 hours over the weeks; one
    counted deployment in eight or so causes an incident, resolved in hours (the last one
    not yet)."""
    rng = random.Random(DELIVERY_SEED)
    deployments: list[tuple[str, ...]] = []
    changes: list[tuple[str, ...]] = []
    incidents: list[tuple[str, ...]] = []
    days = DELIVERY_WEEKS * 7
    for offset in range(days):
        day = DELIVERY_START + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            ident = f"dep-{len(deployments) + 1}"
            minutes = rng.randrange(9 * 60, 17 * 60, 15)
            finished = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                minutes=minutes
            )
            environment = "staging" if rng.random() < 0.1 else "production"
            result = "failure" if rng.random() < 0.05 else "success"
            deployments.append((ident, environment, iso(finished), result))
            median = 60 - 42 * offset / days
            for k in range(rng.randint(1, 4)):
                hours = rng.lognormvariate(math.log(median), 0.6)
                changes.append((f"{ident}-c{k + 1}", iso(finished - timedelta(hours=hours)), ident))
            if environment == "production" and result == "success" and rng.random() < 0.12:
                created = finished + timedelta(hours=rng.uniform(0.5, 6))
                restored = created + timedelta(hours=rng.lognormvariate(math.log(3), 0.8))
                incidents.append((f"inc-{len(incidents) + 1}", iso(created), iso(restored), ident))
    if incidents:
        incidents[-1] = (*incidents[-1][:2], "", incidents[-1][3])  # still open
    tables = {
        "deployments": (("deployment_id", "environment", "finished_at", "result"), deployments),
        "changes": (("change_id", "committed_at", "deployment_id"), changes),
        "incidents": (("incident_id", "created_at", "resolved_at", "deployment_id"), incidents),
    }
    paths = {}
    for kind, (header, rows) in tables.items():
        paths[kind] = folder / f"{kind}.csv"
        with paths[kind].open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
    return paths


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(ws: Workspace) -> Iterator[str]:
    """``obeya serve`` on a free port while the block runs; its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (ws.home / "serve.log").open("w", encoding="utf-8")
    server = subprocess.Popen(
        [obeya_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=ws.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(server, url, ws.home / "serve.log")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until the server answers anything at all (401 included: everything needs sign-in)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"obeya serve stopped:\n{log.read_text(encoding='utf-8')}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"obeya serve did not answer on {url} within 60 s")


def sign_in(page: Page, ws: Workspace, url: str) -> None:
    """Open a one-time sign-in link for USER and press its button, as a person does."""
    printed = ws.obeya("user", "link", USER, "--url", url)
    match = re.search(r"https?://\S+/sign-in/link\?token=\S+", printed)
    if match is None:
        raise RuntimeError(f"`obeya user link` printed no link:\n{printed}")
    page.goto(match.group(0))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{url}/")


@dataclass
class Trouble:
    """What went wrong on the pages: script errors, console errors, failed requests."""

    seen: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.seen.append(f"{page.url}: error: {error}"))
        page.on(
            "console",
            lambda m: (
                self.seen.append(f"{page.url}: console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: self.seen.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )


def wait_for_charts(page: Page) -> None:
    """Every Vega chart of the page drawn (a canvas or an SVG in each [data-chart])."""
    page.wait_for_load_state("networkidle")
    try:
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-chart]')].every(
                   (chart) => chart.querySelector('canvas, svg') || chart.textContent.trim())""",
            timeout=60_000,
        )
    except PlaywrightTimeout:
        print(f"warning: a chart of {page.url} was not drawn within 60 s", file=sys.stderr)
    page.wait_for_timeout(500)  # vega-embed's last layout pass


def snap(page: Page, name: str, until: str | None = None) -> Path:
    """Screenshot the page, 1400 px wide, to docs/img/NAME.png: down to the bottom of the
    last element ``until`` matches, else the whole page; a longer one is cut below the last
    card that fits in MAX_HEIGHT. A page that shows an error is not written."""
    wait_for_charts(page)
    errors = page.locator("main .alert-error")
    if errors.count():
        raise RuntimeError(f"{page.url} shows an error: {errors.first.inner_text()}")
    page.evaluate("window.scrollTo(0, 0)")
    path = IMAGES / f"{name}.png"
    page.screenshot(
        path=path,
        full_page=True,
        animations="disabled",
        clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height(page, until)},
    )
    return path


def height(page: Page, until: str | None) -> int:
    """How much of the page to show (see :func:`snap`)."""
    if until is not None:
        box = page.locator(until).last.bounding_box()
        if box is not None and box["y"] + box["height"] <= MAX_HEIGHT:
            return int(box["y"] + box["height"] + MARGIN)
    whole = int(page.evaluate("document.documentElement.scrollHeight"))
    if whole <= MAX_HEIGHT:
        return whole
    bottoms = page.evaluate(
        """() => [...document.querySelectorAll('main .card')].map(
               (card) => card.getBoundingClientRect().bottom + window.scrollY)"""
    )
    fitting = [bottom for bottom in bottoms if bottom + MARGIN <= MAX_HEIGHT]
    return int(max(fitting) + MARGIN) if fitting else MAX_HEIGHT


def stream_url(suffix: str = "") -> str:
    return f"/streams/{quote(STREAM)}{suffix}"


def map_url(suffix: str = "") -> str:
    return f"/maps/{quote(MAP)}{suffix}"


def dashboard(page: Page) -> Path:
    page.goto(stream_url())
    return snap(page, "dashboard")


def map_current(page: Page) -> Path:
    page.goto(map_url("/current"))
    return snap(page, "map-current")


def map_compare(page: Page) -> Path:
    page.goto(map_url(f"/compare?variants=current,{FUTURE}"))
    return snap(page, "map-compare")


def forecast(page: Page) -> Path:
    """The dashboard's Forecast button, then the form's own Forecast: its defaults, and
    FORECAST_ITEMS items to do."""
    page.goto(stream_url())
    page.locator("main").get_by_role("link", name="Forecast", exact=True).click()
    page.wait_for_url(re.compile(r"/forecast$"))
    form = page.get_by_role("form", name="Forecast options")
    form.get_by_label("Items still to do").fill(FORECAST_ITEMS)
    form.get_by_role("button", name="Forecast", exact=True).click()
    page.wait_for_url(re.compile(r"/forecast\?"), timeout=RUN_TIMEOUT_MS)
    return snap(page, "forecast")


def simulate(page: Page) -> Path:
    """The future variant's Simulate button (the current map, as discovered, opens the twin
    instead); a run short enough for the server's budget, with its people at FUTURE_STEP
    raised again against the variant's own; Run."""
    page.goto(map_url("/future"))
    page.locator("main").get_by_role("link", name="Simulate", exact=True).click()
    page.wait_for_url(re.compile(r"/simulate\?map="))
    for key, value in SIMULATION_RUN.items():
        page.locator(f"#sim-{key}").fill(value)
    row = page.locator("tr", has=page.get_by_role("rowheader", name=FUTURE_STEP, exact=True))
    servers = row.locator("input[name$='-servers']")
    servers.fill(str(round(float(servers.input_value()) * FUTURE_PEOPLE_FACTOR)))
    page.get_by_role("button", name="Run", exact=True).click()
    results = "#sim-results [data-chart], #sim-results .alert-error"
    page.locator(results).first.wait_for(timeout=RUN_TIMEOUT_MS)
    return snap(page, "simulate")


def twin(page: Page) -> Path:
    """Check the twin with the defaults, then What if? with one more person at the step the
    page offers first. Each form submits only its own fields, so the page is opened last with
    both queries, to show the check and the what-if together as the docs describe."""
    page.goto(stream_url("/twin"))
    page.get_by_role("button", name="Check the twin", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]holdout="), timeout=RUN_TIMEOUT_MS)
    check_query = query(page.url)
    steps = page.locator("#tw-more option:not([value=''])")
    page.locator("#tw-more").select_option(steps.first.get_attribute("value") or "")
    page.get_by_role("button", name="What if?", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]more_people="), timeout=RUN_TIMEOUT_MS)
    what_if_query = query(page.url)
    page.goto(stream_url(f"/twin?{check_query}&{what_if_query}"), timeout=RUN_TIMEOUT_MS)
    return snap(page, "twin", until="#what-if")


def delivery(page: Page) -> Path:
    """The DORA page of the generated deliveries: their whole span, the weekly chart."""
    page.goto(f"/streams/{quote(DELIVERY_STREAM)}/delivery")
    return snap(page, "delivery", until="#counts")


def query(url: str) -> str:
    """The query string of ``url``, without the fragment."""
    return urlsplit(url).query


PAGES = (dashboard, map_current, map_compare, forecast, simulate, twin, delivery)


def shoot(
    browser: Browser, ws: Workspace, url: str, trouble: Trouble, names: list[str]
) -> list[Path]:
    context = browser.new_context(viewport=VIEWPORT, base_url=url)
    context.set_default_timeout(60_000)
    context.set_default_navigation_timeout(RUN_TIMEOUT_MS)
    page = context.new_page()
    trouble.watch(page)
    try:
        sign_in(page, ws, url)
        written = []
        for take in [p for p in PAGES if not names or p.__name__ in names]:
            started = time.monotonic()
            path = take(page)
            print(f"  {path.name} ({time.monotonic() - started:.1f} s)", flush=True)
            written.append(path)
        return written
    finally:
        context.close()


def size(path: Path) -> str:
    with path.open("rb") as png:
        header = png.read(24)
    width, height = int.from_bytes(header[16:20]), int.from_bytes(header[20:24])
    return f"{width}×{height} px, {path.stat().st_size / 1024:,.0f} KiB"


def main(names: list[str]) -> int:
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium, or OBEYA_CHROMIUM)")
        return 1
    unknown = sorted(set(names) - {p.__name__ for p in PAGES})
    if unknown:
        print(f"no page {', '.join(unknown)}: give some of {', '.join(p.__name__ for p in PAGES)}")
        return 2
    started = time.monotonic()
    trouble = Trouble()
    try:
        written = regenerate(trouble, names)
    finally:
        for line in dict.fromkeys(trouble.seen):
            print(f"seen on the pages: {line}", file=sys.stderr)
    for path in written:
        print(f"wrote {path.relative_to(ROOT)}: {size(path)}")
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


def regenerate(trouble: Trouble, names: list[str]) -> list[Path]:
    """The workspace, the server and the browser, for as long as the screenshots take."""
    with tempfile.TemporaryDirectory(prefix="obeya-doc-images-") as home:
        ws = Workspace(Path(home))
        print(f"workspace {home}: the sample and its maps", flush=True)
        prepare(ws)
        with serving(ws) as url, sync_playwright() as driver:
            print(f"serving at {url}; screenshots:", flush=True)
            browser = driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            try:
                return shoot(browser, ws, url, trouble, names)
            finally:
                browser.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
