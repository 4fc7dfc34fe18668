"""Benchmark: the two engines on the one step every flow report starts with, side by side.

Before anything else a flow report orders each item's events and looks at the next one
(``lead(t) over (partition by item order by t, seq)``, the visits). This script times that
step alone on the lakehouse histories of ``bench/scale.py`` — read the Parquet, order each
item's events, sum the completed visits — in DuckDB and in Spark ``local[2]``, each on a
session already started, twice (the first run pays the JVM's warm-up). The ratio is the
engines' own on this machine: what no change to Obeya's expressions can take below, since
both engines run the same query.

Usage: ``python bench/engine_floor.py [--sizes 1500000,12000000,32000000]
[--cache /tmp/obeya-scale]`` (the histories are made by ``bench/scale.py`` if missing).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from obeya.core.metrics.engine import duckdb_backend, spark_backend
from scale import lake_for

QUERY = """
SELECT count(*) AS events, sum(next_t - t) AS visits_us FROM (
  SELECT t, lead(t) OVER (PARTITION BY item_id ORDER BY t, seq) AS next_t FROM {table}
)
"""


def timed(run: Callable[[str], Any], sql: str) -> tuple[float, tuple[int, int]]:
    """Seconds to run ``sql``, and its one row."""
    started = time.perf_counter()
    row = run(sql)
    return time.perf_counter() - started, (int(row[0]), int(row[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1500000,12000000,32000000")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/obeya-scale"))
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    duck = duckdb_backend().con
    spark = spark_backend("local[2]")._session
    print("| events | DuckDB (1st / 2nd) | Spark local[2] (1st / 2nd) | Spark ÷ DuckDB (2nd) |")
    print("|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        directory, _, events = lake_for(size, args.cache)
        pattern = str(directory / "**" / "*.parquet")
        duck_sql = QUERY.format(table=f"read_parquet('{pattern}', hive_partitioning = true)")
        spark.read.parquet(str(directory)).createOrReplaceTempView("lake")
        spark_sql = QUERY.format(table="lake")
        d = [timed(lambda sql: duck.execute(sql).fetchone(), duck_sql) for _ in range(2)]
        s = [timed(lambda sql: spark.sql(sql).collect()[0], spark_sql) for _ in range(2)]
        same = d[0][1] == s[0][1]
        print(
            f"| {events:,} | {d[0][0]:.1f} / {d[1][0]:.1f} s | {s[0][0]:.1f} / {s[1][0]:.1f} s "
            f"| {s[1][0] / d[1][0]:.1f}× {'' if same else '(**results differ**)'}|",
            flush=True,
        )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
