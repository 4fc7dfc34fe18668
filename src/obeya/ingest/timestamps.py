"""Vectorised ISO 8601 parsing into int64 microseconds since the epoch, UTC.

Accepted: ``2024-01-15``, ``2024-01-15 10:20``, ``2024-01-15T10:20:30``, fractional seconds
(more than six digits are truncated to microseconds), and a zone ``Z``, ``+01``, ``+0100`` or
``+01:00`` (a space before it is allowed). No zone means UTC; a date alone is midnight UTC.

A file nearly always writes every timestamp the same way, so the fast path is one Arrow cast of
the whole column (tens of millions of values per second); only a mixed or unusual column pays
for regex normalisation. Locating a bad value is a bisection of vectorised casts, so even the
error path never loops over rows in Python.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from obeya.ingest.arrays import first_failure

_UTC = pa.timestamp("us", tz="UTC")
_NAIVE = pa.timestamp("us")
_ZONE = r"(Z|[+-]\d\d(:?\d\d)?)$"


class BadTimestamp(ValueError):
    """The value at ``index`` of the parsed array is not a timestamp."""

    def __init__(self, index: int, value: str) -> None:
        super().__init__(f"cannot read timestamp {value!r}")
        self.index = index
        self.value = value


def parse_timestamps(values: Any) -> Any:
    """Parse a string Array/ChunkedArray; nulls stay null. Raises :class:`BadTimestamp`."""
    for target in (_UTC, _NAIVE):
        parsed = _try_cast(values, target)
        if parsed is not None:
            return _to_micros(parsed)
    normalised = _normalise(values)
    parsed = _try_cast(normalised, _UTC)
    if parsed is None:
        index = first_failure(normalised, lambda part: _try_cast(part, _UTC) is not None)
        assert index is not None
        raise BadTimestamp(index, str(values[index].as_py()))
    return _to_micros(parsed)


def _to_micros(parsed: Any) -> Any:
    return pc.cast(parsed, pa.int64())


def _try_cast(values: Any, target: Any) -> Any:
    try:
        return pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _normalise(values: Any) -> Any:
    """Rewrite every accepted spelling into ``YYYY-MM-DD[T ]hh:mm[:ss[.ffffff]]±zone``."""
    text = pc.utf8_trim_whitespace(values)
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d\d-\d\d)$", r"\1T00:00:00")
    text = pc.replace_substring_regex(text, r"(\.\d{6})\d+", r"\1")
    text = pc.replace_substring_regex(text, r"\s+" + _ZONE, r"\1")
    zoned = pc.match_substring_regex(text, _ZONE)
    return pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", ""))
