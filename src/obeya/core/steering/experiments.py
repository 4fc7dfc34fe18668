"""Improvement experiments: did a change move a flow metric, measured on the items themselves?

An experiment compares the items that finished in a **baseline** window with those that
finished in a **trial** window (UTC dates, both ends inclusive; an item belongs to the window in
which it finished). For each window it takes one value per item — cycle time or lead time in
days, or flow efficiency (see docs/conventions.md) — and reports:

- the **medians** (numpy's linear interpolation, the project's percentile convention);
- the **effect**: trial median ÷ baseline median − 1 (−0.2 is a median 20 % lower);
- a **95 % confidence interval** of the effect by the percentile bootstrap: each window is
  resampled with replacement, independently, to its own size; the effect is recomputed on each
  of ``resamples`` pairs of resamples, and the interval is the 2.5th and 97.5th percentiles of
  those effects (linear interpolation). The draws come from one seeded generator per window
  (``numpy.random.SeedSequence(seed).spawn(2)``), so the same seed gives the same interval;
- the **p-value** of a two-sided Mann–Whitney U test of trial against baseline,
  ``scipy.stats.mannwhitneyu`` with scipy's defaults (method ``"auto"``, continuity
  correction), so the figure equals scipy's;
- the **verdict** at significance level α: p < α and the effect in the better direction
  (lower cycle or lead time, higher flow efficiency) → ``"improved"``; p < α and the other way
  → ``"worse"``; otherwise ``"no change"``. Only the p-value and the sign of the effect decide
  it; the interval says how large the change plausibly is.

A **guard** metric (quality must not get worse) is evaluated the same way on the same items;
it has *worsened* when its own verdict is ``"worse"``.

**Quality rates** are always checked beside the target: the **reopen rate** (finished items of
the window that had been reopened, ÷ its finished items; per item ``reopened`` in the scatter
rows) and, where the stream has deployments, the **change failure rate** (deployments with an
incident ÷ counted deployments, per window; docs/conventions.md). Each is compared between
the windows with Fisher's exact test (two-sided, ``scipy.stats.fisher_exact``); a rate that
*rose* (p < α and higher in the trial) while the target improved is flagged: a flow gain bought
with quality.

Everything here is pure: it reads plain per-item rows (``FlowReport.scatter``) and numbers.
See docs/steering.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from obeya.errors import InputError

Verdict = Literal["improved", "worse", "no change"]
FloatArray = npt.NDArray[np.float64]

DEFAULT_ALPHA = 0.05
DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 1
#: Most values drawn at once (resamples × items, per window); bounds memory on big windows.
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class Metric:
    """A per-item figure an experiment can compare: its key in a scatter row and direction."""

    name: str
    field: str
    lower_is_better: bool
    unit: str


#: The metrics an experiment can target or guard, by the name the CLI and JSON use.
METRICS: dict[str, Metric] = {
    "cycle_time": Metric("cycle_time", "cycle_time_days", True, "days"),
    "lead_time": Metric("lead_time", "lead_time_days", True, "days"),
    "flow_efficiency": Metric("flow_efficiency", "flow_efficiency", False, "ratio"),
}


def metric(name: str, option: str = "--metric") -> Metric:
    """The metric called ``name``; an error naming ``option`` and the choices otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        choices = ", ".join(METRICS)
        raise InputError(f"{option}: unknown metric {name!r}; choose one of {choices}") from None


# -- windows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """UTC calendar dates, both ends inclusive. ``name`` is how errors refer to it."""

    start: date
    end: date
    name: str = "window"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError(
                f"{self.name}: the end {self.end} is before the start {self.start}; "
                "use START..END with START on or before END"
            )

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def overlaps(self, other: Window) -> bool:
        return self.start <= other.end and other.start <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def parse_window(text: str, name: str) -> Window:
    """A window from ``YYYY-MM-DD..YYYY-MM-DD``; errors name the field (e.g. ``--baseline``)."""
    start, sep, end = text.strip().partition("..")
    try:
        if not sep:
            raise ValueError
        return Window(date.fromisoformat(start.strip()), date.fromisoformat(end.strip()), name)
    except ValueError:
        raise InputError(
            f"{name}: {text!r} is not a window; use YYYY-MM-DD..YYYY-MM-DD (both dates "
            "inclusive, UTC)"
        ) from None


def check_windows(baseline: Window, trial: Window) -> None:
    """Refuse overlapping windows: an item would count in both."""
    if baseline.overlaps(trial):
        raise InputError(
            f"{trial.name}: {trial} overlaps {baseline.name} {baseline}; "
            "the windows must not share a day"
        )


def window_values(rows: Iterable[Mapping[str, Any]], window: Window, chosen: Metric) -> list[float]:
    """The metric of each finished item whose finish date falls in the window.

    ``rows`` are per-item scatter rows (``FlowReport.scatter``: ``finished`` as YYYY-MM-DD,
    ``cycle_time_days``, ``lead_time_days``, ``flow_efficiency``). Items without a value (flow
    efficiency of an item with zero cycle time, or of a log without a workflow) are left out.
    """
    values: list[float] = []
    for row in rows:
        value = row.get(chosen.field)
        if value is None or date.fromisoformat(row["finished"]) not in window:
            continue
        values.append(float(value))
    return values


# -- the evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Baseline against trial for one metric; see the module docstring for each figure."""

    baseline_items: int
    trial_items: int
    baseline_median: float
    trial_median: float
    baseline_p85: float
    trial_p85: float
    effect: float
    ci95: tuple[float | None, float | None]
    p_value: float
    u_statistic: float
    verdict: Verdict
    lower_is_better: bool
    alpha: float
    resamples: int
    seed: int


def evaluate(
    baseline: Sequence[float],
    trial: Sequence[float],
    *,
    lower_is_better: bool = True,
    alpha: float = DEFAULT_ALPHA,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Evaluation:
    """Compare the per-item values of a trial with a baseline (see the module docstring).

    Raises :class:`InputError` when a window is empty, when the baseline median is 0 (no
    relative effect exists), or when ``alpha`` or ``resamples`` make no sense.
    """
    from scipy.stats import mannwhitneyu

    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, not {alpha}")
    if resamples < 1:
        raise InputError(f"resamples must be at least 1, not {resamples}")
    base = np.asarray(baseline, dtype=np.float64)
    test = np.asarray(trial, dtype=np.float64)
    if base.size == 0 or test.size == 0:
        raise InputError("both the baseline and the trial need at least one item")
    base_median = float(np.median(base))
    test_median = float(np.median(test))
    if base_median == 0:
        raise InputError(
            "the baseline median is 0: a relative effect (trial ÷ baseline) is undefined"
        )
    effect = test_median / base_median - 1
    ci95 = bootstrap_ci(base, test, resamples=resamples, seed=seed)
    result = mannwhitneyu(test, base, alternative="two-sided")
    p_value = float(result.pvalue)
    return Evaluation(
        baseline_items=int(base.size),
        trial_items=int(test.size),
        baseline_median=base_median,
        trial_median=test_median,
        baseline_p85=float(np.percentile(base, 85)),
        trial_p85=float(np.percentile(test, 85)),
        effect=effect,
        ci95=ci95,
        p_value=p_value,
        u_statistic=float(result.statistic),
        verdict=verdict(p_value, effect, lower_is_better=lower_is_better, alpha=alpha),
        lower_is_better=lower_is_better,
        alpha=alpha,
        resamples=resamples,
        seed=seed,
    )


def verdict(p_value: float, effect: float, *, lower_is_better: bool, alpha: float) -> Verdict:
    """``improved`` / ``worse`` when p < α, by the direction of the effect; else no change."""
    if not p_value < alpha or effect == 0:
        return "no change"
    better = effect < 0 if lower_is_better else effect > 0
    return "improved" if better else "worse"


def bootstrap_effects(
    baseline: FloatArray, trial: FloatArray, *, resamples: int, seed: int
) -> FloatArray:
    """The effect (trial median ÷ baseline median − 1) of ``resamples`` bootstrap replicates.

    Replicate i resamples each window with replacement to its own size: its baseline draws
    are row i of ``integers(0, len(baseline), (resamples, len(baseline)))`` from the first of
    ``SeedSequence(seed).spawn(2)``, its trial draws likewise from the second. Drawn in
    chunks of rows (the same draws as one big array) so memory stays bounded. A replicate
    whose baseline median is 0 gives ±inf (or nan when both medians are 0).
    """
    base_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    rows = max(1, _CHUNK_CELLS // max(baseline.size, trial.size))
    effects = np.empty(resamples, dtype=np.float64)
    for first in range(0, resamples, rows):
        k = min(rows, resamples - first)
        base_medians = np.median(
            baseline[base_rng.integers(0, baseline.size, (k, baseline.size))], axis=1
        )
        test_medians = np.median(trial[test_rng.integers(0, trial.size, (k, trial.size))], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            effects[first : first + k] = test_medians / base_medians - 1
    return effects


def bootstrap_ci(
    baseline: FloatArray, trial: FloatArray, *, resamples: int, seed: int
) -> tuple[float | None, float | None]:
    """Percentile-bootstrap 95 % interval of the effect: the 2.5th and 97.5th percentiles
    (linear interpolation) of :func:`bootstrap_effects`. None for a bound that is not finite
    (replicates with a baseline median of 0)."""
    effects = bootstrap_effects(baseline, trial, resamples=resamples, seed=seed)
    low, high = (float(v) for v in np.percentile(effects, [2.5, 97.5]))
    return (low if np.isfinite(low) else None, high if np.isfinite(high) else None)


# -- an experiment on a log --------------------------------------------------------------------


@dataclass(frozen=True)
class MetricResult:
    """One metric of an experiment: its evaluation between the windows."""

    metric: Metric
    evaluation: Evaluation

    def summary(self) -> dict[str, Any]:
        e = self.evaluation
        return {
            "metric": self.metric.name,
            "lower_is_better": e.lower_is_better,
            "baseline_median": e.baseline_median,
            "trial_median": e.trial_median,
            "effect": e.effect,
            "ci95": list(e.ci95),
            "p_value": e.p_value,
            "verdict": e.verdict,
        }


@dataclass(frozen=True)
class RateChange:
    """A quality rate in both windows: ``events`` of ``of`` (reopened of finished items,
    failed of counted deployments), and Fisher's exact test between them."""

    name: str
    baseline: tuple[int, int]
    trial: tuple[int, int]
    p_value: float | None
    alpha: float

    @staticmethod
    def rate(pair: tuple[int, int]) -> float | None:
        return pair[0] / pair[1] if pair[1] else None

    @property
    def rose(self) -> bool:
        before, after = self.rate(self.baseline), self.rate(self.trial)
        return (
            self.p_value is not None
            and self.p_value < self.alpha
            and before is not None
            and after is not None
            and after > before
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.name,
            "baseline": {
                "events": self.baseline[0],
                "of": self.baseline[1],
                "rate": self.rate(self.baseline),
            },
            "trial": {"events": self.trial[0], "of": self.trial[1], "rate": self.rate(self.trial)},
            "p_value": self.p_value,
            "test": "Fisher's exact, two-sided (scipy.stats.fisher_exact)",
            "rose": self.rose,
        }


def rate_change(
    name: str, baseline: tuple[int, int], trial: tuple[int, int], alpha: float = DEFAULT_ALPHA
) -> RateChange:
    """The rate ``name`` compared between the windows (no test when either has no case)."""
    from scipy.stats import fisher_exact

    p_value = None
    if baseline[1] and trial[1]:
        table = [
            [baseline[0], baseline[1] - baseline[0]],
            [trial[0], trial[1] - trial[0]],
        ]
        p_value = float(fisher_exact(table, alternative="two-sided").pvalue)
    return RateChange(name, baseline, trial, p_value, alpha)


def reopen_counts(rows: Iterable[Mapping[str, Any]], window: Window) -> tuple[int, int] | None:
    """(reopened, finished) of the items that finished in ``window``; None when the rows
    cannot tell (no workflow)."""
    flags = [r.get("reopened") for r in rows if date.fromisoformat(str(r["finished"])) in window]
    if any(flag is None for flag in flags):
        return None
    return sum(1 for flag in flags if flag), len(flags)


@dataclass(frozen=True)
class Experiment:
    """A target metric (and an optional guard) compared between a baseline and a trial."""

    baseline: Window
    trial: Window
    target: MetricResult
    guard: MetricResult | None = None
    #: Quality rates checked beside the target (the reopen rate; the change failure rate
    #: where the stream has deployments).
    quality: tuple[RateChange, ...] = ()

    @property
    def quality_flags(self) -> list[str]:
        """Each quality rate that rose while the target improved, in a sentence."""
        if self.verdict != "improved":
            return []
        flags = []
        for q in self.quality:
            if q.rose:
                before, after = q.rate(q.baseline), q.rate(q.trial)
                assert before is not None and after is not None and q.p_value is not None
                flags.append(
                    f"{self.target.metric.name} improved, but the {q.name.replace('_', ' ')} "
                    f"rose from {before:.1%} to {after:.1%} (p = {q.p_value:.3g}): a flow "
                    "gain bought with quality"
                )
        return flags

    @property
    def verdict(self) -> Verdict:
        return self.target.evaluation.verdict

    @property
    def guard_ok(self) -> bool | None:
        """False when the guard got significantly worse; None without a guard."""
        return None if self.guard is None else self.guard.evaluation.verdict != "worse"

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``obeya experiment evaluate --json``."""
        e = self.target.evaluation
        guard: dict[str, Any] | None = None
        if self.guard is not None:
            g = self.guard.summary()
            guard = {
                "metric": g["metric"],
                "baseline_median": g["baseline_median"],
                "trial_median": g["trial_median"],
                "effect": g["effect"],
                "ci95": g["ci95"],
                "p_value": g["p_value"],
                "worsened": g["verdict"] == "worse",
            }
        return {
            "metric": self.target.metric.name,
            "unit": self.target.metric.unit,
            "lower_is_better": e.lower_is_better,
            "baseline": {
                **self.baseline.to_dict(),
                "items": e.baseline_items,
                "median": e.baseline_median,
                "p85": e.baseline_p85,
            },
            "trial": {
                **self.trial.to_dict(),
                "items": e.trial_items,
                "median": e.trial_median,
                "p85": e.trial_p85,
            },
            "effect": e.effect,
            "ci95": list(e.ci95),
            "p_value": e.p_value,
            "u_statistic": e.u_statistic,
            "verdict": e.verdict,
            "alpha": e.alpha,
            "test": "Mann-Whitney U, two-sided (scipy.stats.mannwhitneyu, method auto)",
            "bootstrap": {"method": "percentile", "resamples": e.resamples, "seed": e.seed},
            "guard": guard,
            "guard_ok": self.guard_ok,
            "quality": [q.to_dict() for q in self.quality],
            "quality_flags": self.quality_flags,
        }


def run_experiment(
    rows: Sequence[Mapping[str, Any]],
    baseline: Window,
    trial: Window,
    *,
    target: str = "cycle_time",
    guard: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    change_failures: tuple[tuple[int, int], tuple[int, int]] | None = None,
) -> Experiment:
    """The experiment on per-item rows (``FlowReport.scatter``): the windows are checked
    (no overlap, each holding at least one finished item with a value), then the target and
    the guard are evaluated with the same seed, and the quality rates compared
    (``change_failures``: (failed, deployments) of the baseline and the trial, if known)."""
    check_windows(baseline, trial)
    chosen = metric(target, "--metric")
    guarded = metric(guard, "--guard") if guard is not None else None

    def result(m: Metric) -> MetricResult:
        values = []
        for window in (baseline, trial):
            found = window_values(rows, window, m)
            if not found:
                what = (
                    "finished item"
                    if m.name != "flow_efficiency"
                    else "item with a flow efficiency"
                )
                raise InputError(
                    f"{window.name}: no {what} in {window}; choose a window with finished items"
                )
            values.append(found)
        if float(np.median(values[0])) == 0:
            raise InputError(
                f"{baseline.name}: the median {m.name} is 0 in {baseline}, so a relative "
                "effect (trial ÷ baseline) is undefined; choose another window or metric"
            )
        evaluation = evaluate(
            values[0],
            values[1],
            lower_is_better=m.lower_is_better,
            alpha=alpha,
            resamples=resamples,
            seed=seed,
        )
        return MetricResult(m, evaluation)

    quality = []
    reopens = (reopen_counts(rows, baseline), reopen_counts(rows, trial))
    if reopens[0] is not None and reopens[1] is not None:
        quality.append(rate_change("reopen_rate", reopens[0], reopens[1], alpha))
    if change_failures is not None:
        quality.append(rate_change("change_failure_rate", *change_failures, alpha))
    return Experiment(
        baseline,
        trial,
        result(chosen),
        result(guarded) if guarded is not None else None,
        tuple(quality),
    )
