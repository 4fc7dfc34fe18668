"""Results of the Simod peer benchmark: one JSON per dataset and contender, and RESULTS.md.

``results/DATASET-CONTENDER.json`` is written by ``run_simod.py``, ``bootstrap.py`` (and any other
contender scored through ``score.py --json`` and saved there with ``contender``, ``wall_s``,
``date`` and ``machine`` added). ``python results.py`` renders ``RESULTS.md`` from all of them.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ORDER = {"helpdesk": 0, "bpic2013": 1}
TITLES = {"helpdesk": "Helpdesk", "bpic2013": "BPIC 2013 incidents"}
#: table order; simod-same (start = end = the event's timestamp) is the headline Simod figure
CONTENDERS = {
    "simod-same": 0,
    "simod-same-run1": 0.5,
    "bootstrap": 1,
    "simod-estimate": 2,
    "simod-previous": 3,
}
LABELS = {
    "simod-same": "**Simod** (start = end)",
    "simod-same-run1": "Simod (start = end), an earlier run of the same command",
    "bootstrap": "**bootstrap** of training cycle times",
    "simod-estimate": "Simod (starts estimated by Simod)",
    "simod-previous": "Simod (start = previous event)",
}


def machine() -> str:
    """What the figures were measured on (as bench/report.py says it)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]  # other work on the machine skews wall times: say how much
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB RAM, Python {platform.python_version()}, "
        f"load average {load:.1f} at the end"
    )


def write_result(result: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{result['dataset']}-{result['contender']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def render() -> str:
    rows = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    rows.sort(
        key=lambda r: (
            ORDER.get(r["dataset"], 9),
            r["dataset"],
            CONTENDERS.get(r["contender"], 9),
            r["contender"],
        )
    )
    lines = [
        "# Simod peer benchmark: results",
        "",
        "Written by `python results.py` from `results/*.json`; the protocol is in README.md. CTD: "
        "cycle-time distribution distance (log-distance-measures, 1-hour bins) between the test "
        "cases and the simulated ones, in hours, lower is better; the mean over the runs, "
        "min–max beside it. Wall: the contender's whole run (Simod: the `simod` CLI process, "
        "discovery, tuning and the final simulations).",
        "",
        "| dataset | contender | CTD hours (mean) | min–max | runs | test cases "
        "| test mean cycle h | simulated mean cycle h | wall seconds | date | machine |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        sim_mean = sum(x["mean_cycle_h"] for x in r["runs"]) / len(r["runs"])
        lines.append(
            f"| {TITLES.get(r['dataset'], r['dataset'])} "
            f"| {LABELS.get(r['contender'], r['contender'])} "
            f"| {r['ctd_h_mean']:.1f} "
            f"| {r['ctd_h_min']:.1f}–{r['ctd_h_max']:.1f} | {len(r['runs'])} | {r['test_cases']} "
            f"| {r['test_mean_cycle_h']:.0f} | {sim_mean:.0f} | {r['wall_s']:.1f} | {r['date']} "
            f"| {r['machine']} |"
        )
    notes = [r for r in rows if r.get("simod_own_ctd_h")]
    if notes:
        lines += [
            "",
            "Simod's own `cycle_time_distribution` figures (its `evaluation_metrics.csv`), "
            "as a cross-check of `score.py`, and its stage runtimes (`runtimes.json`, seconds):",
            "",
        ]
        for r in notes:
            own = ", ".join(f"{x:.1f}" for x in r["simod_own_ctd_h"])
            stages = ", ".join(f"{k} {v:.0f}" for k, v in r.get("simod_runtimes_s", {}).items())
            lines.append(
                f"- {TITLES.get(r['dataset'], r['dataset'])}, {r['contender']}: CTD {own}; {stages}"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    (HERE / "RESULTS.md").write_text(render())
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
