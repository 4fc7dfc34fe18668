"""Reading the steering records read by hand (a saved plan's and experiment's tables) from their
document: every value checked for type and range, unknown keys refused, each error naming the
field (``experiment 'E-1': alpha is 0.9; give a level in (0, 0.5]``). The other kinds are
declared documents (:mod:`obeya.core.documents`), read from their declaration."""

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
