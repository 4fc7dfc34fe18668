"""Read a real log, cut it 80/20 by case start, write both parts in Simod's CSV format.

The cut (the same for every contender):

- a case's *start* is its first event's timestamp; cases are ordered by start (ties by case id);
- the first 80 % of the cases (``floor(0.8 × n)``) are the **training** log, the rest the **test**
  log. Training cases are kept whole, even those whose last events fall after the first test
  case started (Simod and the bootstrap both see them so: nothing of the test cases is seen).

Datasets (``DATASETS``): ``helpdesk`` (``tests/datasets/helpdesk.xes.gz``, activity =
``concept:name``) and ``bpic2013`` (``tests/datasets/bpic2013_incidents.xes.gz``, activity =
``lifecycle:transition``, the incident's sub-status, as the ``status`` column of
``bpic2013_incidents_transitions.csv.gz``). The XES files are read with the standard library's
``iterparse`` (Simod 5.2.1 does not bring pm4py): only a trace's own ``concept:name`` and its
events' direct attributes are read, timestamps converted to UTC. Events keep their document
order within a case when timestamps tie (stable sort).

Simod 5.x reads a CSV with one row per *activity instance*: ``case_id, activity, start_time,
end_time, resource`` (its ``PROSIMOS_LOG_IDS``, ISO 8601 timestamps). Both logs here have one
timestamp per event. ``--start`` says how a start is made from it:

- ``same`` (default, the headline figures): start = end = the event's timestamp (instantaneous
  activities). The time between events is then all waiting, which Simod models with its
  extraneous-delay timers (and resource calendars);
- ``previous``: an event's start is the previous event's timestamp in the same case, its end its
  own timestamp; a case's first event starts and ends at its timestamp. So an activity's
  duration is the time since the case's previous event (the event is read as the *completion* of
  the work since then), and the per-case sum of durations is exactly the case's span. Simod
  takes these durations as work that holds the resource;
- ``estimate``: an empty ``start_time`` column: Simod's preprocessing then estimates the starts
  itself (pix-framework's ``StartTimeEstimator``: an activity instance starts when it was both
  enabled and its resource was free). This is Simod's own path for logs without start times.
  (Simod 5.2.1 checks for a missing column *or* blanks, but the estimator reads the column and
  fails with ``KeyError: 'start_time'`` when it is absent: it must be there, empty.)

Whatever the choice, a case's cycle time is its last timestamp minus its first (``max(end) −
min(start)`` over its rows, as ``log-distance-measures`` computes it): the test side of the score
(``score.py``) is the same for every contender and every choice.

Usage: ``python split.py DATASET [--out DIR] [--start same|previous|estimate]``
(writes ``DIR/train.csv`` and ``DIR/test.csv``; DIR defaults to ``work/DATASET``).
"""

from __future__ import annotations

import argparse
import gzip
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = REPO / "tests" / "datasets"
TRAIN_SHARE = 0.8
START_MODES = ("same", "previous", "estimate")


@dataclass(frozen=True)
class Dataset:
    name: str
    path: Path
    activity_key: str  # the XES event attribute used as the activity


DATASETS = {
    "helpdesk": Dataset("helpdesk", DATA / "helpdesk.xes.gz", "concept:name"),
    "bpic2013": Dataset("bpic2013", DATA / "bpic2013_incidents.xes.gz", "lifecycle:transition"),
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_xes(path: Path, activity_key: str) -> pd.DataFrame:
    """Events of an XES(.gz) file: case_id, activity, timestamp (UTC), resource."""
    rows: list[tuple[str, str, str, str | None]] = []
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        for _, elem in ET.iterparse(f, events=("end",)):
            if _local(elem.tag) != "trace":
                continue
            case_id = None
            for child in elem:
                if _local(child.tag) == "string" and child.get("key") == "concept:name":
                    case_id = child.get("value")
            if case_id is None:
                raise ValueError(f"{path}: a trace without concept:name")
            for event in elem:
                if _local(event.tag) != "event":
                    continue
                attrs = {a.get("key"): a.get("value") for a in event}
                rows.append(
                    (
                        case_id,
                        attrs[activity_key],
                        attrs["time:timestamp"],
                        attrs.get("org:resource"),
                    )
                )
            elem.clear()
    log = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "resource"])
    log["timestamp"] = pd.to_datetime(log["timestamp"], utc=True, format="ISO8601")
    return log


def load_events(dataset: str) -> pd.DataFrame:
    """The dataset's events, sorted by case start, then case, then time (stable within a case)."""
    spec = DATASETS[dataset]
    log = read_xes(spec.path, spec.activity_key)
    log["resource"] = log["resource"].fillna("NOT_SET")
    log["_order"] = range(len(log))
    starts = log.groupby("case_id")["timestamp"].transform("min")
    log = log.assign(_case_start=starts).sort_values(
        ["_case_start", "case_id", "timestamp", "_order"], kind="mergesort"
    )
    return log.drop(columns=["_order", "_case_start"]).reset_index(drop=True)


def split_cases(
    log: pd.DataFrame, train_share: float = TRAIN_SHARE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First ``train_share`` of the cases by start → training, the rest → test."""
    first = log.groupby("case_id")["timestamp"].min().reset_index()
    first = first.sort_values(["timestamp", "case_id"], kind="mergesort")
    n_train = math.floor(train_share * len(first))
    train_ids = set(first["case_id"].iloc[:n_train])
    in_train = log["case_id"].isin(train_ids)
    return log[in_train].reset_index(drop=True), log[~in_train].reset_index(drop=True)


def load_split(dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split_cases(load_events(dataset))


def cycle_times(log: pd.DataFrame) -> pd.DataFrame:
    """Per case: start (first timestamp), end (last), in case-start order."""
    g = log.groupby("case_id", sort=False)["timestamp"]
    out = pd.DataFrame({"start": g.min(), "end": g.max()}).reset_index()
    return out.sort_values(["start", "case_id"], kind="mergesort").reset_index(drop=True)


def to_simod(log: pd.DataFrame, start: str = "same") -> pd.DataFrame:
    """One row per event in Simod's columns (see the module doc for ``start``)."""
    if start not in START_MODES:
        raise ValueError(f"start must be one of {START_MODES}")
    out = pd.DataFrame(
        {
            "case_id": log["case_id"],
            "activity": log["activity"],
            "end_time": log["timestamp"],
            "resource": log["resource"],
        }
    )
    if start == "previous":
        prev = log.groupby("case_id", sort=False)["timestamp"].shift(1)
        out.insert(2, "start_time", prev.fillna(log["timestamp"]))
    elif start == "same":
        out.insert(2, "start_time", log["timestamp"])
    else:  # estimate: an empty column (Simod estimates when it is absent *or* has blanks, but its
        # estimator, pix-framework's, reads the column: absent, it fails with KeyError 'start_time')
        out.insert(
            2, "start_time", pd.Series(pd.NaT, index=log.index, dtype=log["timestamp"].dtype)
        )
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame = frame.copy()
    for col in ("start_time", "end_time"):
        if col in frame:
            frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def write_split(dataset: str, out: Path, start: str = "same") -> dict:
    train, test = load_split(dataset)
    write_csv(to_simod(train, start), out / "train.csv")
    # Simod reads its test log as it is (no start-time estimation) and its own metrics need a
    # start_time column: with ``estimate`` the test log gets start = end. A case's cycle time,
    # max(end) − min(start), is the same in every mode (its first event starts at its timestamp).
    write_csv(to_simod(test, "same" if start == "estimate" else start), out / "test.csv")
    return {
        "dataset": dataset,
        "train_cases": int(train["case_id"].nunique()),
        "train_events": len(train),
        "test_cases": int(test["case_id"].nunique()),
        "test_events": len(test),
        "test_first_start": test["timestamp"].min().isoformat(),
        "start": start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--start", choices=START_MODES, default="same")
    args = parser.parse_args()
    out = args.out or HERE / "work" / args.dataset
    info = write_split(args.dataset, out, args.start)
    print(info)


if __name__ == "__main__":
    main()
