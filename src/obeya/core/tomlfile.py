"""Reading a TOML file the way every Obeya file is read: errors name the file and say what is
wrong with it (missing, unreadable, not TOML), as the given error class.

:func:`parse_toml` is the one place TOML text becomes data, for files and for text (a workflow
in a form or the store). Beyond ``TOMLDecodeError``, Python's parser fails on hostile input with
a RecursionError (arrays nested thousands deep) or a ValueError (an integer of more than 4,300
digits); both become the caller's error class, naming the source and, where it can be found,
the line and the key, instead of escaping as a crash.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from obeya.errors import InputError

#: More digits than Python converts to an int (sys.get_int_max_str_digits() defaults to 4300).
_LONG_NUMBER = re.compile(r"[0-9_]{4300,}")
_KEY = re.compile(r"^\s*([^=#\s][^=#]*?)\s*=")


def read_toml(path: Path | str, error: type[InputError] = InputError) -> dict[str, Any]:
    """The document of the TOML file at ``path``; ``error`` (an InputError) naming the file
    when it cannot be had."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read ({exc})") from None
    return parse_toml(text, str(path), error)


def parse_toml(text: str, source: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """The document of TOML ``text``; ``error`` starting with ``source`` when it is not TOML
    or is beyond what the parser can take."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:
        raise error(
            f"{source}: not valid TOML (arrays or tables nested too deeply to read); "
            "nest values a few levels at most"
        ) from None
    except ValueError as exc:  # an integer too long to convert
        raise error(f"{source}: not valid TOML ({_where_long_number(text)}{exc})") from None


def _where_long_number(text: str) -> str:
    """``line 3, field 'x': `` for the first over-long number, or nothing if none is seen."""
    found = _LONG_NUMBER.search(text)
    if found is None:
        return ""
    line_start = text.rfind("\n", 0, found.start()) + 1
    line = text.count("\n", 0, found.start()) + 1
    key = _KEY.match(text[line_start : found.start()])
    field = f", field {key.group(1).strip()!r}" if key else ""
    return f"line {line}{field}: "


def refuse_unknown(
    raw: Mapping[str, Any], known: set[str], at: str, error: type[InputError] = InputError
) -> None:
    """Raise ``error`` naming the first field of ``raw`` that is not ``known`` (a typo in a
    file is an error, never a silently ignored field)."""
    unknown = sorted(set(raw) - known)
    if unknown:
        raise error(f"{at}: unknown field {unknown[0]!r}; known fields: {', '.join(sorted(known))}")
