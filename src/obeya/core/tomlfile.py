"""Reading a TOML file the way every Obeya file is read: errors name the file and say what is
wrong with it (missing, unreadable, not TOML), as the given error class."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from obeya.errors import InputError


def read_toml(path: Path | str, error: type[InputError] = InputError) -> dict[str, Any]:
    """The document of the TOML file at ``path``; ``error`` (an InputError) naming the file
    when it cannot be had."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None
