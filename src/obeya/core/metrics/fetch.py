"""Results of an Ibis expression as an Arrow table, on whichever engine holds them."""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def arrow(backend: Any, expr: Any) -> pa.Table:
    """``expr`` computed on ``backend`` and brought back as Arrow.

    Ibis's PySpark backend collects through pandas, row by row (and under pandas 3 a null
    text becomes "NaN" on the way); Spark 4 hands over Arrow batches itself, also through
    Spark Connect.
    """
    if backend.name == "pyspark":
        return backend._session.sql(backend.compile(expr)).toArrow()
    table: pa.Table = expr.to_pyarrow()
    return table
