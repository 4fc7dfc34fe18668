"""Benchmark: a full Jira sync (``JiraSource.pull``) against the fake Jira over HTTP.

For each size the fake (``tests/connectors/fake_jira.py``) is generated in its own process
with ``--changes`` status changes per issue, every issue rendered beforehand, and served by
uvicorn on a free port; so the figures are the client's (requests, JSON, the event log) plus
what localhost HTTP costs, not the fake's rendering. The client runs here: one full pull (no
``since``), timed from the first request to the finished :class:`SyncBatch`; then the batch
stored in a fresh SQLite app store as ``obeya sync`` stores it (``store.connectors.save_sync``: one
transaction). Beside it, the baseline a user has without a connector: the same events
written to a CSV file and imported with ``Workspace.import_file`` (``obeya import``).

Target (the connector's issue): 50,000 issues with 1M changelog entries within 60 s on 2 cores.

Usage: ``python bench/jira_sync.py [--sizes 5000,50000] [--changes 20] [--data-center]
[--markdown]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import MIB, machine, python_for_project, render_markdown, render_text

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
TOKEN = "bench-token"


def start_fake(issues: int, changes: int, data_center: bool) -> tuple[subprocess.Popen[str], str]:
    """The fake Jira in a child process, once it listens; returns the process and its URL."""
    command = [
        python_for_project(),
        "-m",
        "connectors.fake_jira",
        "--issues",
        str(issues),
        "--changes",
        str(changes),
        "--token",
        TOKEN,
    ]
    if data_center:
        command.append("--data-center")
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if not line.startswith("READY "):
        child.kill()
        raise RuntimeError(f"the fake Jira did not start: {line!r}")
    return child, line.removeprefix("READY ")


def sync(url: str, data_center: bool, store_dir: Path) -> dict[str, float | int]:
    """One full pull and its storing, and the file import of the same events."""
    from datetime import UTC, datetime

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    from obeya.connectors.jira import JiraConfig, JiraSource
    from obeya.workspace import Workspace

    config = JiraConfig(
        name="bench",
        url=url,
        jql="project = PAY",
        email=None if data_center else "ann@example.com",
        token=TOKEN,
    )
    source = JiraSource(config)
    began = time.perf_counter()
    batch = source.pull(None)
    pulled = time.perf_counter() - began
    with Workspace(f"sqlite:///{store_dir / 'sync.db'}") as ws:
        ws.initialise()
        ws.store.connectors.add("bench", "jira", "Bench", {}, "BENCH_TOKEN")
        began = time.perf_counter()
        ws.store.connectors.save_sync("bench", batch, started=datetime.now(UTC))
        stored = time.perf_counter() - began
    table = batch.events.table.select(["item_id", "state", "t", "type"])
    stamps = table.column("t").cast(pa.timestamp("us", tz="UTC"))
    csv_file = store_dir / "events.csv"
    pa_csv.write_csv(table.set_column(2, "timestamp", stamps), csv_file)
    with Workspace(f"sqlite:///{store_dir / 'file.db'}") as ws:
        ws.initialise()
        began = time.perf_counter()
        ws.import_file(csv_file, "Bench")
        imported = time.perf_counter() - began
    return {
        "pull": pulled,
        "store": stored,
        "file": imported,
        "issues": batch.items,
        "events": batch.events.num_events,
        "requests": source.requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5000,50000", help="issues per run, comma-separated")
    parser.add_argument("--changes", type=int, default=20, help="status changes per issue")
    parser.add_argument("--data-center", action="store_true", help="API 2, startAt pages")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))

    rows = [
        [
            "issues",
            "changes",
            "events",
            "requests",
            "pull s",
            "store s",
            "sync s",
            "events/s",
            "file import s (baseline)",
            "peak",
        ]
    ]
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"generating {size:,} issues × {args.changes} changes …", file=sys.stderr)
        child, url = start_fake(size, args.changes, args.data_center)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                found = sync(url, args.data_center, Path(tmp))
        finally:
            child.terminate()
            child.wait(timeout=30)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MIB
        total = found["pull"] + found["store"]
        rows.append(
            [
                f"{found['issues']:,}",
                f"{size * args.changes:,}",
                f"{found['events']:,}",
                f"{found['requests']:,}",
                f"{found['pull']:.1f}",
                f"{found['store']:.1f}",
                f"{total:.1f}",
                f"{found['events'] / total:,.0f}",
                f"{found['file']:.1f}",
                f"{peak:,.0f} MiB",
            ]
        )
        print(render_text([rows[0], rows[-1]]), file=sys.stderr)
    flavour = "Data Center" if args.data_center else "Cloud"
    print(f"Jira {flavour} full sync against the fake over HTTP; {machine()}")
    print(render_markdown(rows) if args.markdown else render_text(rows))


if __name__ == "__main__":
    main()
