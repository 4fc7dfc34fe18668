"""Baseline contender ``bootstrap``: the training cases' cycle times, resampled, scored like Simod.

For each replication: draw, with replacement, as many cycle times as the test part has cases from
the training cases' cycle times (last event − first event of each training case, all of them,
kept whole as split.py keeps them), and build a fake simulated log of one row per case:
``start_time`` = the i-th test case's start, ``end_time`` = that start + the i-th draw. CTD only
looks at each case's ``max(end) − min(start)``, so this log *is* the resampled distribution for
it; starting the cases at the test starts just makes the file a plausible log. Each replication
is written to ``work/DATASET/bootstrap/bootstrap_R.csv`` (Simod's CSV format) and scored by
``score.py``; the mean over the replications is the figure (as for Simod's 5 simulations).

Usage: ``python bootstrap.py DATASET [--replications 5] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results import machine, write_result  # noqa: E402
from score import score  # noqa: E402
from split import DATASETS, cycle_times, load_split, write_csv  # noqa: E402


def bootstrap_logs(
    dataset: str, out: Path, replications: int, seed: int
) -> tuple[list[Path], dict]:
    train, test = load_split(dataset)
    train_ct = cycle_times(train)
    durations = (train_ct["end"] - train_ct["start"]).to_numpy()
    test_starts = cycle_times(test)["start"].reset_index(drop=True)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in range(replications):
        rng = np.random.default_rng(seed + r)
        draws = rng.choice(durations, size=len(test_starts), replace=True)
        log = pd.DataFrame(
            {
                "case_id": [f"bootstrap-{i}" for i in range(len(test_starts))],
                "activity": "case",
                "start_time": test_starts,
                "end_time": test_starts + pd.to_timedelta(draws),
                "resource": "bootstrap",
            }
        )
        path = out / f"bootstrap_{r}.csv"
        write_csv(log, path)
        paths.append(path)
    return paths, {"train_cases": len(train_ct), "test_cases": len(test_starts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    paths, info = bootstrap_logs(
        args.dataset, HERE / "work" / args.dataset / "bootstrap", args.replications, args.seed
    )
    wall = time.perf_counter() - started  # fitting and "simulating": reading the log, resampling
    result = score(args.dataset, paths, "simod")
    result.update(
        contender="bootstrap",
        wall_s=round(wall, 1),
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        machine=machine(),
        split=info,
        seed=args.seed,
        command=" ".join(["python", "bootstrap.py", *sys.argv[1:]]),
    )
    path = write_result(result)
    print(
        f"{args.dataset} bootstrap: CTD {result['ctd_h_mean']:.1f} h (mean of {len(paths)}; "
        f"min {result['ctd_h_min']:.1f}, max {result['ctd_h_max']:.1f}); "
        f"wall {wall:.1f} s -> {path}"
    )


if __name__ == "__main__":
    main()
