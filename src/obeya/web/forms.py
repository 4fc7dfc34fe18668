"""Reading HTML form fields: browsers send every field as text, blank ones as empty strings.
The errors name the field the way the page labels it, in the one wording of the app
(``Servers is 'two'; give a whole number``)."""

from __future__ import annotations

import math
from datetime import date

from obeya.errors import InputError

#: The largest whole number a form field takes: more than any count a page asks for, and
#: still exact as a float (larger ones overflowed further on).
MAX_WHOLE = 10**15


def form_date(value: str | None, name: str) -> date | None:
    """A date from a form field; blank means not given."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{name} is {value.strip()!r}; give a date as YYYY-MM-DD") from None


def form_number(text: str, name: str, kind: type[int] | type[float]) -> int | float:
    """A whole number (``kind`` int) or a finite number; thousands separators allowed."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    try:
        value: int | float = int(cleaned) if kind is int else float(cleaned)
    except ValueError:
        need = "a whole number" if kind is int else "a number"
        raise InputError(f"{name} is {text.strip()[:40]!r}; give {need}") from None
    if kind is int and abs(value) > MAX_WHOLE:
        raise InputError(
            f"{name} is {text.strip()[:40]!r}; give a whole number up to {MAX_WHOLE:,}"
        )
    if not math.isfinite(value):
        raise InputError(f"{name} is {text.strip()[:40]!r}; give a number")
    return value


def form_version(value: str | None, *, blank: int | None = None) -> int:
    """The version a form was loaded at (its hidden ``expected_version``): a whole number from
    0 to :data:`~obeya.api.models.MAX_VERSION` (what the store's column holds); ``blank``
    stands in for an empty field, if the form may have none (a new record)."""
    from obeya.api.models import MAX_VERSION

    text = (value or "").strip()
    if not text and blank is not None:
        return blank
    if not text.isdigit() or int(text) > MAX_VERSION:
        raise InputError(
            f"field 'expected_version' is {text[:40]!r}: the form lost the version it was "
            "loaded at; reload the page"
        )
    return int(text)


def form_int(value: str | None, name: str) -> int | None:
    """A whole number from a form field; blank means not given."""
    if value is None or not value.strip():
        return None
    return int(form_number(value, name, int))
