"""Exact percentiles without sorting every value, for engines whose percentile aggregate is
slow (Spark keeps every value boxed in a hash map and merges them in one task).

For a fraction q of n values in order, the percentile is the value at rank q·(n−1) counted
from 0, interpolated linearly between the ranks either side (PostgreSQL's
``percentile_cont``, DuckDB's ``quantile_cont``). Two cheap passes find those ranks: the values
counted per bucket (expressions.value_buckets), which tells the bucket of each wanted rank and,
where a bucket's values are all equal, its value; then only the other wanted buckets' values
are fetched and sorted here (expressions.bucket_values).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Rows = Iterable[Mapping[str, Any]]


def ranks(n: int, fractions: Sequence[float]) -> list[int]:
    """The ranks the percentiles at ``fractions`` of ``n`` values read."""
    return sorted({f((n - 1) * q) for q in fractions for f in (math.floor, math.ceil)})


def from_buckets(
    buckets: Rows,
    fractions: Sequence[float],
    fetch: Callable[[dict[Any, list[int]]], Rows],
) -> dict[Any, tuple[list[float], int]]:
    """Per key, the percentiles at ``fractions`` and the number of values, from the bucket
    counts (rows of ``key``, ``bucket``, ``n``, ``low``, ``high``) and ``fetch``, which gives
    the values (rows of ``key``, ``bucket``, ``value``) of the buckets asked for."""
    by_key: dict[Any, list[Mapping[str, Any]]] = {}
    for row in buckets:
        by_key.setdefault(row["key"], []).append(row)
    sizes: dict[Any, int] = {}
    known: dict[Any, dict[int, float]] = {}
    pending: dict[tuple[Any, int], list[tuple[int, int]]] = {}
    for key, rows in by_key.items():
        rows.sort(key=lambda r: int(r["bucket"]))
        ends = list(itertools.accumulate(int(r["n"]) for r in rows))
        sizes[key] = ends[-1]
        known[key] = {}
        for rank in ranks(ends[-1], fractions):
            at = bisect.bisect_right(ends, rank)
            row = rows[at]
            if row["low"] == row["high"]:
                known[key][rank] = float(row["low"])
            else:
                before = ends[at - 1] if at else 0
                pending.setdefault((key, int(row["bucket"])), []).append((rank, rank - before))
    if pending:
        asked: dict[Any, list[int]] = {}
        for key, bucket in pending:
            asked.setdefault(key, []).append(bucket)
        found: dict[tuple[Any, int], list[float]] = {}
        for row in fetch(asked):
            found.setdefault((row["key"], int(row["bucket"])), []).append(float(row["value"]))
        for (key, bucket), wanted in pending.items():
            values = sorted(found[(key, bucket)])
            for rank, offset in wanted:
                known[key][rank] = values[offset]
    return {key: (interpolate(known[key], n, fractions), n) for key, n in sizes.items()}


def interpolate(at: Mapping[int, float], n: int, fractions: Sequence[float]) -> list[float]:
    """The percentiles at ``fractions`` of ``n`` values, from the values at their
    :func:`ranks`."""
    found = []
    for q in fractions:
        position = (n - 1) * q
        lo, hi = math.floor(position), math.ceil(position)
        low = at[lo]
        found.append(low + (at[hi] - low) * (position - lo) if hi != lo else low)
    return found
