"""Benchmark: the twin's fit, hold-out and runs, beside their targets and a baseline.

1. **Fit + hold-out on BPIC 2013 incidents** (65,533 events; the bundled sample): reading the
   file, fitting the twin at the last event, and the hold-out check of the last 20 % of items
   (a fit before the cut and two runs of 5 replications over what followed). Target ≤ 20 s.
2. **A year of a 10-step stream**: the 10-step stream of ``bench/simulate.py`` (10 items a
   day, 1–3 people per step, utilisations 0.50–0.85, rework at Review) written as a twin —
   each step a queue state and a work state, people working around the clock so that it is
   the same stream — run for 365 days, one replication. Target ≤ 5 s per replication; the
   baseline in the same run is Obeya's scenario engine (SimPy) on the same stream and span.

Each figure is the best of ``--repeat`` runs in this process (imports excluded).
Usage: ``python bench/twin.py [--repeat 3] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "obeya" / "samples" / "bpic2013_incidents_transitions.csv.gz"
WORKFLOW = ROOT / "src" / "obeya" / "samples" / "bpic2013_workflow.toml"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from simulate import ARRIVAL_RATE_PER_DAY, STEPS  # noqa: E402  (the same stream)


def best(repeat: int, work: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return min(times), result


def fit_and_check() -> dict[str, Any]:
    from obeya.core.twin.fit import fit_twin
    from obeya.core.twin.holdout import holdout_check
    from obeya.core.workflow import Workflow
    from obeya.ingest import ColumnMap, read_events

    columns = ColumnMap(item_id="case_id", state="status", assignee="resource", team="group")
    log = read_events(SAMPLE, columns=columns)
    workflow = Workflow.from_toml(WORKFLOW)
    twin = fit_twin(log, workflow)
    check = holdout_check(log, workflow, share=0.2, replications=5)
    return {"events": log.num_events, "states": len(twin.states), "verdict": check.verdict}


def ten_step_twin() -> Any:
    """The 10-step stream as a twin: exponential work times (as quantiles), no calendar."""
    from obeya.core.twin.calendar import WorkCalendar
    from obeya.core.twin.model import FINISH, Arrivals, Twin, TwinState, TwinStep
    from obeya.core.workflow import Category

    quantiles = 500
    states: list[TwinState] = []
    steps: list[TwinStep] = []
    for k, (name, servers, mean_days, complete_accurate) in enumerate(STEPS):
        hours = tuple(
            -math.log(1 - (i + 0.5) / quantiles) * mean_days * 24 for i in range(quantiles)
        )
        after = f"Ready for {STEPS[k + 1][0]}" if k + 1 < len(STEPS) else "Done"
        loop = [(f"Ready for {name}", 1 - complete_accurate)] if complete_accurate < 1 else []
        states += [
            TwinState(
                f"Ready for {name}", Category.WAITING, "queue", name, (), ((f"In {name}", 1.0),)
            ),
            TwinState(
                f"In {name}",
                Category.ACTIVE,
                "work",
                name,
                hours,
                (*loop, (after, complete_accurate)),
            ),
        ]
        steps.append(TwinStep(name, (f"In {name}",), servers))
    states.append(TwinState("Done", Category.DONE, "done", None, (), ((FINISH, 1.0),)))
    return Twin(
        name="bench-10-steps",
        source="bench",
        as_of=24 * 19_723.0,  # 2024-01-01
        calendar=WorkCalendar.always(),
        arrivals=Arrivals(
            ARRIVAL_RATE_PER_DAY * 7, tuple([1 / 168] * 168), ((f"Ready for {STEPS[0][0]}", 1.0),)
        ),
        steps=tuple(steps),
        states=tuple(states),
    )


def year_of_twin() -> dict[str, Any]:
    from obeya.core.twin.engine import run_twin
    from obeya.core.twin.measure import run_windows

    run = run_twin(ten_step_twin(), days=365, replications=1, seed=1)
    window = run_windows(run)[0]
    return {
        "events": int(run.replications[0].t.size),
        "lead_time_mean": float(window.lead_times_days.mean()),
    }


def year_of_scenario() -> dict[str, Any]:
    from simulate import run_obeya

    items, mean = run_obeya(365, 0, 1)
    return {"items": items, "lead_time_mean": mean}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    seconds, found = best(args.repeat, fit_and_check)
    rows.append(("BPIC 2013: read, fit, hold-out 20 %", seconds, 20.0, found))
    seconds, found = best(args.repeat, year_of_twin)
    rows.append(("10-step stream, 365 days, twin", seconds, 5.0, found))
    seconds, found = best(args.repeat, year_of_scenario)
    rows.append(("10-step stream, 365 days, scenario engine (baseline)", seconds, None, found))
    if args.json:
        print(
            json.dumps(
                [
                    {"work": w, "seconds": s, "target_seconds": t, "result": r}
                    for w, s, t, r in rows
                ],
                indent=2,
            )
        )
        return
    width = max(len(w) for w, *_ in rows)
    print(f"{'work':<{width}}  {'seconds':>8}  {'target':>7}  result")
    for work, seconds, target, result in rows:
        goal = "" if target is None else f"≤ {target:g}"
        print(f"{work:<{width}}  {seconds:>8.2f}  {goal:>7}  {result}")


if __name__ == "__main__":
    main()
