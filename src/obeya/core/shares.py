"""How Obeya reads a share a person typed: ``0.2``, ``20%`` and ``20 %`` all mean a fifth.

The one definition of that rule, in the core so that files the core reads (a scenario's
``complete_accurate``, a what-if's ``Build.complete_accurate=90%``) read shares as the forms
and the CLI do; :mod:`obeya.render.numbers` re-exports it beside the formatting. A bare number
above 1 (``20``) is refused rather than guessed at: it is as likely a slip as a percentage.

Pure Python: no web, no CLI, no database.
"""

from __future__ import annotations

import math
import re

from obeya.errors import InputError

# Spaces a user may type (or paste) between a number and its percent sign: the space, the
# no-break space, the thin and the narrow no-break space.
SPACES = " \u00a0\u2009\u202f"
_SHARE = re.compile(rf"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))[{SPACES}]*(%?)$")


def parse_share(
    text: str | float,
    *,
    field: str | None = None,
    minimum: float = 0.0,
    maximum: float = 1.0,
) -> float:
    """A share as a fraction, from ``0.2``, ``"0.2"``, ``"20%"`` or ``"20 %"`` (all 0.2).

    A bare number above 1 (``20``) is refused, not read as 20 %: it is as likely a slip as a
    percentage. The share must lie in [``minimum``, ``maximum``] (0 to 100 % unless said);
    anything else raises :class:`InputError` naming ``field`` and the value typed.
    """
    what = f"{field} is " if field else ""
    typed: str | float = text
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise InputError(f"{what}{text!r}; give a share", field=field, value=text)
    if isinstance(text, (int, float)):
        value, percent = float(text), False
    else:
        match = _SHARE.match(text.strip(SPACES + "\t"))
        if match is None:
            raise InputError(
                f"{what}{text!r}; give a share: a fraction (0.2) or a percentage (20 %)",
                field=field,
                value=text,
            )
        value, percent = float(match.group(1)), match.group(2) == "%"
    if not math.isfinite(value):
        raise InputError(f"{what}{typed!r}; give a share", field=field, value=typed)
    if percent:
        value /= 100
    elif abs(value) > 1:
        raise InputError(
            f"{what}{typed!r}; a share is a fraction up to 1 or a percentage: "
            f"write {value / 100:g} or {_percent(value)}",
            field=field,
            value=typed,
        )
    if not minimum <= value <= maximum:
        raise InputError(
            f"{what}{typed!r}; give a share from {_percent(minimum * 100)} to "
            f"{_percent(maximum * 100)}",
            field=field,
            value=typed,
        )
    return value


def parse_optional_share(
    text: str | float | None,
    *,
    field: str | None = None,
    minimum: float = 0.0,
    maximum: float = 1.0,
) -> float | None:
    """:func:`parse_share`, with a blank (or no) answer read as none."""
    if text is None or (isinstance(text, str) and not text.strip(SPACES + "\t")):
        return None
    return parse_share(text, field=field, minimum=minimum, maximum=maximum)


def _percent(value: float) -> str:
    """A percentage in a message: ``20 %``, ``12.5 %`` (as typed, not rounded for a tile)."""
    return f"{value:,.6g} %"


def fixed(value: float, digits: int, sign: bool = False) -> str:
    """``value`` to ``digits`` decimals, thousands separated (``1,234.5``); ``sign`` for a change
    (``+1.5``). What rounds to zero shows no sign: "-0.0" would read as a change not there."""
    text = f"{value:{'+' if sign else ''},.{digits}f}"
    return text.lstrip("+-") if text.strip("+-0.,") == "" else text


def trim(text: str) -> str:
    """A figure of :func:`fixed` without its trailing zeros: ``20.50`` is ``20.5``, ``20.0``
    ``20`` (decimals only where they say something)."""
    return text.rstrip("0").removesuffix(".") if "." in text else text


def percent_of(value: float, digits: int = 0) -> str:
    """A share in percent, the house's one way: ``percent_of(0.227)`` is ``23 %``,
    ``percent_of(0.275, 1)`` ``27.5 %``, ``percent_of(0.2, 1)`` ``20 %`` (decimals only where
    they say something). Core messages use it; ``render.numbers.share`` shows a share the same
    way (both on :func:`fixed` and :func:`trim`)."""
    return f"{trim(fixed(value * 100, digits))} %"
