"""Set-wise lookups on Arrow arrays: where is the first offending value?

Errors must name the first bad row, yet looping over rows in Python would cost more than the
whole parse. These helpers answer with whole-array kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow.compute as pc


def first_true(mask: Any) -> int | None:
    """Index of the first true value of a boolean (Chunked)Array, or None."""
    index = int(pc.index(mask, True).as_py())
    return None if index < 0 else index


def first_failure(values: Any, works: Callable[[Any], bool]) -> int | None:
    """Index of the first value for which the vectorised ``works`` fails, or None.

    ``works`` must fail on a slice exactly when it fails on some value of that slice (true of
    Arrow casts). Bisection halves the slice each time, so the search costs about two passes
    over the data.
    """
    if works(values):
        return None
    low, high = 0, len(values)
    while high - low > 1:
        middle = (low + high) // 2
        if works(values.slice(low, middle - low)):
            low = middle
        else:
            high = middle
    return low
