"""Benchmark: Obeya's simulation engine against a plain SimPy model of the same value stream.

One 10-step stream, built in code: Poisson arrivals at 10 items a day; steps of 1–3 servers
with exponential process times, utilisations 0.50–0.85; one step (Review) with %C&A 0.9, so a
tenth of its passes queue again (rework); no WIP limits. Over the default 10,000 days (warm-up
1,000) a run pushes about 100,000 items through the stream.

- **Obeya**: ``simulate(Scenario(...))`` with one replication, through the public API only
  (``Scenario``, ``SimStep``, ``Distribution``, ``simulate``), result object included;
- **plain**: the same stream as one would write it in SimPy without Obeya: a Poisson source,
  ten ``simpy.Resource``s, an item process that requests each one, draws an exponential time
  from ``random.Random`` and repeats the step with probability 1 − %C&A, and a list of lead
  times for items that arrived after the warm-up. Nothing else is measured.

Both are checked against queueing theory: the stream is an open Jackson network, so its mean
lead time is the sum over steps of the M/M/c mean time in system (Erlang C), at arrival rate
λ ÷ %C&A and counted 1 ÷ %C&A times at the rework step.

Each contender runs ``--repeat`` times, each time in a fresh process with the same seed (so
the same simulated work); the best wall time is reported. Wall time is that of the
simulation call alone (imports and interpreter start excluded); items per second counts the
items that arrived after the warm-up and finished, so it is conservative (the warm-up's items
are simulated too). Peak memory is the child's own maximum resident set (``os.wait4``, as in
``bench/flow.py``), the worst over the repeats; "after imports" is the same figure taken just
before the simulation starts.

Usage: ``python bench/simulate.py [--days 10000] [--warmup 1000] [--repeat 3] [--markdown]
[--json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass
from typing import Any

from report import MIB, machine, python_for_project, render_markdown, render_text

ARRIVAL_RATE_PER_DAY = 10.0
#: name, servers, mean process time (days), %C&A. Utilisation = λ ÷ %C&A × mean ÷ servers.
STEPS: tuple[tuple[str, int, float, float], ...] = (
    ("Triage", 1, 0.050, 1.0),  # ρ 0.50
    ("Analyse", 2, 0.140, 1.0),  # ρ 0.70
    ("Design", 1, 0.060, 1.0),  # ρ 0.60
    ("Build", 3, 0.240, 1.0),  # ρ 0.80
    ("Review", 1, 0.0675, 0.9),  # ρ 0.75 with rework: 10/0.9 × 0.0675
    ("Test", 2, 0.170, 1.0),  # ρ 0.85
    ("Fix", 1, 0.055, 1.0),  # ρ 0.55
    ("Accept", 1, 0.065, 1.0),  # ρ 0.65
    ("Release", 2, 0.100, 1.0),  # ρ 0.50
    ("Deploy", 1, 0.070, 1.0),  # ρ 0.70
)
CONTENDERS = ("obeya", "plain")
TITLES = {"obeya": "Obeya", "plain": "plain SimPy"}


@dataclass(frozen=True)
class Outcome:
    """What one child run reports: the lead-time sample and the time it took."""

    items: int  # arrived after the warm-up and finished before the end
    lead_time_mean: float  # days
    seconds: float  # the simulation call alone
    rss_after_imports: int  # bytes, the child's peak resident set before simulating


@dataclass(frozen=True)
class Measured:
    """One contender over the repeats: best wall time, worst peak memory."""

    contender: str
    items: int
    lead_time_mean: float
    seconds: float
    peak_bytes: int
    imports_bytes: int

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds


# --- the two contenders ---------------------------------------------------------------------


def run_obeya(days: float, warmup: float, seed: int) -> tuple[int, float]:
    """The stream through Obeya's engine: (items in the lead-time sample, mean lead time)."""
    from obeya.core.simulation import Distribution, Scenario, SimStep, simulate

    scenario = Scenario(
        name="bench-10-steps",
        arrival_rate_per_day=ARRIVAL_RATE_PER_DAY,
        days=days,
        warmup_days=warmup,
        replications=1,
        seed=seed,
        steps=tuple(
            SimStep(
                name=name,
                servers=servers,
                process_time=Distribution("exponential", mean=mean),
                complete_accurate=complete_accurate,
            )
            for name, servers, mean, complete_accurate in STEPS
        ),
    )
    result = simulate(scenario)
    return result.replications[0].items, result.lead_time_mean


def run_plain(days: float, warmup: float, seed: int) -> tuple[int, float]:
    """The same stream in plain SimPy, written without Obeya."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    stations = [
        (simpy.Resource(env, capacity=servers), 1.0 / mean, complete_accurate)
        for _, servers, mean, complete_accurate in STEPS
    ]
    lead_times: list[float] = []

    def item(arrived: float) -> Generator[simpy.Event, Any, None]:
        for station, rate, complete_accurate in stations:
            while True:
                with station.request() as request:
                    yield request
                    yield env.timeout(rng.expovariate(rate))
                if complete_accurate >= 1.0 or rng.random() < complete_accurate:
                    break
        if arrived >= warmup:
            lead_times.append(env.now - arrived)

    def source() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rng.expovariate(ARRIVAL_RATE_PER_DAY))
            env.process(item(env.now))

    env.process(source())
    env.run(until=days)
    return len(lead_times), math.fsum(lead_times) / len(lead_times)


def child(contender: str, days: float, warmup: float, seed: int) -> None:
    """Run one contender in this process and print its :class:`Outcome` as JSON."""
    run = run_obeya if contender == "obeya" else run_plain
    if contender == "obeya":  # import before the clock starts, as the plain run does
        import obeya.core.simulation  # noqa: F401
    else:
        import simpy  # noqa: F401
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    began = time.perf_counter()
    items, lead_time_mean = run(days, warmup, seed)
    seconds = time.perf_counter() - began
    print(json.dumps(asdict(Outcome(items, lead_time_mean, seconds, rss))))


# --- queueing theory ------------------------------------------------------------------------


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (offered load a = λ ÷ μ < c)."""
    term = 1.0
    below = 1.0  # sum of a^k / k! for k < c
    for k in range(1, servers):
        term *= offered / k
        below += term
    top = term * offered / servers * servers / (servers - offered)  # a^c / c! × c / (c − a)
    return top / (below + top)


def jackson_lead_time(rate: float, steps: tuple[tuple[str, int, float, float], ...]) -> float:
    """Mean lead time (days) of the open Jackson network: Σ M/M/c time in system per item.

    A step with %C&A p sees λ ÷ p passes a day and an item makes 1 ÷ p passes on average.
    """
    total = 0.0
    for _, servers, mean, complete_accurate in steps:
        passes = rate / complete_accurate
        offered = passes * mean
        wait = erlang_c(servers, offered) * mean / (servers - offered)  # C ÷ (cμ − λ)
        total += (wait + mean) / complete_accurate
    return total


# --- measuring ------------------------------------------------------------------------------


def measure_once(contender: str, args: argparse.Namespace) -> tuple[Outcome, int]:
    """One child run: its outcome and its own peak resident set (bytes)."""
    command = [python_for_project(), __file__, "--child", contender]
    command += ["--days", str(args.days), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child_process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(child_process.pid, 0)
        child_process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if child_process.returncode != 0:
        sys.exit(f"{contender} failed:\n{stderr}")
    return Outcome(**json.loads(stdout.strip().splitlines()[-1])), usage.ru_maxrss * 1024


def measure(contender: str, args: argparse.Namespace) -> Measured:
    best: Outcome | None = None
    peak = imports = 0
    for _ in range(args.repeat):
        outcome, rss = measure_once(contender, args)
        peak, imports = max(peak, rss), max(imports, outcome.rss_after_imports)
        if best is None or outcome.seconds < best.seconds:
            best = outcome
    assert best is not None
    return Measured(
        contender, best.items, best.lead_time_mean, best.seconds, peak, imports_bytes=imports
    )


# --- output ---------------------------------------------------------------------------------


def table(runs: list[Measured], analytical: float) -> list[list[str]]:
    rows = [
        [
            "contender",
            "items",
            "mean lead time d",
            "vs theory",
            "wall s",
            "items/s",
            "peak MiB",
            "after imports MiB",
        ]
    ]
    for run in runs:
        rows.append(
            [
                TITLES[run.contender],
                f"{run.items:,}",
                f"{run.lead_time_mean:.3f}",
                f"{(run.lead_time_mean / analytical - 1) * 100:+.1f} %",
                f"{run.seconds:.2f}",
                f"{run.items_per_second:,.0f}",
                f"{run.peak_bytes / MIB:,.0f}",
                f"{run.imports_bytes / MIB:,.0f}",
            ]
        )
    rows.append(["Jackson network (theory)", "", f"{analytical:.3f}", "", "", "", "", ""])
    return rows


def describe_stream() -> str:
    lines = [f"stream: Poisson arrivals {ARRIVAL_RATE_PER_DAY:g}/day, {len(STEPS)} steps"]
    for name, servers, mean, complete_accurate in STEPS:
        utilisation = ARRIVAL_RATE_PER_DAY / complete_accurate * mean / servers
        rework = f", %C&A {complete_accurate:g}" if complete_accurate < 1 else ""
        lines.append(
            f"  {name:<8} {servers} server(s), exponential mean {mean:g} d, "
            f"ρ {utilisation:.2f}{rework}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=10_000.0, help="simulated days")
    parser.add_argument("--warmup", type=float, default=1_000.0, help="warm-up days")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; best wall")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.days, args.warmup, args.seed)
        return 0
    if not (args.days > args.warmup >= 0 and args.repeat >= 1):
        parser.error("need days > warmup ≥ 0 and repeat ≥ 1")

    analytical = jackson_lead_time(ARRIVAL_RATE_PER_DAY, STEPS)
    if not args.json:
        print(describe_stream(), file=sys.stderr)
        print(f"{args.days:g} days, warm-up {args.warmup:g}, seed {args.seed}", file=sys.stderr)
    runs = []
    for contender in CONTENDERS:
        run = measure(contender, args)
        runs.append(run)
        if not args.json:
            print(f"  {TITLES[contender]:<12} {run.seconds:.2f} s", file=sys.stderr)
    obeya, plain = runs
    slowdown = obeya.seconds / plain.seconds
    memory = obeya.peak_bytes / plain.peak_bytes
    if args.json:
        figures = {
            "days": args.days,
            "warmup_days": args.warmup,
            "seed": args.seed,
            "repeat": args.repeat,
            "lead_time_mean_theory": analytical,
            "runs": [asdict(run) | {"items_per_second": run.items_per_second} for run in runs],
            "obeya_over_plain_seconds": slowdown,
            "obeya_over_plain_peak": memory,
            "machine": machine(),
        }
        print(json.dumps(figures, indent=2))
        return 0
    rows = table(runs, analytical)
    print(render_markdown(rows) if args.markdown else render_text(rows))
    print()
    prefix = "- " if args.markdown else ""
    print(
        f"{prefix}Obeya ÷ plain: {slowdown:.2f}× the wall time "
        f"({obeya.items_per_second / plain.items_per_second:.2f}× the items per second), "
        f"{memory:.2f}× the peak memory."
    )
    print(f"{prefix}Machine: {machine()}; best of {args.repeat} run(s), simulation call only.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
