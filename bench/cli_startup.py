"""Benchmark: how fast the ``obeya`` command starts, as a ratio to ``import typer``.

A user types ``obeya --help`` first; it should answer as fast as any small Typer tool. Each
contender runs ``--repeat`` times in a fresh process, the contenders interleaved round by round
so that a burst of load on the shared machine hits them all alike; the figure is the median wall
time, judged against ``--limit`` (CPU time, user + system of the child from ``os.wait4``, and
its ratio are shown beside it: less swayed by other work on the machine):

- ``import typer``: ``python -c "import typer"``, the floor of any Typer command;
- a minimal two-command Typer app answering ``--help`` (Rich renders its help), the cost of
  Typer itself: about 2.2× the floor;
- ``obeya --help`` and ``obeya metrics --help``, through the console script.

Target (docs/performance.md): each ``obeya`` row at most 3× ``import typer``; the exit status is
1 when a ratio exceeds ``--limit``. Timing lives here, never in the tests: the test
``tests/cli/test_startup.py`` checks instead that ``--help`` imports no heavy module.

Usage: ``python bench/cli_startup.py [--repeat 7] [--limit 3.0]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from report import machine, python_for_project

MINIMAL_APP = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str) -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def goodbye(name: str, formal: bool = False) -> None:
    """Say goodbye."""
    print(f"goodbye {name}")


app()
'''


@dataclass(frozen=True)
class Contender:
    label: str
    argv: list[str]
    judged: bool  # held to the limit


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds, median
    cpu: float  # seconds, median


def contenders(python: str, app_file: Path) -> list[Contender]:
    script = Path(python).parent / "obeya"
    obeya = [str(script)] if script.exists() else [python, "-m", "obeya.cli.main"]
    return [
        Contender("import typer", [python, "-c", "import typer"], judged=False),
        Contender("minimal 2-command Typer app --help", [python, str(app_file), "--help"], False),
        Contender("obeya --help", [*obeya, "--help"], judged=True),
        Contender("obeya metrics --help", [*obeya, "metrics", "--help"], judged=True),
    ]


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh child; a failing child is an error, not a figure."""
    # COLUMNS fixed: Rich sizes the help to the terminal, and a pipe has none.
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{errors.decode()}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(runs: list[Contender], repeat: int) -> list[Timing]:
    walls: list[list[float]] = [[] for _ in runs]
    cpus: list[list[float]] = [[] for _ in runs]
    for contender in runs:  # warm the page cache and the .pyc files: not a figure
        run_once(contender.argv)
    for _ in range(repeat):
        for i, contender in enumerate(runs):
            wall, cpu = run_once(contender.argv)
            walls[i].append(wall)
            cpus[i].append(cpu)
    return [
        Timing(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each contender")
    parser.add_argument("--limit", type=float, default=3.0, help="largest ratio allowed")
    args = parser.parse_args()
    python = python_for_project()
    with tempfile.TemporaryDirectory() as tmp:
        app_file = Path(tmp) / "two_commands.py"
        app_file.write_text(MINIMAL_APP, encoding="utf-8")
        runs = contenders(python, app_file)
        timings = measure(runs, args.repeat)
    floor, cpu_floor = timings[0].wall, timings[0].cpu
    print(f"median of {args.repeat} fresh runs on {machine()}")
    print(f"{'':36} {'wall ms':>8} {'CPU ms':>8} {'÷ import typer':>15} {'CPU ÷':>6}")
    over = []
    for contender, timing in zip(runs, timings, strict=True):
        ratio = timing.wall / floor
        mark = ""
        if contender.judged and ratio > args.limit:
            over.append(contender.label)
            mark = f"  over {args.limit:g}×"
        print(
            f"{contender.label:36} {timing.wall * 1000:8.0f} {timing.cpu * 1000:8.0f} "
            f"{ratio:14.2f}× {timing.cpu / cpu_floor:5.2f}×{mark}"
        )
    if over:
        print(f"too slow to start: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
