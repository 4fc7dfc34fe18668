"""Fixtures for the ingest tests: small input files written on the fly."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

Write = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """``write(name, text, gz=False)``: a file in tmp_path, gzip-compressed when asked."""

    def _write(name: str, text: str | bytes, *, gz: bool = False) -> Path:
        data = text.encode() if isinstance(text, str) else text
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if gz else data)
        return path

    return _write
