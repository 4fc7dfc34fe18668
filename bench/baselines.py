"""What Obeya is measured against in ``bench/flow.py``; each runs alone in a fresh process.

- ``pandas``: the flow metrics as a data analyst would compute them with pandas: read the CSV,
  sort, ``groupby``/``shift`` for visit lengths, ``groupby().quantile`` and ``np.percentile``.
  Vectorised, no per-item Python loop, but no tricks either: the honest "what would I do
  without Obeya" baseline. (The *reference* implementation in ``tests/reference`` is a
  different thing: written item by item for checking correctness, not for speed.)
- ``pm4py``: case durations and the performance DFG, the nearest process-mining equivalents.
  pm4py is AGPL and never an Obeya dependency; ``bench/flow.py`` runs this with the
  interpreter of a separate venv.
- ``duckdb``: one grouped pass over the CSV (first and last timestamp per item). No flow metric
  can be computed with less work from the file, so it bounds what the engine can reach.

Each prints a one-line JSON summary, so ``bench/flow.py`` can check that every tool saw the
same items. Run as ``python bench/baselines.py {pandas,pm4py,duckdb} CSV [WORKFLOW.toml]``.
Only the standard library is imported at the top: each baseline imports its own stack, so the
pm4py venv needs neither DuckDB nor Obeya.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any


def pandas_metrics(csv: Path, workflow: Path) -> dict[str, Any]:
    """Cycle time percentiles, weekly throughput, daily WIP, time in state, flow efficiency."""
    import numpy as np
    import pandas as pd

    with workflow.open("rb") as handle:
        flow = tomllib.load(handle)
    category = {s: c for c in ("backlog", "active", "waiting", "done") for s in flow.get(c, [])}

    df = pd.read_csv(csv)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    df = df.sort_values(["item_id", "timestamp"], kind="stable")  # ties keep file order
    df["category"] = df["state"].map(category).fillna("unmapped")

    # Each event opens a visit that lasts until the item's next event.
    df["next_timestamp"] = df.groupby("item_id", sort=False)["timestamp"].shift(-1)
    df["hours"] = (df["next_timestamp"] - df["timestamp"]).dt.total_seconds() / 3600

    started = df["category"].isin(["active", "waiting", "done"])
    start = df[started].groupby("item_id")["timestamp"].min()
    last = df.groupby("item_id", sort=False).tail(1).set_index("item_id")
    finish = last.loc[last["category"] == "done", "timestamp"]
    cycle_days = (finish - start.loc[finish.index]).dt.total_seconds() / 86400

    weeks = finish.dt.tz_localize(None).dt.to_period("W-SUN")
    weekly = weeks.value_counts().sort_index()
    weekly = weekly.reindex(pd.period_range(weekly.index.min(), weekly.index.max()), fill_value=0)

    days = pd.date_range(start.min().floor("D"), df["timestamp"].max().floor("D"), freq="D")
    starts = start.dt.floor("D").value_counts().reindex(days, fill_value=0).cumsum()
    finishes = finish.dt.floor("D").value_counts().reindex(days, fill_value=0).cumsum()
    wip = starts - finishes

    per_item_state = df.dropna(subset=["hours"]).groupby(["state", "item_id"])["hours"].sum()
    by_state = per_item_state.groupby(level="state")
    time_in_state = pd.DataFrame(
        {
            "median": by_state.median(),
            "p85": by_state.quantile(0.85),
            "items": by_state.size(),
        }
    )

    finished_rows = df["item_id"].isin(finish.index) & (df["category"] == "active")
    active_hours = df.loc[finished_rows, "hours"].sum()
    efficiency = active_hours / 24 / cycle_days.sum()

    p50, p70, p85, p95 = np.percentile(cycle_days, [50, 70, 85, 95])
    return {
        "items": int(df["item_id"].nunique()),
        "finished": len(finish),
        "cycle_time_days": {
            "p50": p50,
            "p70": p70,
            "p85": p85,
            "p95": p95,
            "mean": cycle_days.mean(),
        },
        "weeks": len(weekly),
        "throughput_weekly_mean": float(weekly.mean()),
        "wip_last_day": int(wip.iloc[-1]),
        "flow_efficiency": float(efficiency),
        "time_in_state_hours": time_in_state.to_dict(orient="index"),
    }


def pm4py_metrics(csv: Path) -> dict[str, Any]:
    """Case durations and the performance DFG (mean time between directly-following states)."""
    import pandas as pd
    import pm4py

    df = pd.read_csv(csv)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    log = pm4py.format_dataframe(
        df, case_id="item_id", activity_key="state", timestamp_key="timestamp"
    )
    durations = pm4py.get_all_case_durations(log)
    dfg, _starts, _ends = pm4py.discover_performance_dfg(log)
    return {
        "items": len(durations),
        "case_duration_days_median": float(pd.Series(durations).median() / 86400),
        "dfg_edges": len(dfg),
    }


def duckdb_limit(csv: Path) -> dict[str, Any]:
    """One grouped scan of the CSV: the least work any per-item flow metric needs."""
    import duckdb

    # The outer query uses both aggregates, so the optimiser cannot drop them, and returns one
    # row, so fetching costs nothing whatever the client API of the installed DuckDB.
    query = (
        "SELECT count(*), min(first_event), max(last_event) FROM ("
        "  SELECT item_id, min(timestamp) AS first_event, max(timestamp) AS last_event"
        "  FROM read_csv(?) GROUP BY 1)"
    )
    row = duckdb.connect().execute(query, [str(csv)]).fetchone()
    assert row is not None
    return {"items": row[0], "first_event": str(row[1]), "last_event": str(row[2])}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in {"pandas", "pm4py", "duckdb"}:
        print(__doc__, file=sys.stderr)
        return 2
    which, csv = argv[0], Path(argv[1])
    if which == "pandas":
        summary = pandas_metrics(csv, Path(argv[2]))
    elif which == "pm4py":
        summary = pm4py_metrics(csv)
    else:
        summary = duckdb_limit(csv)
    print(json.dumps(summary, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
