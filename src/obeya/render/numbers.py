"""How Obeya shows numbers, shares, durations and dates, and how it reads a typed share.

The one home of formatting: the CLI, the pages (as Jinja filters, see :data:`FILTERS`), the
SVG drawings and the PDF report all call these, so a figure reads the same everywhere. The
house style (``docs/conventions.md``):

- thousands separated by a comma, a point for decimals: ``1,234.5``;
- a share is stored and sent (JSON) as a fraction, ``0.227``, and shown in percent with a
  space before the sign, ``23 %`` (to a decimal where asked, ``27.5 %``, trailing zeros
  dropped: ``20 %``); an effect is signed, ``+27.5 %``;
- a missing value is one em dash, :data:`DASH`;
- dates in ISO form, ``2024-03-05``; durations in days (``3.5 days``) or hours (``3.5 h``);
- a count agrees with its noun: ``1 person``, ``2 people``, ``1 risk``, ``2 risks``.

A share is typed as a fraction (``0.2``) or in percent (``20%``, ``20 %``); a bare number above
1 (``20``) is refused rather than guessed at (:func:`parse_share`).

Pure Python: no web, no CLI, no database.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date as Date
from datetime import datetime
from typing import Any

# The fixed-decimal figure and its trimming are the core's too: its messages show shares so.
from obeya.core.shares import fixed as _fixed

# Re-exported: the one reading of a typed share lives in the core (files it reads use it too).
from obeya.core.shares import parse_optional_share as parse_optional_share
from obeya.core.shares import parse_share as parse_share
from obeya.core.shares import trim as _trim

#: What a missing value shows as, everywhere.
DASH = "—"

#: Nouns whose plural is not the noun and an "s" (nor "es"/"ies" by the rules below).
IRREGULAR = {"person": "people", "child": "children", "is": "are", "was": "were"}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, digits: int | None = None, trim: bool = False) -> str:
    """A figure for reading. ``digits`` fixes the decimals (``1,234.5`` with 1; with ``trim``
    trailing zeros go: ``3`` and ``2.25`` with 2); without it the figure keeps about three
    significant digits (``1,234``, ``12.3``, ``1.23``, ``0.0123``)."""
    if _missing(value):
        return DASH
    assert value is not None
    if digits is not None:
        return _trim(_fixed(value, digits)) if trim else _fixed(value, digits)
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 100:
        return _fixed(value, 0)
    if size >= 10:
        return f"{value:.1f}".removesuffix(".0")
    if size >= 1:
        return f"{value:.2f}".rstrip("0").removesuffix(".")
    return f"{value:.3g}"


def signed(value: float | None, digits: int = 1) -> str:
    """A change for reading: ``+1.5``, ``-0.3``; what rounds to no change is ``0.0``."""
    if _missing(value):
        return DASH
    assert value is not None
    return _fixed(value, digits, sign=True)


def percent(value: float | None, digits: int | None = 0) -> str:
    """A figure already in percent (a backtest's hit rate, a change in %): ``percent(57.4)``
    is ``57 %``, ``percent(27.5, 1)`` ``27.5 %``; as :func:`share` for a fraction."""
    if _missing(value):
        return DASH
    assert value is not None
    text = number(value, digits)
    return f"{_trim(text) if digits else text} %"


def share(value: float | None, digits: int | None = 0) -> str:
    """A fraction in percent: ``share(0.227)`` is ``23 %``, ``share(0.275, 1)`` ``27.5 %``,
    ``share(0.2, 1)`` ``20 %`` (decimals only where they say something). ``digits=None`` keeps
    about three significant digits (``0.5 %``, ``12.5 %``)."""
    if _missing(value):
        return DASH
    assert value is not None
    return percent(value * 100, digits)


def signed_percent(value: float | None, digits: int = 1) -> str:
    """A change already in percent: ``signed_percent(27.5)`` is ``+27.5 %``,
    ``signed_percent(-12.0)`` ``-12 %``; what rounds to no change is ``0 %``."""
    if _missing(value):
        return DASH
    assert value is not None
    return f"{_trim(_fixed(value, digits, sign=True))} %"


def signed_share(value: float | None, digits: int = 1) -> str:
    """An effect in percent: ``signed_share(0.275)`` is ``+27.5 %``, ``signed_share(1.5)``
    ``+150 %``; what rounds to no change is ``0 %``."""
    if _missing(value):
        return DASH
    assert value is not None
    return signed_percent(value * 100, digits)


def plural(n: float, noun: str, many: str | None = None) -> str:
    """``noun`` as it agrees with ``n``: one of it is singular, any other count plural
    (``many`` if given, else the English rule: person → people, risk → risks, day → days,
    dependency → dependencies, box → boxes)."""
    if n == 1:
        return noun
    if many is not None:
        return many
    if noun in IRREGULAR:
        return IRREGULAR[noun]
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if len(noun) > 1 and noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def count(n: int | None, noun: str | None = None, many: str | None = None) -> str:
    """A count with its noun: ``count(1, "person")`` is ``1 person``, ``count(1234, "item")``
    ``1,234 items``; without a noun just the number, ``1,234``."""
    if n is None:
        return DASH
    text = f"{n:,}"
    return text if noun is None else f"{text} {plural(n, noun, many)}"


def days(value: float | None, digits: int = 1, trim: bool = False) -> str:
    """Days as a bare figure, for a column or a tile whose unit says "days": ``12.3``; a plan's
    durations ``trim`` (``3``, ``2.25`` with 2 digits)."""
    return number(value, digits, trim)


def duration_days(value: float | None, digits: int = 1) -> str:
    """Days with their unit: ``12.3 days``, ``1 day`` (``digits`` decimals, trailing zeros
    dropped: a duration is read, not lined up)."""
    if _missing(value):
        return DASH
    assert value is not None
    text = _trim(_fixed(value, digits))
    return f"{text} {'day' if text == '1' else 'days'}"


def hours(value: float | None, digits: int | None = None) -> str:
    """Hours with their unit: ``96 h``, ``3.5 h`` (``digits`` as :func:`number`)."""
    if _missing(value):
        return DASH
    return f"{number(value, digits)} h"


def duration_hours(value: float | None, digits: int = 1) -> str:
    """A span measured in hours, in the unit that reads best: ``36.0 h`` under two days,
    ``3.5 days`` from two days on."""
    if _missing(value):
        return DASH
    assert value is not None
    if abs(value) < 48:
        return f"{number(value, digits)} h"
    return f"{number(value / 24, digits)} days"


def rate(value: float | None) -> str:
    """Items per week: a decimal helps at 1.5 a week, not at 1,416."""
    if _missing(value):
        return DASH
    assert value is not None
    return number(value, 0 if abs(value) >= 100 else 1)


def money(value: float | None) -> str:
    """An amount of money, whole and thousands separated: ``12,345`` (no currency: the map
    says which)."""
    return number(value, 0)


def show(value: Any) -> str:
    """A stored value of any kind for reading: blank as the dash, yes/no, lists joined, floats
    to six significant digits (what was typed, not rounded for a tile)."""
    if value is None or value == "" or value == []:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(show(v) for v in value) or DASH
    return str(value)


def metric_value(value: float | None, metric: str | None, exact: bool = False) -> str:
    """A value of a flow metric (an experiment's, a key result's): a share metric (flow
    efficiency, defect share...) in percent, ``23.5 %``, as the dashboard shows it; any other
    (days, items) as a number, or with ``exact`` as typed (a target: ``0.125``)."""
    # Imported here: a formatting module need not load the steering core to start.
    from obeya.core.steering.objectives import METRICS

    if metric is not None and metric in METRICS and METRICS[metric][1] == "share":
        return share(value, 1)
    return show(value) if exact else number(value)


def significant(value: float | None, digits: int = 3) -> str:
    """A figure to ``digits`` significant digits (a p-value: ``0.0312``)."""
    if _missing(value):
        return DASH
    return f"{value:.{digits}g}"


def date(value: Date | str | None) -> str:
    """A date in ISO form, ``2024-03-05`` (the date of a timestamp; text is taken as is)."""
    if value is None or value == "":
        return DASH
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, Date):
        return value.isoformat()
    return str(value)[:10]


def timestamp(value: datetime | str | None) -> str:
    """A moment to the minute, ``2024-03-05 14:30`` (as given; Obeya stores UTC)."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M")


# -- reading what a user typed: one rule, in the core (obeya.core.shares) -------------------


def share_text(value: float | None) -> str:
    """A share as a form field shows it for editing, in percent: ``20 %``, ``12.5 %``; it reads
    back through :func:`parse_share` to the same fraction (to six significant digits)."""
    if _missing(value):
        return ""
    assert value is not None
    return f"{value * 100:.6g} %"


#: The filters templates use, by name; registered on every Jinja environment Obeya builds.
FILTERS: dict[str, Callable[..., str]] = {
    "number": number,
    "signed": signed,
    "share": share,
    "signed_share": signed_share,
    "percent": percent,
    "signed_percent": signed_percent,
    "count": count,
    "plural": plural,
    "days": days,
    "duration_days": duration_days,
    "hours": hours,
    "duration_hours": duration_hours,
    "rate": rate,
    "money": money,
    "show": show,
    "metric_value": metric_value,
    "significant": significant,
    "date": date,
    "timestamp": timestamp,
    "share_text": share_text,
}
