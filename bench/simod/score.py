"""Score a simulated log against a dataset's test cases: cycle-time distribution distance (CTD).

The measure, the same for every contender: ``log_distance_measures.cycle_time_distribution.
cycle_time_distribution_distance(original_log, original_ids, simulated_log, simulated_ids,
bin_size, metric=WASSERSTEIN, normalize=False)`` (log-distance-measures 2.2.0) with
``bin_size=pd.Timedelta(hours=1)``: each case's cycle time is ``max(end) − min(start)`` over its
rows, floored to 1-hour bins (counted from the smallest cycle time of both logs), and the result
is SciPy's Wasserstein distance between the two bin samples, so it reads in **hours**. The two
samples may differ in size. This is the call Simod itself makes for its
``cycle_time_distribution`` metric (``simod/metrics.py``, ``timedelta(hours=1)``).

- **Test side**: the dataset's last 20 % of cases by start (``split.py``); a case's cycle time is
  its last event's timestamp minus its first.
- ``--format simod`` (default): a CSV with ``case_id, start_time, end_time`` (other columns
  ignored), as Prosimos writes a simulated log (and as ``split.py``/``bootstrap.py`` write
  theirs). One file is one replication.
- ``--format obeya``: a CSV ``replication,item_id,state,timestamp[,assignee]``, ISO 8601 UTC, one
  row per state entry. An item's cycle time is its last row's timestamp minus its first (an item
  with one row counts, with 0). Each replication is scored separately (no ``replication`` column:
  one replication); every item in the file counts, so the file should hold the simulated test
  period's items only (as many as the test has, arriving from its first start, like Simod's).

Several files and/or replications: each is scored, and the **mean** is the figure reported
(min and max beside it).

Usage: ``python score.py --log DATASET --simulated FILE.csv [FILE.csv ...] [--format obeya|simod]
[--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import pandas as pd
from log_distance_measures.config import EventLogIDs
from log_distance_measures.cycle_time_distribution import cycle_time_distribution_distance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from split import DATASETS, cycle_times, load_split

BIN_SIZE = pd.Timedelta(hours=1)
IDS = EventLogIDs(
    case="case_id",
    activity="activity",
    start_time="start_time",
    end_time="end_time",
    resource="resource",
)
FORMATS = ("simod", "obeya")


def _ts(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True, format="ISO8601")


def test_cases(dataset: str) -> pd.DataFrame:
    """The test cases, one row each: case_id, start_time (first event), end_time (last event)."""
    _, test = load_split(dataset)
    ct = cycle_times(test)
    return pd.DataFrame(
        {"case_id": ct["case_id"], "start_time": ct["start"], "end_time": ct["end"]}
    )


def read_simulated(path: Path, fmt: str) -> list[tuple[str, pd.DataFrame]]:
    """(label, log with case_id, start_time, end_time) per replication in the file."""
    if fmt == "simod":
        log = pd.read_csv(path, usecols=["case_id", "start_time", "end_time"])
        log["start_time"] = _ts(log["start_time"])
        log["end_time"] = _ts(log["end_time"])
        return [(path.name, log)]
    if fmt == "obeya":
        raw = pd.read_csv(path, dtype={"item_id": str})
        missing = {"item_id", "state", "timestamp"} - set(raw.columns)
        if missing:
            raise ValueError(f"{path}: not Obeya's format, missing {sorted(missing)}")
        if "replication" not in raw.columns:
            raw["replication"] = 0
        raw["timestamp"] = _ts(raw["timestamp"])
        out = []
        for rep, rows in raw.groupby("replication", sort=True):
            g = rows.groupby("item_id")["timestamp"]
            log = pd.DataFrame({"start_time": g.min(), "end_time": g.max()}).reset_index()
            log = log.rename(columns={"item_id": "case_id"})
            out.append((f"{path.name}#replication={rep}", log))
        return out
    raise ValueError(f"format must be one of {FORMATS}")


def ctd_hours(test: pd.DataFrame, simulated: pd.DataFrame) -> float:
    """log-distance-measures' CTD with 1-hour bins: hours."""
    return float(cycle_time_distribution_distance(test, IDS, simulated, IDS, bin_size=BIN_SIZE))


def _mean_hours(log: pd.DataFrame) -> float:
    g = log.groupby("case_id")
    spans = g["end_time"].max() - g["start_time"].min()
    return float(spans.dt.total_seconds().mean() / 3600) if len(spans) else float("nan")


def score(
    dataset: str, files: list[Path], fmt: str = "simod", test: pd.DataFrame | None = None
) -> dict:
    test = test_cases(dataset) if test is None else test
    runs = []
    for path in files:
        for label, log in read_simulated(path, fmt):
            runs.append(
                {
                    "run": label,
                    "cases": int(log["case_id"].nunique()),
                    "mean_cycle_h": round(_mean_hours(log), 2),
                    "ctd_h": ctd_hours(test, log),
                }
            )
    values = [r["ctd_h"] for r in runs]
    return {
        "dataset": dataset,
        "format": fmt,
        "test_cases": len(test),
        "test_mean_cycle_h": round(_mean_hours(test), 2),
        "runs": runs,
        "ctd_h_mean": statistics.fmean(values),
        "ctd_h_min": min(values),
        "ctd_h_max": max(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", required=True, choices=sorted(DATASETS), help="the dataset")
    parser.add_argument("--simulated", required=True, nargs="+", type=Path)
    parser.add_argument("--format", choices=FORMATS, default="simod")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = score(args.log, args.simulated, args.format)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{args.log}: {result['test_cases']} test cases, "
        f"mean cycle time {result['test_mean_cycle_h']} h"
    )
    for r in result["runs"]:
        print(
            f"  {r['run']}: {r['cases']} cases, mean cycle {r['mean_cycle_h']} h, "
            f"CTD {r['ctd_h']:.2f} h"
        )
    print(
        f"CTD {result['ctd_h_mean']:.2f} h (mean of {len(result['runs'])}; "
        f"min {result['ctd_h_min']:.2f}, max {result['ctd_h_max']:.2f})"
    )


if __name__ == "__main__":
    main()
