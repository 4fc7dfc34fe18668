"""Benchmark: Monte Carlo forecasts, vectorised (Obeya) against a per-trial Python loop.

10,000 trials over a one-year horizon, both questions:

- **how-many**: items done in 365 days;
- **when**: days until N items are done, N chosen so the median trial takes about a year.

The history is 84 days of a stream finishing about 3 items a day (seeded, so every run samples
the same figures). Each contender runs ``--repeat`` times; the best time is reported. The loop
is what one would write first: per trial, per day, ``random.choice`` from the history.

Target (issue 4, docs/forecasting.md): ≤ 100 ms vectorised for each question.

Usage: ``python bench/forecast.py [--trials 10000] [--days 365] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from obeya.core.forecast import how_many, when


def loop_how_many(history: list[int], days: int, trials: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    totals = []
    for _ in range(trials):
        total = 0
        for _ in range(days):
            total += rng.choice(history)
        totals.append(total)
    return sorted(totals)


def loop_when(history: list[int], items: int, trials: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    spans = []
    for _ in range(trials):
        total = 0
        day = 0
        while total < items:
            total += rng.choice(history)
            day += 1
        spans.append(day)
    return sorted(spans)


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    history = [int(n) for n in np.random.default_rng(42).poisson(3.0, size=84)]
    items = round(sum(history) / len(history) * args.days)
    print(f"history: 84 days, {sum(history)} items (mean {sum(history) / 84:.2f}/day)")
    print(f"{args.trials:,} trials; how-many over {args.days} days; when for {items:,} items\n")

    rows = []
    t_vec, fast = best(lambda: how_many(history, args.days, trials=args.trials), args.repeat)
    t_loop, slow = best(lambda: loop_how_many(history, args.days, args.trials, 1), 1)
    n = len(slow)
    rows.append(("how-many", t_vec, t_loop, fast.percentiles[85], slow[n - -(-85 * n // 100)]))
    t_vec, fast = best(lambda: when(history, items, trials=args.trials), args.repeat)
    t_loop, slow = best(lambda: loop_when(history, items, args.trials, 1), 1)
    rows.append(("when", t_vec, t_loop, fast.percentiles[85], slow[-(-85 * n // 100) - 1]))

    print(
        f"{'question':<10}{'vectorised':>12}{'loop':>12}{'speed-up':>10}{'p85 vec':>9}{'loop':>7}"
    )
    for name, vec, loop, p_vec, p_loop in rows:
        print(
            f"{name:<10}{vec * 1e3:>10.1f}ms{loop * 1e3:>10.0f}ms{loop / vec:>9.0f}×"
            f"{p_vec:>9}{p_loop:>7}"
        )
    worst = max(vec for _, vec, _, _, _ in rows)
    verdict = "met" if worst <= 0.1 else "MISSED"
    print(f"\ntarget ≤ 100 ms vectorised: {verdict} (slowest {worst * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
