"""Half-open time intervals ``[start, end)`` in integer microseconds: union, clipping,
overlap. Blocked time is a union, so two blockers over the same hour count that hour once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of ``intervals`` as disjoint intervals in time order; empty ones dropped.
    Touching intervals join: ``[1, 3) ∪ [3, 5) = [1, 5)``."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], low: int, high: int) -> list[Interval]:
    """Each interval cut to ``[low, high)``; what falls outside is dropped."""
    return [(max(s, low), min(e, high)) for s, e in intervals if min(e, high) > max(s, low)]


def length(intervals: Iterable[Interval]) -> int:
    """Total length of disjoint intervals."""
    return sum(e - s for s, e in intervals)


def overlap(a: Sequence[Interval], b: Sequence[Interval]) -> int:
    """Length of the time in both of two lists of disjoint, sorted intervals (one sweep)."""
    i = j = total = 0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if high > low:
            total += high - low
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total
