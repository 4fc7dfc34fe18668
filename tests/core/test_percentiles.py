"""Exact percentiles read off one sort (how Spark computes them) equal the percentile
aggregate's: by hand, against numpy, and against DuckDB's quantile_cont on the same values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from obeya.core.metrics import expressions as x
from obeya.core.metrics.engine import duckdb_backend
from obeya.core.metrics.percentiles import interpolate, ranks

FRACTIONS = [0.5, 0.7, 0.85, 0.95]


def test_interpolate_by_hand() -> None:
    # 1, 2, 3, 4: q·(n−1) = 1.5, 2.1, 2.55, 2.85 → 2.5, 3.1, 3.55, 3.85.
    assert ranks(4, FRACTIONS) == [1, 2, 3]
    rows = [{"key": "a", "rank": r, "value": float(r + 1)} for r in ranks(4, FRACTIONS)]
    found = interpolate(rows, {"a": 4}, FRACTIONS)["a"]
    assert found == pytest.approx([2.5, 3.1, 3.55, 3.85], abs=1e-12)
    assert ranks(1, FRACTIONS) == [0]
    assert interpolate([{"key": "b", "rank": 0, "value": 7.0}], {"b": 1}, FRACTIONS) == {
        "b": [7.0] * 4
    }


def test_ranks_give_the_percentile_aggregate_and_numpy() -> None:
    rng = np.random.default_rng(15)
    keys, values = [], []
    for key, n in (("few", 3), ("many", 5_001), ("ties", 400)):
        drawn = rng.lognormal(1.0, 1.5, n)
        if key == "ties":
            drawn = np.round(drawn)  # repeated values: any order of equals gives one answer
        keys += [key] * n
        values += list(drawn)
    values[1] = None  # nulls are not values
    con = duckdb_backend()
    try:
        table = con.create_table("v", pa.table({"key": keys, "value": values}), temp=True)
        sizes = {r["key"]: r["n"] for r in x.value_counts(table).to_pyarrow().to_pylist()}
        wanted = {key: ranks(n, FRACTIONS) for key, n in sizes.items()}
        read = x.percentile_ranks(table, wanted).to_pyarrow().to_pylist()
        sorted_way = interpolate(read, sizes, FRACTIONS)
        aggregate = {
            r["key"]: (r["percentiles"], r["n"])
            for r in x.percentile_values(table, FRACTIONS).to_pyarrow().to_pylist()
        }
    finally:
        con.disconnect()
    assert set(sorted_way) == set(aggregate) == {"few", "many", "ties"}
    assert len(read) <= 3 * 2 * len(FRACTIONS)  # only the ranks either side are fetched
    for key, found in sorted_way.items():
        assert sizes[key] == aggregate[key][1]
        assert found == pytest.approx(aggregate[key][0], rel=1e-12)
        pairs = zip(keys, values, strict=True)
        mine = np.array([v for k, v in pairs if k == key and v is not None])
        assert found == pytest.approx(np.percentile(mine, [q * 100 for q in FRACTIONS]), rel=1e-12)
    assert sizes["few"] == 2  # one of its three values was null
