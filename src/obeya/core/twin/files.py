"""The twin as a TOML file: written by ``obeya calibrate -o``, read by ``obeya simulate`` and
``obeya what-if``; meant to be read and edited by a person, so every figure sits beside the
evidence it came from, and every error names the file and the field."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from obeya.core.tomlfile import read_toml, refuse_unknown
from obeya.core.twin.calendar import WEEKDAYS, WorkCalendar
from obeya.core.twin.model import (
    Arrivals,
    InitialItem,
    Twin,
    TwinError,
    TwinState,
    TwinStep,
    dict_from_weekdays,
    weekdays_from_dict,
)
from obeya.core.workflow import Category

_TOP = {"name", "source", "as_of", "days", "replications", "seed", "fitted", "calendar",
        "arrivals", "step", "state", "item"}  # fmt: skip
_STEP = {"name", "states", "people", "items_per_person", "rule", "evidence"}
_STATE = {"name", "category", "kind", "step", "hours", "ages", "next", "release", "visits",
          "evidence"}  # fmt: skip
_ITEM = {"id", "state", "since", "started", "arrived"}
_CATEGORIES = {c.value: c for c in Category if c != Category.UNMAPPED}


def twin_toml(twin: Twin) -> str:
    """The twin in the form :func:`load_twin` reads."""
    lines = [
        "# A digital twin of a value stream, fitted by `obeya calibrate` (docs/simulation.md).",
        "# Edit any figure; `obeya simulate` and `obeya what-if` read this file.",
        f"name = {_s(twin.name)}",
        f"source = {_s(twin.source)}",
        f"as_of = {_time(twin.as_of)}",
        f"fitted = {_s(twin.fitted)}",
        f"days = {twin.days!r}",
        f"replications = {twin.replications}",
        f"seed = {twin.seed}",
        "",
        "# When people work: the share of each hour (00 to 23 UTC) that is working time.",
        "[calendar]",
        f"evidence = {_s(twin.calendar.evidence)}",
    ]
    lines += [f"{day} = {_list(v)}" for day, v in dict_from_weekdays(twin.calendar.open).items()]
    a = twin.arrivals
    lines += [
        "",
        "# New items: a Poisson process of per_week items, shaped by the share of each hour.",
        "[arrivals]",
        f"per_week = {a.per_week!r}",
        f"evidence = {_s(a.evidence)}",
        f"first = {_shares(a.first)}",
        "[arrivals.profile]",
    ]
    lines += [f"{day} = {_list(v)}" for day, v in dict_from_weekdays(a.profile).items()]
    for step in twin.steps:
        lines += [
            "",
            "[[step]]",
            f"name = {_s(step.name)}",
            f"states = [{', '.join(_s(s) for s in step.states)}]",
            f"people = {step.people}",
            f"items_per_person = {step.items_per_person}",
            f"rule = {_s(step.rule)}",
            f"evidence = {_s(step.evidence)}",
        ]
    for st in twin.states:
        lines += [
            "",
            "[[state]]",
            f"name = {_s(st.name)}",
            f'category = "{st.category.value}"',
            f'kind = "{st.kind}"',
        ]
        if st.step is not None:
            lines.append(f"step = {_s(st.step)}")
        lines += [
            f"visits = {st.visits}",
            f"evidence = {_s(st.evidence)}",
            f"next = {_shares(st.next)}",
        ]
        if st.release_weekdays:
            days = ", ".join(f'"{WEEKDAYS[d]}"' for d in st.release_weekdays)
            lines.append(f"release = {{ weekdays = [{days}], hour = {st.release_hour!r} }}")
        lines.append(f"hours = {_list(st.hours)}")
        if st.ages:
            lines.append(f"ages = [{', '.join(_list(pair) for pair in st.ages)}]")
    for item in twin.items:
        lines += ["", "[[item]]", f"id = {_s(item.id)}", f"state = {_s(item.state)}"]
        lines.append(f"since = {_time(item.since)}")
        if item.started is not None:
            lines.append(f"started = {_time(item.started)}")
        if item.arrived is not None:
            lines.append(f"arrived = {_time(item.arrived)}")
    return "\n".join(lines) + "\n"


def load_twin(path: Path | str) -> Twin:
    """Read a twin file; errors name the file and the field."""
    where = str(path)
    doc = read_toml(Path(path), TwinError)
    return twin_from_dict(doc, where)


def twin_from_dict(doc: dict[str, Any], where: str = "twin") -> Twin:
    refuse_unknown(doc, _TOP, where, TwinError)
    for key in ("as_of", "calendar", "arrivals", "state"):
        if key not in doc:
            raise TwinError(f"{where}: field {key!r} is missing")
    cal = _table(doc["calendar"], f"{where}: calendar")
    arrivals = _table(doc["arrivals"], f"{where}: arrivals")
    refuse_unknown(
        arrivals, {"per_week", "evidence", "first", "profile"}, f"{where}: arrivals", TwinError
    )
    try:
        return _build(doc, cal, arrivals, where)
    except TwinError as exc:  # name the file rather than "twin"
        message = str(exc)
        if message.startswith("twin: "):
            message = f"{where}: " + message.removeprefix("twin: ")
        raise TwinError(message) from None


def _build(doc: dict[str, Any], cal: dict[str, Any], arrivals: dict[str, Any], where: str) -> Twin:
    return Twin(
        name=_str(doc.get("name", "twin"), f"{where}: name"),
        source=_str(doc.get("source", ""), f"{where}: source"),
        as_of=_hours(doc["as_of"], f"{where}: as_of"),
        fitted=_str(doc.get("fitted", ""), f"{where}: fitted"),
        days=_num(doc.get("days", 30.0), f"{where}: days"),
        replications=_int(doc.get("replications", 5), f"{where}: replications"),
        seed=_int(doc.get("seed", 1), f"{where}: seed"),
        calendar=WorkCalendar(
            weekdays_from_dict({d: cal.get(d) for d in WEEKDAYS}, f"{where}: calendar"),
            _str(cal.get("evidence", ""), f"{where}: calendar.evidence"),
        ),
        arrivals=Arrivals(
            per_week=_num(arrivals.get("per_week"), f"{where}: arrivals.per_week"),
            profile=weekdays_from_dict(arrivals.get("profile"), f"{where}: arrivals.profile"),
            first=_shares_in(arrivals.get("first"), f"{where}: arrivals.first"),
            evidence=_str(arrivals.get("evidence", ""), f"{where}: arrivals.evidence"),
        ),
        steps=tuple(
            _step(s, f"{where}: step[{i}]") for i, s in enumerate(_array(doc, "step", where))
        ),
        states=tuple(
            _state(s, f"{where}: state[{i}]") for i, s in enumerate(_array(doc, "state", where))
        ),
        items=tuple(
            _item(s, f"{where}: item[{i}]") for i, s in enumerate(_array(doc, "item", where))
        ),
    )


def _step(raw: dict[str, Any], at: str) -> TwinStep:
    refuse_unknown(raw, _STEP, at, TwinError)
    return TwinStep(
        name=_str(raw.get("name"), f"{at}.name"),
        states=tuple(
            _str(s, f"{at}.states") for s in _list_of(raw.get("states", []), f"{at}.states")
        ),
        people=_int(raw.get("people"), f"{at}.people"),
        items_per_person=_int(raw.get("items_per_person", 1), f"{at}.items_per_person"),
        rule=_str(raw.get("rule", ""), f"{at}.rule"),
        evidence=_str(raw.get("evidence", ""), f"{at}.evidence"),
    )


def _state(raw: dict[str, Any], at: str) -> TwinState:
    refuse_unknown(raw, _STATE, at, TwinError)
    category = _str(raw.get("category"), f"{at}.category")
    if category not in _CATEGORIES:
        raise TwinError(
            f"{at}.category {category!r} is unknown; use one of {', '.join(_CATEGORIES)}"
        )
    release = raw.get("release")
    weekdays: tuple[int, ...] = ()
    hour = 0.0
    if release is not None:
        release = _table(release, f"{at}.release")
        refuse_unknown(release, {"weekdays", "hour"}, f"{at}.release", TwinError)
        names = _list_of(release.get("weekdays", []), f"{at}.release.weekdays")
        for name in names:
            if name not in WEEKDAYS:
                raise TwinError(f"{at}.release.weekdays names {name!r}; use {', '.join(WEEKDAYS)}")
        weekdays = tuple(sorted(WEEKDAYS.index(n) for n in names))
        hour = _num(release.get("hour", 0.0), f"{at}.release.hour")
    hours = tuple(
        _num(v, f"{at}.hours[{i}]")
        for i, v in enumerate(_list_of(raw.get("hours", []), f"{at}.hours"))
    )
    ages = tuple(
        _pair(v, f"{at}.ages[{i}]")
        for i, v in enumerate(_list_of(raw.get("ages", []), f"{at}.ages"))
    )
    return TwinState(
        name=_str(raw.get("name"), f"{at}.name"),
        category=_CATEGORIES[category],
        kind=_str(raw.get("kind"), f"{at}.kind"),
        step=None if raw.get("step") is None else _str(raw["step"], f"{at}.step"),
        hours=tuple(sorted(hours)),
        ages=tuple(sorted(ages)),
        next=_shares_in(raw.get("next", {}), f"{at}.next"),
        release_weekdays=weekdays,
        release_hour=hour,
        visits=_int(raw.get("visits", 0), f"{at}.visits"),
        evidence=_str(raw.get("evidence", ""), f"{at}.evidence"),
    )


def _item(raw: dict[str, Any], at: str) -> InitialItem:
    refuse_unknown(raw, _ITEM, at, TwinError)
    return InitialItem(
        id=_str(raw.get("id"), f"{at}.id"),
        state=_str(raw.get("state"), f"{at}.state"),
        since=_hours(raw.get("since"), f"{at}.since"),
        started=None if raw.get("started") is None else _hours(raw["started"], f"{at}.started"),
        arrived=None if raw.get("arrived") is None else _hours(raw["arrived"], f"{at}.arrived"),
    )


def _pair(raw: Any, at: str) -> tuple[float, float]:
    values = _list_of(raw, at)
    if len(values) != 2:
        raise TwinError(f"{at} must be a pair [age on entry, age at exit] in hours")
    return _num(values[0], f"{at}[0]"), _num(values[1], f"{at}[1]")


def _array(doc: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    raw = doc.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise TwinError(f"{where}: field {key!r} must be an array of tables ([[{key}]])")
    return raw


def _table(raw: Any, at: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TwinError(f"{at} must be a table")
    return raw


def _shares_in(raw: Any, at: str) -> tuple[tuple[str, float], ...]:
    table = _table(raw, at)
    return tuple((str(k), _num(v, f"{at}.{k}")) for k, v in table.items())


def _list_of(raw: Any, at: str) -> list[Any]:
    if not isinstance(raw, list):
        raise TwinError(f"{at} must be a list")
    return raw


def _num(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise TwinError(f"{at} is {value!r}; give a number")
    return float(value)


def _int(value: Any, at: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TwinError(f"{at} is {value!r}; give a whole number")
    return value


def _str(value: Any, at: str) -> str:
    if not isinstance(value, str):
        raise TwinError(f"{at} is {value!r}; give a string")
    return value


def _hours(value: Any, at: str) -> float:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise TwinError(
                f"{at} is {value!r}; give a time such as 2024-05-01T09:00:00Z"
            ) from None
    if not isinstance(value, datetime):
        raise TwinError(f"{at} is {value!r}; give a time such as 2024-05-01T09:00:00Z")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp()) / 3600.0


def _time(hours: float) -> str:
    moment = datetime.fromtimestamp(round(hours * 3600.0, 3), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _list(values: Any) -> str:
    return "[" + ", ".join(_num_text(v) for v in values) + "]"


def _num_text(v: float) -> str:
    return repr(round(float(v), 6))


def _shares(shares: tuple[tuple[str, float], ...]) -> str:
    return (
        "{ " + ", ".join(f"{_s(k)} = {_num_text(p)}" for k, p in shares) + " }" if shares else "{}"
    )
