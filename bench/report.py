"""What the benchmarks share: the project's interpreter, the machine they ran on, and their
tables as text or Markdown. Imported by the scripts beside it (run as ``python bench/X.py``)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

MIB = 1024**2
GIB = 1024**3


def python_for_project() -> str:
    """The project's virtualenv Python, so a child runs what `make test` installs."""
    candidate = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def machine() -> str:
    """What the figures were measured on: they mean little without it."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    load = os.getloadavg()[0]  # other work on the machine skews wall times: say how much
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB RAM, Python "
        f"{platform.python_version()}, load average {load:.1f} at the end"
    )


def render_text(rows: list[list[str]]) -> str:
    """A plain table: the first column left-aligned, the figures right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)
