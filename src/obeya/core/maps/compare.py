"""Future-state variants of a map, and every figure of each compared with the base map.

A comparison is flat on purpose: one row per figure (``totals.lead_time_hours``,
``steps.Review.utilisation``, ``waste.rework.hours_per_item``...) with the base value, the
variant's value, the delta (variant − base) and the % change (delta ÷ |base| × 100, None
when the base is 0 or missing). Steps are matched by name; a step that only one side has
shows ``None`` on the other side.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from obeya.core.maps.calculations import MapFigures, calculate
from obeya.core.maps.model import MapError, ValueStreamMap

#: Step figures compared; the others are inputs repeated from the map.
STEP_FIGURES = (
    "process_time_hours",
    "lead_time_hours",
    "wait_hours",
    "complete_accurate",
    "inventory_wait_hours",
    "capacity_per_day",
    "utilisation",
    "handoffs",
    "people",
)
TOTAL_FIGURES = (
    "lead_time_hours",
    "process_time_hours",
    "activity_ratio",
    "rolled_complete_accurate",
    "takt_time_hours",
)


#: Relative and absolute differences under which two figures are the same (float noise: a
#: total summed in another order).
SAME_WITHIN = 1e-9


@dataclass(frozen=True)
class FigureDelta:
    figure: str
    base: float | None
    value: float | None
    delta: float | None
    change_pct: float | None

    @property
    def changed(self) -> bool:
        """Whether the variant moved this figure: a value on one side only (a step added or
        removed) counts; float noise does not. Not in :meth:`VariantComparison.to_dict`."""
        if self.base is None or self.value is None:
            return (self.base is None) != (self.value is None)
        return not math.isclose(self.base, self.value, rel_tol=SAME_WITHIN, abs_tol=SAME_WITHIN)


@dataclass(frozen=True)
class VariantComparison:
    variant: str
    figures: tuple[FigureDelta, ...]
    constraint: str | None
    biggest_waste: str | None

    def figure(self, name: str) -> FigureDelta:
        return next(f for f in self.figures if f.figure == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "constraint": self.constraint,
            "biggest_waste": self.biggest_waste,
            "figures": [dataclasses.asdict(f) for f in self.figures],
        }


@dataclass(frozen=True)
class Comparison:
    base: MapFigures
    variants: tuple[VariantComparison, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": {
                "name": self.base.name,
                "variant": self.base.variant,
                "constraint": self.base.constraint.step if self.base.constraint else None,
                "biggest_waste": self.base.waste.biggest,
            },
            "variants": [v.to_dict() for v in self.variants],
        }


def variant_of(vsm: ValueStreamMap, name: str, **changes: Any) -> ValueStreamMap:
    """A copy of the map as the variant ``name``, with map fields changed (validated again)."""
    return dataclasses.replace(vsm, variant=name, extra=dict(vsm.extra), **changes)


def with_step(vsm: ValueStreamMap, step: str, **changes: Any) -> ValueStreamMap:
    """A copy of the map with one step's fields changed: ``with_step(m, "Review", people=2)``.

    Future states mostly change steps, and a frozen map makes that awkward by hand."""
    vsm.step(step)  # raises MapError naming the map when there is no such step
    steps = tuple(dataclasses.replace(s, **changes) if s.name == step else s for s in vsm.steps)
    return dataclasses.replace(vsm, steps=steps, extra=dict(vsm.extra))


def compare(base: ValueStreamMap, *variants: ValueStreamMap, **options: Any) -> Comparison:
    """Each variant's figures against the base's; ``options`` go to :func:`calculate`."""
    if not variants:
        raise MapError("compare needs at least one variant besides the base map")
    base_figures = calculate(base, **options)
    base_flat = flatten(base_figures)
    compared = []
    for vsm in variants:
        figures = calculate(vsm, **options)
        flat = flatten(figures)
        names = [*base_flat, *(k for k in flat if k not in base_flat)]
        compared.append(
            VariantComparison(
                variant=vsm.variant if vsm.variant != base.variant else vsm.name,
                figures=tuple(_delta(n, base_flat.get(n), flat.get(n)) for n in names),
                constraint=figures.constraint.step if figures.constraint else None,
                biggest_waste=figures.waste.biggest,
            )
        )
    return Comparison(base=base_figures, variants=tuple(compared))


def flatten(figures: MapFigures) -> dict[str, float | None]:
    """Every compared figure by its dotted name, in reading order."""
    flat: dict[str, float | None] = {f"totals.{k}": getattr(figures, k) for k in TOTAL_FIGURES}
    for step in figures.steps:
        for key in STEP_FIGURES:
            flat[f"steps.{step.name}.{key}"] = getattr(step, key)
    waste = figures.waste
    for category in waste.categories:
        flat[f"waste.{category.category}.hours_per_item"] = category.hours_per_item
        flat[f"waste.{category.category}.money_per_period"] = category.money_per_period
    flat["waste.total.hours_per_item"] = waste.total_hours_per_item
    flat["waste.total.money_per_period"] = waste.total_money_per_period
    return flat


def _delta(name: str, base: float | None, value: float | None) -> FigureDelta:
    delta = value - base if value is not None and base is not None else None
    change = delta / abs(base) * 100 if delta is not None and base else None
    return FigureDelta(figure=name, base=base, value=value, delta=delta, change_pct=change)
