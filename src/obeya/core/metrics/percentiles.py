"""Exact percentiles finished from the values at their ranks (expressions.percentile_ranks):
for a fraction q of n values in order, the value at rank q·(n−1) counted from 0, interpolated
linearly between the ranks either side (PostgreSQL's ``percentile_cont``, DuckDB's
``quantile_cont``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def ranks(n: int, fractions: Sequence[float]) -> list[int]:
    """The ranks the percentiles at ``fractions`` of ``n`` values read."""
    return sorted({f((n - 1) * q) for q in fractions for f in (math.floor, math.ceil)})


def interpolate(
    rows: Iterable[Mapping[str, Any]], sizes: Mapping[Any, int], fractions: Sequence[float]
) -> dict[Any, list[float]]:
    """Per key of ``sizes`` (its number of values), the percentiles at ``fractions``, from rows
    of ``key``, ``rank`` and ``value`` holding at least the :func:`ranks` of each key."""
    at: dict[Any, dict[int, float]] = {}
    for r in rows:
        at.setdefault(r["key"], {})[int(r["rank"])] = float(r["value"])
    out: dict[Any, list[float]] = {}
    for key, n in sizes.items():
        values = at[key]
        found = []
        for q in fractions:
            position = (n - 1) * q
            lo, hi = math.floor(position), math.ceil(position)
            low = values[lo]
            found.append(low + (values[hi] - low) * (position - lo) if hi != lo else low)
        out[key] = found
    return out
