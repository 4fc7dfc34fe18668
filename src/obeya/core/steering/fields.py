"""Reading a steering record from its document (a TOML table, a JSON body, a stored version):
every value checked for type and range, unknown keys refused, each error naming the field
(``risk 'R-7': probability is 1.4; give a share in [0, 1]``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from obeya.errors import InputError


class Fields:
    """The fields of one document, read one by one; ``where`` starts every message."""

    def __init__(self, doc: Mapping[str, Any], where: str, known: set[str]) -> None:
        if not isinstance(doc, Mapping):
            raise InputError(f"{where}: give a table of fields, not {type(doc).__name__}")
        unknown = sorted(set(doc) - known)
        if unknown:
            raise InputError(
                f"{where}: unknown field {unknown[0]!r}; known fields: {', '.join(sorted(known))}"
            )
        self.doc = doc
        self.where = where

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(f"{self.where}: {key} {problem}")

    def text(self, key: str, default: str | None = None) -> str:
        """Text, trimmed; a missing or null field takes ``default`` (none: an error)."""
        value = self.doc.get(key)
        if value is None:
            value = default
        if value is None:
            raise self.fail(key, "is missing")
        if not isinstance(value, str):
            raise self.fail(key, f"is {value!r}; give text")
        return value.strip()

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise self.fail(key, "is empty")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of text (a single string counts as one); blanks dropped, order kept."""
        value = self.doc.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"is {value!r}; give a list of text")
        return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        what: str = "a number",
    ) -> float:
        value = self.doc.get(key, default)
        if value is None:
            raise self.fail(key, "is missing")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"is {value!r}; give {what}")
        number = float(value)
        if not (math.isfinite(number) and low <= number <= high):
            raise self.fail(key, f"is {value!r}; give {what}")
        return number

    def optional_number(
        self, key: str, *, low: float = -math.inf, what: str = "a number"
    ) -> float | None:
        return None if self.doc.get(key) is None else self.number(key, low=low, what=what)

    def date(self, key: str) -> date | None:
        """A date as ``YYYY-MM-DD`` text (or a TOML date); None when absent or blank."""
        value = self.doc.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(key, f"is {value!r}; give a date as YYYY-MM-DD")

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.fail(key, f"is {value!r}; give one of {', '.join(choices)}")
        return value


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
