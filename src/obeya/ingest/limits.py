"""How much a file may make Obeya hold: limits on what a small input can grow into.

A gzip file or a zip member may inflate a thousandfold, and a log of one item with millions of
identical events compresses to almost nothing, so neither the upload limit nor the file's size
bounds the memory, disk and database an import or a restore uses. These limits do, each with a
default that real logs stay far below and an environment variable to change it:

- ``max_decompressed_bytes`` (1 GiB, ``OBEYA_MAX_DECOMPRESSED_BYTES``): the content of a
  gzipped input, and each deflated member of an archive, counted while it streams;
- ``max_events_per_item`` (10,000, ``OBEYA_MAX_EVENTS_PER_ITEM``): events of one item in one
  file (the real logs have at most a few hundred);
- ``max_event_copies`` (100, ``OBEYA_MAX_EVENT_COPIES``): copies of one event, every field
  equal, that an XES log may record (CSV and Jira refuse any duplicate);
- ``max_archive_table_bytes`` (256 MiB, ``OBEYA_MAX_ARCHIVE_TABLE_BYTES``): each JSON Lines
  member of an archive, which a restore holds in memory as rows.

They are read from the environment each time (:func:`current_limits`), so a server, the CLI and
a test see the same values; every reader and the restore take an explicit ``IngestLimits`` too.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from obeya.errors import InputError
from obeya.settings import SETTINGS, setting

GIB = 1 << 30
MIB = 1 << 20

_ENVIRONMENT = {
    "max_decompressed_bytes": "OBEYA_MAX_DECOMPRESSED_BYTES",
    "max_events_per_item": "OBEYA_MAX_EVENTS_PER_ITEM",
    "max_event_copies": "OBEYA_MAX_EVENT_COPIES",
    "max_archive_table_bytes": "OBEYA_MAX_ARCHIVE_TABLE_BYTES",
}


@dataclass(frozen=True)
class IngestLimits:
    """The limits of one import or restore (see the module docstring)."""

    max_decompressed_bytes: int = SETTINGS[_ENVIRONMENT["max_decompressed_bytes"]].default
    max_events_per_item: int = SETTINGS[_ENVIRONMENT["max_events_per_item"]].default
    max_event_copies: int = SETTINGS[_ENVIRONMENT["max_event_copies"]].default
    max_archive_table_bytes: int = SETTINGS[_ENVIRONMENT["max_archive_table_bytes"]].default

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"limit {f.name} must be a positive whole number, not {value!r}")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> IngestLimits:
        """The defaults, each overridden by its environment variable when that is set."""
        return cls(**{name: setting(variable, environ) for name, variable in _ENVIRONMENT.items()})

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable of the limit ``name``, for messages."""
        return _ENVIRONMENT[name]


def current_limits() -> IngestLimits:
    """The limits in force now: the defaults and the environment."""
    return IngestLimits.from_environment()


class TooLarge(Exception):
    """Raised while reading once more than ``limit`` bytes came out of a decompressor.

    Not an OSError, so that no reader mistakes it for a damaged file; readers turn it into a
    ParseError naming the file (or the archive member)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} bytes")
        self.limit = limit


class BoundedReader(io.RawIOBase):
    """A raw reader over ``inner`` (anything with ``readinto``) that raises :class:`TooLarge`
    as soon as more than ``limit`` bytes have been read: a decompression bomb stops after the
    limit, without trusting any size the file declares."""

    def __init__(self, inner: Any, limit: int) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = int(self._inner.readinto(buffer))
        self.done += count
        if self.done > self._limit:
            raise TooLarge(self._limit)
        return count

    def close(self) -> None:
        self._inner.close()
        super().close()


def describe_bytes(count: int) -> str:
    """``1,073,741,824 bytes (1.0 GiB)``: exact for the variable, readable for a person."""
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", 1024)):
        if count >= size:
            return f"{count:,} bytes ({count / size:.1f} {unit})"
    return f"{count:,} bytes"
