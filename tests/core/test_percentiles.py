"""Exact percentiles found from counts per bucket of values (how Spark computes them) equal
the percentile aggregate's: by hand, against numpy, and against DuckDB's quantile_cont on the
same values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from obeya.core.metrics import expressions as x
from obeya.core.metrics.engine import duckdb_backend
from obeya.core.metrics.percentiles import from_buckets, interpolate, ranks

FRACTIONS = [0.5, 0.7, 0.85, 0.95]


def test_interpolate_by_hand() -> None:
    # 1, 2, 3, 4: q·(n−1) = 1.5, 2.1, 2.55, 2.85 → 2.5, 3.1, 3.55, 3.85.
    assert ranks(4, FRACTIONS) == [1, 2, 3]
    found = interpolate({r: float(r + 1) for r in ranks(4, FRACTIONS)}, 4, FRACTIONS)
    assert found == pytest.approx([2.5, 3.1, 3.55, 3.85], abs=1e-12)
    assert ranks(1, FRACTIONS) == [0]
    assert interpolate({0: 7.0}, 1, FRACTIONS) == [7.0] * 4


def test_buckets_by_hand() -> None:
    # Key "a": 1, 2 in bucket 0 (unequal: fetched); 3, 3 in bucket 1 (equal: not fetched).
    buckets = [
        {"key": "a", "bucket": 1, "n": 2, "low": 3.0, "high": 3.0},
        {"key": "a", "bucket": 0, "n": 2, "low": 1.0, "high": 2.0},
    ]
    asked: list[dict[Any, list[int]]] = []

    def fetch(wanted: dict[Any, list[int]]) -> list[dict[str, Any]]:
        asked.append(wanted)
        return [{"key": "a", "bucket": 0, "value": v} for v in (2.0, 1.0)]

    # Ranks 1, 2, 3 are wanted: rank 1 is bucket 0's second value (2), ranks 2 and 3 are 3.
    assert from_buckets(buckets, FRACTIONS, fetch) == (
        {"a": (pytest.approx([2.5, 3.0, 3.0, 3.0]), 4)}
    )
    assert asked == [{"a": [0]}]


def test_buckets_give_the_percentile_aggregate_and_numpy() -> None:
    rng = np.random.default_rng(15)
    keys: list[str] = []
    values: list[float | None] = []
    for key, n in (("few", 3), ("many", 20_001), ("ties", 4_000), ("signed", 2_000)):
        drawn = rng.lognormal(1.0, 1.5, n)
        if key == "ties":
            drawn = np.round(drawn)  # whole numbers: buckets whose values are all equal
        if key == "signed":
            drawn = drawn - 5.0  # negative, zero-crossing values (a lead time can be < 0)
        keys += [key] * n
        values += [float(v) for v in drawn]
    values[1] = None  # nulls are not values
    fetched: list[int] = []
    con = duckdb_backend()
    try:
        table = con.create_table("v", pa.table({"key": keys, "value": values}), temp=True)

        def fetch(asked: dict[Any, list[int]]) -> list[dict[str, Any]]:
            rows = x.bucket_values(table, asked).to_pyarrow().to_pylist()
            fetched.append(len(rows))
            return rows

        buckets = x.value_buckets(table).to_pyarrow().to_pylist()
        found = from_buckets(buckets, FRACTIONS, fetch)
        aggregate = {
            r["key"]: (r["percentiles"], r["n"])
            for r in x.percentile_values(table, FRACTIONS).to_pyarrow().to_pylist()
        }
    finally:
        con.disconnect()
    assert set(found) == set(aggregate) == {"few", "many", "ties", "signed"}
    assert sum(fetched) < 1_000  # of 26,003 values, only a few buckets' worth are sorted here
    for key, (spread, n) in found.items():
        assert n == aggregate[key][1]
        assert spread == pytest.approx(aggregate[key][0], rel=1e-12)
        pairs = zip(keys, values, strict=True)
        mine = np.array([v for k, v in pairs if k == key and v is not None])
        assert spread == pytest.approx(np.percentile(mine, [q * 100 for q in FRACTIONS]), rel=1e-12)
    assert found["few"][1] == 2  # one of its three values was null
