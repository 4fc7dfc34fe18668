"""Value stream maps in files: TOML (``[[step]]`` tables) or JSON, chosen by the suffix.

Keys are the field names of :mod:`obeya.core.maps.model`. In TOML the steps are ``[[step]]``
tables, the flows ``[[information_flow]]`` and the loops back ``[[rework_loop]]`` tables
(the plural names ``steps``, ``information_flows`` and ``rework_loops`` are accepted too, as
JSON uses them). Every error is a
:class:`MapError` that names the file and the field; an unknown key is refused with the list
of known ones, because a misspelt ``complete_acurate`` would otherwise fall back to 100 %.
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import MISSING, fields
from enum import Enum
from pathlib import Path
from typing import Any

from obeya.core.maps.model import (
    InformationFlow,
    Link,
    MapError,
    ReworkLoop,
    Step,
    ValueStreamMap,
)
from obeya.core.tomlfile import parse_toml

_ALIASES = {
    "step": "steps",
    "information_flow": "information_flows",
    "rework_loop": "rework_loops",
}
_LISTS = {"steps": Step, "information_flows": InformationFlow, "rework_loops": ReworkLoop}


def load_map(path: str | Path) -> ValueStreamMap:
    """Read a map from a ``.toml`` or ``.json`` file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".toml", ".json"}:
        raise MapError(f"{path.name}: a map file ends in .toml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MapError(f"{path}: cannot read the map ({error.strerror})") from None
    except UnicodeDecodeError:
        raise MapError(f"{path}: cannot read the map (it is not UTF-8 text)") from None
    if suffix == ".toml":
        data: Any = parse_toml(text, path.name, MapError)
    else:
        try:
            data = json.loads(text)
        except RecursionError:
            raise MapError(f"{path.name}: not valid JSON: nested too deeply to read") from None
        except ValueError as error:  # malformed, or an integer of thousands of digits
            raise MapError(f"{path.name}: not valid JSON: {error}") from None
    return map_from_dict(data, path.name)


def map_from_dict(data: Any, source: str = "map") -> ValueStreamMap:
    """Build and validate a map from plain data; errors start with ``source`` (a file name)."""
    if not isinstance(data, dict):
        raise MapError(f"{source}: a map is a table of fields, not {type(data).__name__}")
    data = dict(data)
    for alias, name in _ALIASES.items():
        if alias in data:
            if name in data:
                raise MapError(f"{source}: give '{alias}' or '{name}', not both")
            data[name] = data.pop(alias)
    if "name" not in data:
        data["name"] = Path(source).stem
    try:
        kwargs = _kwargs(ValueStreamMap, data, "")
        return ValueStreamMap(**kwargs)
    except MapError as error:
        raise MapError(f"{source}: {error}") from None


def map_to_dict(vsm: ValueStreamMap) -> dict[str, Any]:
    """Plain JSON-ready data that :func:`map_from_dict` reads back into an equal map."""
    return _plain(vsm)


def dump_map_toml(vsm: ValueStreamMap) -> str:
    """The map as TOML: fields, then ``[extra]``, ``[[step]]`` and ``[[information_flow]]``.

    Written by hand (no TOML writer is a dependency); only the value kinds a map holds."""
    data = map_to_dict(vsm)
    steps = data.pop("steps")
    flows = data.pop("information_flows", [])
    loops = data.pop("rework_loops", [])
    extra = data.pop("extra", {})
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items()]
    if extra:
        lines += ["", "[extra]", *(f"{_key(k)} = {_value(v)}" for k, v in extra.items())]
    for table, rows in (("step", steps), ("information_flow", flows), ("rework_loop", loops)):
        for row in rows:
            lines += ["", f"[[{table}]]", *(f"{_key(k)} = {_value(v)}" for k, v in row.items())]
    return "\n".join(lines) + "\n"


def _plain(obj: Any) -> dict[str, Any]:
    """A dataclass as a dict of its fields, leaving out None and defaults (except required)."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if value is None or (default is not MISSING and value == default and f.name != "name"):
            continue
        if f.name in _LISTS:
            out[f.name] = [_plain(item) for item in value]
        elif isinstance(value, Enum):
            out[f.name] = value.value
        elif isinstance(value, tuple):
            out[f.name] = list(value)
        elif isinstance(value, dict):
            out[f.name] = dict(value)
        else:
            out[f.name] = value
    return out


def _kwargs(cls: type[Any], data: dict[str, Any], where: str) -> dict[str, Any]:
    """Check the keys and types of one table against the dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise MapError(
            f"{where or 'the map'} has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(known)}"
        )
    required = [
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    ]
    for name in required:
        if name not in data:
            raise MapError(f"{_at(where, name)} is missing")
    return {key: _convert(value, hints[key], _at(where, key), key) for key, value in data.items()}


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _convert(value: Any, hint: Any, where: str, key: str) -> Any:
    if key in _LISTS:
        if not isinstance(value, list):
            raise MapError(f"{where} must be a list of tables")
        cls = _LISTS[key]
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise MapError(f"{where}[{i}] must be a table of fields")
            items.append(cls(**_kwargs(cls, item, f"{where}[{i}]")))
        return tuple(items)
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None and type(None) in options:
        return None
    kind = next(o for o in options if o is not type(None))
    return _scalar(value, kind, where)


def _scalar(value: Any, kind: Any, where: str) -> Any:
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise MapError(f"{where} is {value!r}; give a number")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise MapError(f"{where} is {value!r}; give a whole number")
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise MapError(f"{where} is {value!r}; give true or false")
    if kind is str:
        if isinstance(value, str):
            return value
        raise MapError(f"{where} is {value!r}; give a text")
    if kind is Link:
        try:
            return Link(value)
        except ValueError:
            choices = ", ".join(link.value for link in Link)
            raise MapError(f"{where} is {value!r}; give one of {choices}") from None
    if typing.get_origin(kind) is tuple:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise MapError(f"{where} must be a list of texts")
    if typing.get_origin(kind) is dict:
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            return dict(value)
        raise MapError(f"{where} must be a table of texts")
    raise MapError(f"{where}: unsupported field type {kind!r}")  # pragma: no cover


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    """One TOML value; JSON's string escapes are valid TOML basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")  # pragma: no cover
