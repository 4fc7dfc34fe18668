"""Run Simod on a dataset's training part, simulate its test period, score it (CTD, hours).

1. ``split.py``: ``work/DATASET/train.csv`` (first 80 % of cases by start) and ``test.csv``.
2. ``simod --configuration configs/DATASET.yaml --output work/DATASET/simod-START`` (the venv's
   CLI, a child process, timed from its start to its exit: this is the *wall time* reported). With a
   test log in its configuration Simod discovers and tunes the model on the training log (which
   it splits 80/20 by case itself for its hyperparameter search, then refits on all of it), and
   then simulates, ``num_final_evaluations`` times, as many cases as the test log has, starting
   at the test log's first case start (``Simod._evaluate_model``): the logs land in
   ``work/DATASET/simod-START/best_result/evaluation/simulated_log_*.csv``.
3. ``score.py`` scores each simulated log against the test cases; the mean is the figure.
   Simod's own ``cycle_time_distribution`` figures (``evaluation_metrics.csv``) are kept beside it
   as a cross-check: it measures the same thing from the CSV test log.

The result goes to ``results/DATASET-simod-START.json`` (``results.py`` renders RESULTS.md from all
of them). Usage: ``python run_simod.py DATASET [--config FILE] [--start same|previous|estimate]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results import machine, write_result  # noqa: E402
from score import score  # noqa: E402
from split import DATASETS, START_MODES, write_split  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--config", type=Path, default=None, help="default: configs/DATASET.yaml")
    parser.add_argument("--start", choices=START_MODES, default="same", help="see split.py")
    args = parser.parse_args()

    work = HERE / "work" / args.dataset
    config = (args.config or HERE / "configs" / f"{args.dataset}.yaml").resolve()
    info = write_split(args.dataset, work, args.start)
    print(f"split: {info}", flush=True)

    out = work / f"simod-{args.start}"
    log_path = work / f"simod-{args.start}.log"
    if out.exists():
        shutil.rmtree(out)
    simod = Path(sys.executable).with_name("simod")
    cmd = [str(simod), "--configuration", str(config), "--output", str(out)]
    print("running:", " ".join(cmd), flush=True)
    started = time.perf_counter()
    with log_path.open("w") as log:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the log shows each stage as it runs
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=HERE, env=env)
    wall = time.perf_counter() - started
    print(f"simod exited {proc.returncode} after {wall:.0f} s (output: {log_path})", flush=True)
    if proc.returncode != 0:
        sys.exit(f"Simod failed: see the end of {log_path}")

    evaluation = out / "best_result" / "evaluation"
    simulated = sorted(evaluation.glob("simulated_log_*.csv"))
    if not simulated:
        sys.exit(f"no simulated logs in {evaluation}")
    result = score(args.dataset, simulated, "simod")

    own = pd.read_csv(evaluation / "evaluation_metrics.csv")
    own_ctd = own[own["metric"].astype(str).str.contains("CYCLE_TIME", case=False)]["distance"]
    runtimes_path = out / "best_result" / "runtimes.json"
    runtimes = json.loads(runtimes_path.read_text()) if runtimes_path.exists() else {}
    runtimes.pop("explanation", None)

    result.update(
        contender=f"simod-{args.start}",
        wall_s=round(wall, 1),
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        machine=machine(),
        split=info,
        config=str(config.relative_to(HERE)),
        simod_own_ctd_h=[float(x) for x in own_ctd],
        simod_runtimes_s={k: round(float(v), 1) for k, v in runtimes.items()},
        command=" ".join(["python", "run_simod.py", *sys.argv[1:]]),
    )
    path = write_result(result)
    print(
        f"{args.dataset} simod (start={args.start}): CTD {result['ctd_h_mean']:.1f} h "
        f"(mean of {len(simulated)}; "
        f"min {result['ctd_h_min']:.1f}, max {result['ctd_h_max']:.1f}); Simod's own "
        f"{sum(result['simod_own_ctd_h']) / max(len(result['simod_own_ctd_h']), 1):.1f} h; "
        f"wall {wall:.0f} s -> {path}"
    )


if __name__ == "__main__":
    main()
