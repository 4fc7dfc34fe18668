"""Opening a user's file: gzip by magic bytes, format by content, byte-level progress.

Users rename files and forget suffixes, so a gzip stream is recognised by its first two bytes
and the format by the first non-blank character (``<`` XML, ``{``/``[`` JSON, else text/CSV);
the suffix only breaks ties. Progress counts bytes read from disk (compressed bytes for a gzip
file), which is what the total size on disk measures.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from obeya.errors import ParseError
from obeya.ingest.limits import BoundedReader

Progress = Callable[[int, int], None]

GZIP_MAGIC = b"\x1f\x8b"
FORMATS = ("csv", "wide", "xes", "jira")
ACCEPTED = (
    "accepted formats: CSV (.csv; one row per state entry, or with format wide one row per "
    "item and a time column per state), IEEE XES (.xes) and Jira issue-search JSON with "
    "expand=changelog (.json); any of them may be gzipped"
)
_PEEK_BYTES = 1 << 16


def check_readable(path: Path, file: str) -> None:
    """Refuse a missing path or a directory with a message instead of an OSError."""
    if not path.exists():
        raise ParseError("no such file; check the path", file=file)
    if not path.is_file():
        raise ParseError("is not a file; give the path of a CSV, XES or JSON file", file=file)


def is_gzip(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(2) == GZIP_MAGIC


def peek(path: Path, size: int = _PEEK_BYTES) -> bytes:
    """The first ``size`` bytes of the (decompressed) content."""
    with open_input(path) as stream:
        return bytes(stream.read(size))


def detect_format(path: str | Path) -> str:
    """``"csv"``, ``"xes"`` or ``"jira"``, judged by content first and suffix second."""
    file = str(path)
    path = Path(path)
    check_readable(path, file)
    try:
        head = peek(path)
    except (OSError, pa.ArrowException) as error:
        raise ParseError(
            f"cannot read the file ({error}); if it is gzipped, it may be truncated or damaged",
            file=file,
        ) from None
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        raise ParseError("the file is empty", file=file)
    if text[:1] == b"<":
        return "xes"
    if text[:1] in (b"{", b"["):
        return "jira"
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in (".csv", ".tsv", ".txt") and b"\x00" not in text:
        return "csv"
    if _looks_like_text(text) and any(d in text.split(b"\n", 1)[0] for d in b",;\t|"):
        return "csv"
    hint = " (it looks like an Excel or ZIP file: save the sheet as CSV UTF-8)"
    raise ParseError(
        "unknown file type" + (hint if text.startswith(b"PK\x03\x04") else "") + "; " + ACCEPTED,
        file=file,
    )


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


class _CountingReader(io.RawIOBase):
    """A raw file that reports how many bytes were read, about every 1% of the file."""

    def __init__(self, raw: io.BufferedReader, total: int, progress: Progress) -> None:
        super().__init__()
        self._raw = raw
        self._total = total
        self._progress = progress
        self._done = 0
        self._reported = 0
        self._step = max(total // 100, 1 << 20)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)
        self._done += count
        if self._done - self._reported >= self._step:
            self._reported = self._done
            self._progress(self._done, self._total)
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_input(
    path: Path, progress: Progress | None = None, *, max_bytes: int | None = None
) -> Any:
    """A readable Arrow stream of the decompressed content (close it, or use ``with``).

    Arrow's own gzip decoder is several times faster than Python's. ``progress`` may be called
    from Arrow's I/O thread. Reading more than ``max_bytes`` out of a gzip stream raises
    :class:`~obeya.ingest.limits.TooLarge` then and there: the decompression is streamed, so a
    bomb costs at most the limit (a plain file is its own size on disk, and is not limited).
    """
    gzipped = is_gzip(path)
    if progress is None:
        source: Any = pa.OSFile(str(path), "rb")
    else:
        raw = path.open("rb")
        source = pa.PythonFile(_CountingReader(raw, os.path.getsize(path), progress), mode="r")
    if not gzipped:
        return source
    inflated = pa.CompressedInputStream(source, "gzip")
    if max_bytes is None:
        return inflated
    return pa.PythonFile(BoundedReader(inflated, max_bytes), mode="r")


def read_all(stream: Any) -> bytes:
    """The rest of an :func:`open_input` stream, read a block at a time (a bounded stream
    cannot tell its size in advance, which a plain ``read()`` would ask)."""
    content = bytearray()
    while block := stream.read(_PEEK_BYTES * 16):
        content += block
    return bytes(content)
