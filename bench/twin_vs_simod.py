"""Obeya's twin under the peer benchmark's protocol (bench/simod/README.md), scored by the same
``score.py``: the first 80 % of the cases by start fit the twin (cut just before the first test
case starts), the twin runs forward with its own arrivals, and the first N new items of each
replication — N = the test log's cases, as Simod simulates — are written in the export format
(``replication,item_id,state,timestamp,assignee``) and scored with the cycle-time distribution
distance (1-hour bins) against the test cases. The run lasts until nearly every one of those
items has finished (up to ``--max-days``).

Usage: ``python bench/twin_vs_simod.py [helpdesk|bpic2013 ...] [--replications 5]``; scoring
needs ``bench/simod/.venv`` (``bench/simod/setup.sh``); without it the export is written and the
command to score it printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIMOD = ROOT / "bench" / "simod"
OUT = ROOT / "bench" / "out"


def load(dataset: str) -> tuple[object, object]:
    from obeya.core.workflow import Workflow
    from obeya.core.workflow_infer import infer_workflow
    from obeya.ingest import ColumnMap, read_events

    if dataset == "helpdesk":
        log = read_events(ROOT / "tests" / "datasets" / "helpdesk.xes.gz")
        return log, infer_workflow(log)[0]
    columns = ColumnMap(item_id="case_id", state="status", assignee="resource", team="group")
    log = read_events(
        ROOT / "tests" / "datasets" / "bpic2013_incidents_transitions.csv.gz", columns=columns
    )
    return log, Workflow.from_toml(ROOT / "src" / "obeya" / "samples" / "bpic2013_workflow.toml")


def export(dataset: str, replications: int, max_days: float) -> tuple[Path, dict[str, float]]:
    from obeya.core.events import from_micros
    from obeya.core.twin.engine import run_twin
    from obeya.core.twin.fit import fit_twin

    log, workflow = load(dataset)
    table = log.table.group_by("item_id").aggregate([("t", "min")])
    ids = table.column("item_id").to_pylist()
    starts = table.column("t_min").to_numpy()
    order = sorted(range(len(ids)), key=lambda i: (starts[i], ids[i]))
    n_train = int(0.8 * len(ids))
    cut = from_micros(int(starts[order[n_train]])) - timedelta(microseconds=1)
    n_test = len(ids) - n_train
    began = time.perf_counter()
    twin = fit_twin(log, workflow, as_of=cut)
    fitted = time.perf_counter() - began
    days = min(max_days, max(60.0, 4 * n_test / max(twin.arrivals.per_week / 7, 1e-9)))
    run = run_twin(twin, days=days, replications=replications, seed=1)
    ran = time.perf_counter() - began - fitted
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"twin_{dataset}.csv"
    names = [s.name for s in twin.states]
    first_new = len(twin.items)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["replication", "item_id", "state", "timestamp", "assignee"])
        for r, rep in enumerate(run.replications):
            keep = (rep.item >= first_new) & (rep.item < first_new + n_test)
            seconds = np.round(rep.t[keep] * 3600).astype("int64").astype("datetime64[s]")
            stamps = np.datetime_as_string(seconds, unit="s")
            for i, s, stamp in zip(
                rep.item[keep].tolist(), rep.state[keep].tolist(), stamps.tolist(), strict=True
            ):
                writer.writerow([r, f"new-{i - first_new + 1}", names[s], f"{stamp}Z", ""])
    return path, {"fit_seconds": fitted, "run_seconds": ran, "days": days, "test_cases": n_test}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=["helpdesk", "bpic2013"])
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--max-days", type=float, default=3650.0)
    args = parser.parse_args()
    python = SIMOD / ".venv" / "bin" / "python"
    for dataset in args.datasets:
        path, timing = export(dataset, args.replications, args.max_days)
        command = [
            str(python),
            str(SIMOD / "score.py"),
            "--log",
            dataset,
            "--simulated",
            str(path),
            "--format",
            "obeya",
            "--json",
        ]
        if not python.exists():
            print(f"{dataset}: written {path}; score with: {' '.join(command)}")
            continue
        scored = json.loads(
            subprocess.run(command, check=True, capture_output=True, text=True, cwd=SIMOD).stdout
        )
        print(json.dumps({"dataset": dataset, **timing, "score": scored}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
