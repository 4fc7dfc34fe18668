"""A value stream map's figures for reading, by what they measure: the map page, its
comparison table and ``obeya map show | compare`` show a figure the same way.

A figure's kind comes from its name (``steps.Build.utilisation`` is a share,
``totals.lead_time_hours`` hours); the formats are :mod:`obeya.render.numbers`'. A share shows to
about three significant digits (``91.7 %``, ``5 %``): a map's shares are few and read closely.
"""

from __future__ import annotations

from obeya.render.numbers import DASH, hours, money, number, share, signed_percent

#: Figures that are shares of 1 (the last part of a figure's name).
SHARES = ("activity_ratio", "rolled_complete_accurate", "complete_accurate", "utilisation")


def map_share(value: float | None) -> str:
    """A map's share as every shell and the drawing show it: ``91.7 %``, ``5 %``."""
    return share(value, None)


def kind(figure: str) -> str:
    """``hours``, ``share``, ``money`` or ``number``, from the figure's (dotted) name."""
    last = figure.rsplit(".", 1)[-1]
    if last.endswith("_hours") or last == "hours_per_item":
        return "hours"
    if last in SHARES:
        return "share"
    if last == "money_per_period":
        return "money"
    return "number"


def shown(value: float | None, of: str) -> str:
    """A figure of kind ``of``: ``96 h``, ``91.7 %``, ``12,346``, ``1.5``."""
    if of == "hours":
        return hours(value)
    if of == "share":
        return map_share(value)
    if of == "money":
        return money(value)
    return number(value)


def delta(value: float | None, of: str) -> str:
    """A difference of kind ``of``, signed: ``+3.5 h``, ``-5 pp`` (a share moves in percentage
    points, not in percent of itself), ``+1,200``; no difference is ``0``."""
    if value is None:
        return DASH
    if value == 0:
        return "0"
    sign = "+" if value > 0 else "-"
    size = abs(value)
    if of == "share":
        return f"{sign}{number(size * 100)} pp"
    return f"{sign}{shown(size, of)}"


def change(percent: float | None) -> str:
    """A figure's change in percent of the base's: ``+12.5 %``, ``-50 %``."""
    return signed_percent(percent, 1)
