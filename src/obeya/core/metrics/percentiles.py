"""Exact percentiles finished from the values at their ranks (expressions.percentile_ranks)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def interpolate(
    rows: Iterable[Mapping[str, Any]], fractions: Sequence[float]
) -> dict[Any, tuple[list[float], int]]:
    """Per key, the percentiles at ``fractions`` and the number of values, from rows of
    ``key``, ``rank`` (from 0), ``n`` and ``value``: for a fraction q, the value at rank
    q·(n−1), interpolated linearly between the ranks either side (PostgreSQL's
    ``percentile_cont``, DuckDB's ``quantile_cont``)."""
    at: dict[Any, dict[int, float]] = {}
    sizes: dict[Any, int] = {}
    for r in rows:
        at.setdefault(r["key"], {})[int(r["rank"])] = float(r["value"])
        sizes[r["key"]] = int(r["n"])
    out: dict[Any, tuple[list[float], int]] = {}
    for key, values in at.items():
        n = sizes[key]
        found = []
        for q in fractions:
            position = (n - 1) * q
            lo, hi = math.floor(position), math.ceil(position)
            low = values[lo]
            found.append(low + (values[hi] - low) * (position - lo) if hi != lo else low)
        out[key] = (found, n)
    return out
