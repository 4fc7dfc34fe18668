"""Benchmark: a large history read in place from Parquet, on DuckDB and on Spark side by side.

For each size a synthetic history (``bench/synthetic.py``: long-tailed stays, loops, items
still open at export) is written once into ``--cache`` in the layout ``obeya export
--events-parquet`` writes: the store's columns (times in integer microseconds UTC, ``seq`` the
order of events), partitioned by month. Then each engine computes the full flow report in a
fresh process, ``obeya metrics DIR --workflow W --engine E --json``: wall time, and the peak
resident memory of the whole process tree (Spark's JVM included), sampled from /proc every
0.2 s. The engines' documents are compared (less ``source``): Spark must give DuckDB's figures.
Spark's session start-up is measured once, in a fresh process, and shown taken off its runs.
A server that keeps its session pays less again: its JVM has compiled Spark's hot code on
earlier reports. So each engine also computes the report in a process that has first served
another stream's (the bundled sample's, with its own workflow): the "warm" column.

Goal (issue "the same metrics on Spark", docs/scale.md): on this 2-core machine DuckDB computes
32M events in at most 60 s within 8 GiB; Spark ``local[2]`` finishes the same within 3× of
DuckDB (its start-up amortised), and its time per event falls as the history grows.

Usage: ``python bench/scale.py [--sizes 1500000,12000000,32000000] [--engines duckdb,spark]
[--spark-master local[2]] [--cache /tmp/obeya-scale]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

sys.path.insert(0, str(Path(__file__).parent))
import synthetic
from obeya.store.lakehouse import MONTH, month_of

EVENTS_PER_ITEM = 13.5
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Run:
    engine: str
    events: int
    seconds: float
    peak_bytes: int
    doc: dict[str, object]
    warm: float


def lake_for(events: int, cache: Path) -> tuple[Path, Path, int]:
    """The Parquet directory and workflow of a history of about ``events`` events (made once),
    and its exact number of events."""
    directory = cache / f"lake-{events}"
    workflow = cache / "synthetic.workflow.toml"
    workflow.write_text(synthetic.WORKFLOW_TOML, encoding="utf-8")
    done = directory / "_events"
    if done.exists():
        return directory, workflow, int(done.read_text())
    items = max(1, round(events / EVENTS_PER_ITEM))
    log = synthetic.generate(items)
    text = synthetic.to_arrow(log)
    n = log.num_events
    t = pa.array(log.t * 1_000_000, pa.int64())
    table = pa.table(
        {
            "item_id": text.column("item_id"),
            "state": text.column("state"),
            "t": t,
            "seq": pa.array(np.arange(n, dtype=np.int64)),
            "created": pa.nulls(n, pa.int64()),
            "type": text.column("type"),
            "title": pa.nulls(n, pa.string()),
            "team": pa.nulls(n, pa.string()),
            "assignee": pa.nulls(n, pa.string()),
        }
    )
    table = table.append_column(MONTH, month_of(t))
    ds.write_dataset(
        table,
        directory,
        format="parquet",
        partitioning=[MONTH],
        partitioning_flavor="hive",
        existing_data_behavior="delete_matching",
        file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
    )
    done.write_text(str(n))
    return directory, workflow, n


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * PAGE
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def warm(engine: str, directory: Path, workflow: Path, master: str) -> float:
    """Seconds of the report in a process that has served another stream's report first
    (this script again, with ``--warm``: :func:`warm_report`)."""
    command = [
        sys.executable, __file__, "--warm", engine, "--spark-master", master,
        "--workflow", str(workflow), str(directory),
    ]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def warm_report(engine: str, master: str, directory: Path, workflow: Path) -> float:
    """The bundled sample's report (its own workflow), then the report of ``directory``
    timed, on one backend: what a server that keeps its session pays."""
    from obeya.core.metrics.engine import (
        analyse_log,
        analyse_parquet,
        duckdb_backend,
        spark_backend,
    )
    from obeya.core.workflow import Workflow
    from obeya.ingest import read_events
    from obeya.workspace import SAMPLE_COLUMNS, SAMPLE_FILE, SAMPLE_WORKFLOW

    con = spark_backend(master) if engine == "spark" else duckdb_backend()
    sample = read_events(SAMPLE_FILE, columns=SAMPLE_COLUMNS)
    analyse_log(sample, Workflow.from_toml(SAMPLE_WORKFLOW), backend=con)
    started = time.perf_counter()
    analyse_parquet(directory, Workflow.from_toml(workflow), backend=con)
    return time.perf_counter() - started


def run(engine: str, directory: Path, workflow: Path, master: str, events: int) -> Run:
    command = [
        str(Path(sys.executable).with_name("obeya")), "metrics", str(directory),
        "--workflow", str(workflow), "--engine", engine, "--json",
    ]  # fmt: skip
    if engine == "spark":
        command += ["--spark-master", master]
    peak = 0
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.2):
            peak = max(peak, tree_rss(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{engine} failed on {directory} (exit {child.returncode})")
    doc = json.loads(out)
    doc.pop("source", None)
    return Run(engine, events, seconds, peak, doc, warm(engine, directory, workflow, master))


def spark_start(master: str) -> float:
    """Seconds a fresh process takes to start a Spark session and stop it: the start-up a
    long-running server (``OBEYA_ENGINE=spark obeya serve``) pays once."""
    code = (
        "from obeya.core.metrics.engine import spark_backend; "
        f"spark_backend({master!r})._session.stop()"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1500000,12000000,32000000")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/obeya-scale"))
    # A child of warm(): one engine's report of one directory, in a process that served
    # another report first; prints its seconds.
    parser.add_argument("--warm", choices=("duckdb", "spark"), help=argparse.SUPPRESS)
    parser.add_argument("--workflow", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("directory", type=Path, nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warm:
        print(warm_report(args.warm, args.spark_master, args.directory, args.workflow))
        return 0
    args.cache.mkdir(parents=True, exist_ok=True)
    engines = args.engines.split(",")
    start = spark_start(args.spark_master) if "spark" in engines else 0.0
    if start:
        print(f"Spark session start-up ({args.spark_master}), a fresh process: {start:.1f} s\n")
    print(
        "| events | engine | wall | less start-up | warm | peak memory | µs per event (warm) "
        "| same figures |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    ok = True
    for size in (int(s) for s in args.sizes.split(",")):
        directory, workflow, events = lake_for(size, args.cache)
        runs = [run(e, directory, workflow, args.spark_master, events) for e in engines]
        base = runs[0]
        for r in runs:
            same = "—" if r is base else ("yes" if r.doc == base.doc else "**no**")
            ok &= same != "**no**"
            net = r.seconds - (start if r.engine == "spark" else 0.0)
            print(
                f"| {r.events:,} | {r.engine} | {r.seconds:,.1f} s | {net:,.1f} s | "
                f"{r.warm:,.1f} s | {r.peak_bytes / 2**30:.2f} GiB | "
                f"{net / r.events * 1e6:.2f} ({r.warm / r.events * 1e6:.2f}) | {same} |",
                flush=True,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
