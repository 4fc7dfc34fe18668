"""Load test: the flow-dashboard API under concurrent clients, on SQLite and on PostgreSQL.

For each store a stream of about ``--events`` events (the synthetic log of
``bench/synthetic.py``, generated once and cached in ``--cache`` as ``bench/flow.py`` does) is
imported into a fresh store with ``obeya import`` (timed, but not part of the load figures):

- **SQLite**: ``obeya.db`` in a temporary ``OBEYA_HOME``;
- **PostgreSQL**: a dedicated database ``obeya_load`` on ``--postgres`` (dropped first if left
  over, ``VACUUM ANALYZE``d after the import as autovacuum would, dropped at the end).

Then ``obeya serve`` (the installed CLI) starts as a separate process on a free loopback port
with ``OBEYA_DATABASE_URL`` pointing at the store, and this process, once ``/api/health``
answers, measures:

- **cold**: the first ``/api/streams/{name}/flow`` (the app computes the flow report) and the
  first chart (the report again, with its per-item lists): the app caches reports
  (``ReportCache`` in ``obeya/api/deps.py``), so these are paid once per report and process;
- **alone**: each URL once more, one at a time: a warm request with no contention;
- **load**: ``--clients`` concurrent clients (``aiohttp``, closed loop, no think time:
  each sends its next request when the last one answers) for ``--seconds`` seconds, in two
  mixes: *flow* (the flow document only) and *dashboard* (the flow document and the eight
  charts the dashboard shows, each client cycling through the nine URLs). Requests in flight
  at the end are awaited and counted. Every latency is recorded; an error is a non-2xx answer,
  a timeout (``--timeout``) or any other exception.

Responses are gzip-compressed as a browser would ask (httpx sends ``Accept-Encoding: gzip``).
The server and the load generator share the machine's cores: the table gives the CPU each used
during the load (1.00 = one core busy all the time). Percentiles are nearest-rank.

Target (issue 6): p95 ≤ 200 ms and no errors at 50 clients, on both stores.

Usage: ``python bench/load.py [--events 1000000] [--clients 50] [--seconds 30]
[--only sqlite|postgres] [--workers N] [--markdown]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiohttp
import httpx

from flow import Log, ensure_log
from report import machine, render_markdown, render_text

BENCH = Path(__file__).resolve().parent
VENV_BIN = BENCH.parent / ".venv" / "bin"
STREAM = "load"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_DATABASE = "obeya_load"
#: The synthetic generator's events per item at its defaults: ~13.0 (10,000 to 77,000 items).
EVENTS_PER_ITEM = 13.0
#: What the dashboard page shows (``DASHBOARD`` in ``obeya/web/pages.py``), in its order.
DASHBOARD_CHARTS = (
    "cumulative-flow",
    "cycle-time-scatter",
    "cycle-time-histogram",
    "throughput",
    "wip",
    "aging-wip",
    "flow-distribution",
    "time-in-state",
)
FLOW_PATH = f"/api/streams/{STREAM}/flow"
MIXES: dict[str, tuple[str, ...]] = {
    "flow": (FLOW_PATH,),
    "dashboard": (FLOW_PATH, *(f"/api/streams/{STREAM}/charts/{c}" for c in DASHBOARD_CHARTS)),
}
TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
TARGET_P95_MS = 200.0


@dataclass(frozen=True)
class Sample:
    """One request: latency in seconds, whether it succeeded, bytes on the wire."""

    seconds: float
    ok: bool
    wire_bytes: int = 0
    error: str = ""


@dataclass
class Result:
    """One mix on one store under load."""

    backend: str
    mix: str
    samples: list[Sample]
    wall: float  # seconds from the first request to the last answer
    server_cpu: float  # server CPU seconds over ``wall`` (1.0 = one core)
    database_cpu: float  # PostgreSQL's backends for the load database, likewise
    client_cpu: float  # this process's, likewise

    @property
    def errors(self) -> int:
        return sum(not s.ok for s in self.samples)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of all latencies, in milliseconds."""
        ordered = sorted(s.seconds for s in self.samples)
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def met(self) -> bool:
        return self.errors == 0 and self.percentile(95) <= TARGET_P95_MS


@dataclass
class Store:
    """A prepared store: the environment ``obeya`` needs to reach it, and how to drop it."""

    backend: str
    env: dict[str, str]
    import_seconds: float
    cleanup: Callable[[], None]
    cold: dict[str, float] = field(default_factory=dict)  # label -> seconds
    alone: dict[str, float] = field(default_factory=dict)  # path -> seconds, warm, unloaded


# --- the stores -----------------------------------------------------------------------------


def import_log(log: Log, env: dict[str, str]) -> float:
    """``obeya import`` the log into the store ``env`` names; its wall seconds."""
    command = [str(VENV_BIN / "obeya"), "import", str(log.csv), "--stream", STREAM]
    command += ["--workflow", str(log.workflow)]
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def prepare_sqlite(log: Log) -> Store:
    home = tempfile.TemporaryDirectory(prefix="obeya-load-")
    url = f"sqlite:///{Path(home.name) / 'obeya.db'}"
    env = {**os.environ, "OBEYA_HOME": home.name, "OBEYA_DATABASE_URL": url}
    seconds = import_log(log, env)
    return Store("sqlite", env, seconds, home.cleanup)


def prepare_postgres(log: Log, server_url: str) -> Store:
    import psycopg

    # psycopg wants a plain libpq URL: drop SQLAlchemy's "+psycopg" driver suffix.
    admin = server_url.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
    database_url = server_url.rsplit("/", 1)[0] + f"/{POSTGRES_DATABASE}"
    env = {**os.environ, "OBEYA_DATABASE_URL": database_url}
    env.pop("OBEYA_HOME", None)
    seconds = import_log(log, env)
    # Autovacuum would do this soon after a large import; doing it now makes runs comparable.
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")

    return Store("postgres", env, seconds, drop)


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(store: Store, port: int, workers: int, log_file: Path) -> subprocess.Popen[bytes]:
    """``obeya serve --workers N`` in its own process group."""
    command = [str(VENV_BIN / "obeya"), "serve", "--port", str(port), "--no-sign-in-link"]
    command += ["--workers", str(workers)]
    with log_file.open("wb") as out:
        return subprocess.Popen(
            command, env=store.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2, headers=HEADERS).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {base}/api/health in {timeout:g} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def cpu_seconds(pids: set[int] | None = None, pgid: int | None = None) -> dict[int, float]:
    """User + system CPU seconds of each live process that is in ``pids`` or in process
    group ``pgid`` (the server and, with several workers, its children)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, pgrp, ... utime is field 14, stime 15.
        if int(entry.name) in (pids or ()) or int(fields[2]) == pgid:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two :func:`cpu_seconds` readings (a process gone by the second
    reading is lost: the servers and the pooled database backends live throughout)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def database_backends(store: Store) -> set[int]:
    """The PostgreSQL backends serving the load database (their CPU is the database's
    share of the work); none for SQLite, which runs inside the server."""
    if store.backend != "postgres":
        return set()
    import psycopg

    url = store.env["OBEYA_DATABASE_URL"].replace("+psycopg", "")
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (POSTGRES_DATABASE,),
        ).fetchall()
    return {int(pid) for (pid,) in rows}


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the load -------------------------------------------------------------------------------


async def timed_get(client: aiohttp.ClientSession, path: str) -> Sample:
    began = time.perf_counter()
    try:
        # The bytes as sent (gzipped): decompressing is the browser's work, and in the one
        # process that plays 50 clients it would cost more than the server's answer.
        async with client.get(path) as response:
            body = await response.read()
            status, encoding = response.status, response.headers.get("Content-Encoding")
    except Exception as exc:  # every failure counts as an error, whatever its kind
        return Sample(time.perf_counter() - began, False, error=type(exc).__name__)
    seconds = time.perf_counter() - began
    ok = 200 <= status < 300
    error = "" if ok else f"HTTP {status}: {error_message(body, encoding)}"
    return Sample(seconds, ok, len(body), error)


def error_message(body: bytes, encoding: str | None) -> str:
    """The start of the app's error message (``{"error": {"message"}}``), to tell failures
    apart."""
    if encoding == "gzip":
        body = gzip.decompress(body)
    text = body.decode(errors="replace")
    try:
        message = str(json.loads(text)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = text
    return message[:90]


#: The Authorization header of the token the load signs in with (one per store).
HEADERS: dict[str, str] = {}


def sign_in(store: Store) -> None:
    """A viewer of the stream with an API token, as a dashboard's client would be: every
    request then pays for its token check, as in real use."""
    command = [str(VENV_BIN / "obeya"), "user", "add", "loadtest", "--role", "viewer"]
    run = partial(subprocess.run, env=store.env, check=True, capture_output=True, text=True)
    run([*command, "--stream", STREAM, "--no-password"])
    token = run([str(VENV_BIN / "obeya"), "token", "create", "loadtest"]).stdout.strip()
    HEADERS["Authorization"] = f"Bearer {token}"


def client_for(base: str, clients: int, timeout: float) -> aiohttp.ClientSession:
    """``clients`` kept-alive connections. aiohttp, not httpx: its C parser lets one
    process play 50 clients without becoming the bottleneck (httpx used a whole core at
    ~180 requests a second here, and the latencies measured its own queue)."""
    return aiohttp.ClientSession(
        base_url=base,
        connector=aiohttp.TCPConnector(limit=clients),
        timeout=aiohttp.ClientTimeout(total=timeout),
        headers={**HEADERS, "Accept-Encoding": "gzip"},
        auto_decompress=False,
    )


async def run_load(
    base: str, paths: Sequence[str], clients: int, seconds: float, timeout: float
) -> tuple[list[Sample], float]:
    """``clients`` closed-loop clients for ``seconds``; every sample and the wall seconds."""
    samples: list[Sample] = []
    async with client_for(base, clients, timeout) as client:
        began = time.perf_counter()
        deadline = began + seconds

        async def one_client(offset: int) -> None:
            n = offset  # spread the clients over the mix, as many dashboards would
            while time.perf_counter() < deadline:
                samples.append(await timed_get(client, paths[n % len(paths)]))
                n += 1

        await asyncio.gather(*(one_client(i) for i in range(clients)))
        return samples, time.perf_counter() - began


async def warm(base: str, paths: Sequence[str], workers: int, timeout: float) -> dict[str, float]:
    """Compute the reports in every worker; then each path alone, best of three (seconds)."""
    async with client_for(base, 4 * workers, timeout) as client:
        if workers > 1:
            # Each worker has its own report cache; new connections spread over the workers.
            for _ in range(3):
                batch = [timed_get(client, p) for p in paths for _ in range(2 * workers)]
                await asyncio.gather(*batch)
        alone: dict[str, float] = {}
        for path in paths:
            runs = [await timed_get(client, path) for _ in range(3)]
            if not all(run.ok for run in runs):
                raise RuntimeError(f"{path}: {runs[-1].error}")
            alone[path] = min(run.seconds for run in runs)
        return alone


def measure_store(store: Store, args: argparse.Namespace, work: Path) -> list[Result]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sign_in(store)
    server = start_server(store, port, args.workers, work / f"serve-{store.backend}.log")
    results = []
    try:
        wait_healthy(base, server)
        # Cold: the first flow document computes the report; the first chart, the report with
        # its per-item lists (a second cache entry).
        chart = f"/api/streams/{STREAM}/charts/{DASHBOARD_CHARTS[0]}"
        for label, path in (("flow", FLOW_PATH), ("chart", chart)):
            sample = asyncio.run(one_request(base, path, args.timeout))
            if not sample.ok:
                raise RuntimeError(f"cold {path}: {sample.error}")
            store.cold[label] = sample.seconds
        store.alone = asyncio.run(warm(base, MIXES["dashboard"], args.workers, args.timeout))
        for mix in args.mixes:
            backends = database_backends(store)
            cpu_server, cpu_database = cpu_seconds(pgid=server.pid), cpu_seconds(backends)
            cpu_client = own_cpu_seconds()
            samples, wall = asyncio.run(
                run_load(base, MIXES[mix], args.clients, args.seconds, args.timeout)
            )
            server_cpu = cpu_used(cpu_server, cpu_seconds(pgid=server.pid)) / wall
            # Backends the pool opened during the load count from zero.
            backends |= database_backends(store)
            database_cpu = cpu_used(cpu_database, cpu_seconds(backends)) / wall
            client_cpu = (own_cpu_seconds() - cpu_client) / wall
            result = Result(store.backend, mix, samples, wall, server_cpu, database_cpu, client_cpu)
            results.append(result)
            print(
                f"  {TITLES[store.backend]} {mix}: {len(samples):,} requests, "
                f"{result.errors} errors, p95 {result.percentile(95):,.0f} ms",
                file=sys.stderr,
            )
    finally:
        stop_server(server)
    return results


async def one_request(base: str, path: str, timeout: float) -> Sample:
    async with client_for(base, 1, timeout) as client:
        return await timed_get(client, path)


# --- the report -----------------------------------------------------------------------------


def load_table(results: list[Result]) -> list[list[str]]:
    rows = [
        [
            "store / mix",
            "requests",
            "errors",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "KiB/resp (gzip)",
            "server CPU",
            "PostgreSQL CPU",
            "load CPU",
            "target",
        ]
    ]
    for r in results:
        wire = sum(s.wire_bytes for s in r.samples if s.ok) / max(1, len(r.samples) - r.errors)
        rows.append(
            [
                f"{TITLES[r.backend]} / {r.mix}",
                f"{len(r.samples):,}",
                f"{r.errors:,}",
                f"{len(r.samples) / r.wall:,.1f}",
                *(f"{r.percentile(p):,.0f}" for p in (50, 95, 99, 100)),
                f"{wire / 1024:,.0f}",
                f"{r.server_cpu:.2f}",
                f"{r.database_cpu:.2f}" if r.backend == "postgres" else "—",
                f"{r.client_cpu:.2f}",
                "PASS" if r.met else "FAIL",
            ]
        )
    return rows


def single_table(stores: list[Store]) -> list[list[str]]:
    """Import time, the cold requests and each URL alone, one column per store."""
    rows = [["one request at a time", *(f"{TITLES[s.backend]} ms" for s in stores)]]
    rows.append(["import (s, not a request)", *(f"{s.import_seconds:.1f}" for s in stores)])
    rows.append(["cold flow (computes report)", *(f"{1000 * s.cold['flow']:,.0f}" for s in stores)])
    rows.append(
        ["cold chart (report + items)", *(f"{1000 * s.cold['chart']:,.0f}" for s in stores)]
    )
    for path in MIXES["dashboard"]:
        label = "warm " + path.rsplit("/", 1)[1]
        rows.append([label, *(f"{1000 * s.alone[path]:,.0f}" for s in stores)])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the stream")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration per mix")
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one store only")
    parser.add_argument("--mix", default="flow,dashboard", help="mixes: flow, dashboard")
    parser.add_argument("--workers", type=int, default=1, help="server processes (uvicorn)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--postgres", default=POSTGRES_URL, help="PostgreSQL server URL")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/obeya-bench"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args(argv)
    args.mixes = [m for m in args.mix.split(",") if m]
    unknown = set(args.mixes) - set(MIXES)
    if unknown:
        parser.error(f"unknown mix {', '.join(sorted(unknown))}; the mixes are: flow, dashboard")

    args.cache.mkdir(parents=True, exist_ok=True)
    # Rounded to a thousand items, so nearby sizes share one cached log.
    items = max(1000, round(args.events / EVENTS_PER_ITEM / 1000) * 1000)
    log = ensure_log(items, args.cache, args.seed)
    print(f"{log.items:,} items, {log.events:,} events: {log.csv}", file=sys.stderr)

    backends = [args.only] if args.only else ["sqlite", "postgres"]
    stores: list[Store] = []
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="obeya-load-logs-") as work:
        for backend in backends:
            print(f"{TITLES[backend]}: importing ...", file=sys.stderr)
            if backend == "sqlite":
                store = prepare_sqlite(log)
            else:
                store = prepare_postgres(log, args.postgres)
            print(f"  imported in {store.import_seconds:.1f} s", file=sys.stderr)
            try:
                results += measure_store(store, args, Path(work))
            except RuntimeError as exc:
                server_log = Path(work) / f"serve-{backend}.log"
                tail = server_log.read_text(errors="replace")[-2000:] if server_log.exists() else ""
                print(f"{TITLES[backend]}: not measured: {exc}\n{tail}", file=sys.stderr)
                continue
            finally:
                store.cleanup()
            stores.append(store)

    render = render_markdown if args.markdown else render_text
    prefix = "- " if args.markdown else ""
    print(render(load_table(results)))
    print()
    if stores:
        print(render(single_table(stores)))
        print()
    server = f"obeya serve --workers {args.workers}"
    print(
        f"{prefix}{log.events:,} events ({log.items:,} items); {args.clients} closed-loop "
        f"clients, {args.seconds:g} s per mix after a warm-up; server: {server}."
    )
    print(
        f"{prefix}Server and load generator share the machine: {machine()}. "
        "CPU columns: cores busy on average (server: its process group, SQLite included; "
        "PostgreSQL: its backends for the load database; load: this process)."
    )
    for r in results:
        kinds = sorted({s.error for s in r.samples if not s.ok})
        verdict = (
            f"p95 {r.percentile(95):,.0f} ms ≤ {TARGET_P95_MS:g} ms: "
            f"{'PASS' if r.percentile(95) <= TARGET_P95_MS else 'FAIL'}; "
            f"no errors: {'PASS' if r.errors == 0 else 'FAIL (' + ', '.join(kinds) + ')'}"
        )
        print(f"{prefix}{TITLES[r.backend]} / {r.mix}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
