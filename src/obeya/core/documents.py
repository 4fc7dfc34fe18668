"""Documents declared once: a record's fields (a risk's, an objective's...) are the fields of
one frozen dataclass, each annotated with a :class:`Spec` — its kind (text, number, share,
date, choice...), its label and help for a form, its bounds::

    @dataclass(frozen=True, kw_only=True)
    class Risk(Document):
        noun: ClassVar[str] = "risk"
        key: Annotated[str, text("Key", nonempty=True)]
        probability: Annotated[float, share("Probability")]
        due: Annotated[date | None, day("Due")] = None

Everything else is derived from that declaration, so a field is spelled once:

- :meth:`Document.from_dict` reads the document (a TOML table, a JSON body, a stored
  version): every value checked for type and range, an unknown field refused, each error an
  :class:`~obeya.errors.InputError` naming the field and the value
  (``risk 'R-7': probability is 1.4; give a share in [0, 1]``);
- :meth:`Document.to_dict` writes it back, fields in declaration order (dates as
  ``YYYY-MM-DD``, lists as lists), so ``from_dict(x.to_dict()) == x``;
- :func:`from_text` reads a value a person typed (a form field, a command-line option) with
  the same rules the shells share (a share as ``0.4``, ``40%`` or ``40 %``);
- the shells build the rest from :func:`declared`: the pages their form fields
  (``obeya.web.document_forms``), the API its schema (``obeya.api.models.document_model``),
  the CLI its options (``obeya.cli.steering``).

A field is required when its dataclass field has no default, and may be null (``None``) when
its type says ``| None``. Rules across fields (a kaizen event's end after its start) live in
the class's :meth:`Document.settle`. Pure Python: no web, no CLI, no database.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import NoneType, UnionType
from typing import Any, ClassVar, Literal, Self, TypeVar, Union

from obeya.core.shares import parse_optional_share
from obeya.errors import InputError

Kind = Literal[
    "text", "int", "float", "share", "date", "choice", "texts", "numbers", "table", "tables"
]
#: Keys a stored or posted document may carry beside its fields: the store keeps the stream
#: beside the record, so a ``stream`` key is allowed and ignored.
IGNORED = frozenset({"stream"})


@dataclass(frozen=True)
class Spec:
    """How one field reads, shows and checks: the ``Annotated`` metadata of a field."""

    kind: Kind
    label: str
    help: str = ""
    #: Text: a blank value is refused (``title is empty``).
    nonempty: bool = False
    #: Text: several lines (a text area on a form).
    long: bool = False
    #: Numbers: the range; ``above`` makes ``low`` exclusive (a job size > 0).
    low: float = -math.inf
    high: float = math.inf
    above: bool = False
    #: What an error asks for (``give a number ≥ 0``).
    what: str = ""
    #: Choices: the values, with their labels on a form; ``none`` labels no choice (a field
    #: that may be null).
    options: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    none: str = ""
    #: Lists: a value listed twice is refused rather than dropped (a task's ``depends_on``).
    unique: bool = False

    def option_label(self, value: str) -> str:
        return dict(self.labels).get(value, value[:1].upper() + value[1:])


def text(label: str, help: str = "", *, nonempty: bool = False, long: bool = False) -> Spec:
    return Spec("text", label, help, nonempty=nonempty, long=long)


def number(
    label: str,
    help: str = "",
    *,
    low: float = -math.inf,
    high: float = math.inf,
    above: bool = False,
    what: str = "a number",
) -> Spec:
    return Spec("float", label, help, low=low, high=high, above=above, what=what)


def whole(
    label: str,
    help: str = "",
    *,
    low: float = -math.inf,
    high: float = math.inf,
    what: str = "a whole number",
) -> Spec:
    return Spec("int", label, help, low=low, high=high, what=what)


def share(
    label: str,
    help: str = "",
    *,
    low: float = 0.0,
    above: bool = False,
    what: str = "a share in [0, 1]",
) -> Spec:
    """A share in [low, 1] (``above``: more than ``low``); typed as ``0.4``, ``40%`` or
    ``40 %`` (:mod:`obeya.core.shares`), and bounded the same way however it was typed."""
    return Spec("share", label, help, low=low, high=1.0, above=above, what=what)


def day(label: str, help: str = "") -> Spec:
    return Spec("date", label, help, what="a date as YYYY-MM-DD")


def choice(
    label: str,
    options: tuple[str, ...],
    help: str = "",
    *,
    labels: Mapping[str, str] | None = None,
    none: str = "",
) -> Spec:
    return Spec(
        "choice", label, help, options=options, labels=tuple((labels or {}).items()), none=none
    )


def texts(label: str, help: str = "", *, unique: bool = False) -> Spec:
    """A list of text; typed as one line, separated by commas. A value given twice is dropped,
    or refused when ``unique``."""
    return Spec("texts", label, help, unique=unique)


def numbers(label: str, help: str = "", **bounds: Any) -> Spec:
    """A list of numbers, each as :func:`number` bounds it (``low``, ``high``, ``what``);
    typed as one line, separated by commas."""
    return dataclasses.replace(number(label, help, **bounds), kind="numbers")


def table(label: str, help: str = "") -> Spec:
    """One nested document (a step's process time): the type says which."""
    return Spec("table", label, help)


def tables(label: str, help: str = "") -> Spec:
    """A list of nested documents (an objective's key results): the type says which."""
    return Spec("tables", label, help)


def aside(default: Any) -> Any:
    """A dataclass field kept beside the document, not in it (where a plan was read from):
    never read by :meth:`Document.from_dict` nor written by :meth:`Document.to_dict`."""
    return dataclasses.field(default=default, compare=False, metadata={"aside": True})


@dataclass(frozen=True)
class Declared:
    """One field of a document as declared: its name, spec, and what its type says."""

    name: str
    spec: Spec
    required: bool
    default: Any
    nullable: bool
    #: The document class of a ``table`` field, or of each table of a ``tables`` field.
    table: type[Document] | None = None

    @property
    def kind(self) -> Kind:
        return self.spec.kind

    @property
    def label(self) -> str:
        return self.spec.label


_DECLARED: dict[type[Document], tuple[Declared, ...]] = {}


def declared(cls: type[Document]) -> tuple[Declared, ...]:
    """The declared fields of a document class, in declaration (= document, = form) order."""
    if cls not in _DECLARED:
        _DECLARED[cls] = _declare(cls)
    return _DECLARED[cls]


def _declare(cls: type[Document]) -> tuple[Declared, ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    found = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.metadata.get("aside"):
            continue
        hint = hints[f.name]
        specs = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Spec)]
        if len(specs) != 1:
            raise TypeError(f"{cls.__name__}.{f.name}: annotate it with one Spec")
        base = typing.get_args(hint)[0]
        union = typing.get_origin(base) in (Union, UnionType)
        members = typing.get_args(base) if union else (base,)
        nullable = NoneType in members
        table = None
        if specs[0].kind == "tables":
            table = typing.get_args(members[0])[0]
        elif specs[0].kind == "table":
            table = members[0]
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        found.append(
            Declared(
                f.name,
                specs[0],
                required=default is dataclasses.MISSING,
                default=None if default is dataclasses.MISSING else default,
                nullable=nullable,
                table=table,
            )
        )
    return tuple(found)


def declared_field(cls: type[Document], name: str) -> Declared:
    """The declared field ``name`` of ``cls``."""
    found = [f for f in declared(cls) if f.name == name]
    if not found:
        raise KeyError(f"{cls.__name__} declares no field {name!r}")
    return found[0]


#: How a rule across fields refuses a document: ``fail(field, problem, value)``.
Fail = Callable[[str, str, Any], InputError]


D = TypeVar("D", bound="Document")


class Document:
    """Base of a declared document (the module docstring): a frozen dataclass of annotated
    fields, read and written from its declaration."""

    #: What the document is called in messages: ``risk 'R-7': ...``.
    noun: ClassVar[str] = "document"
    #: The error its reading raises (a plan's :class:`PlanError`): an InputError.
    error: ClassVar[type[InputError]] = InputError
    #: The field that names one table of a list in messages: ``task[1] ('B')``.
    ident: ClassVar[str] = ""

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], where: str | None = None) -> Self:
        """The document in ``doc``; InputError naming ``where``, the key and the field. A
        ``stream`` key is allowed and ignored."""
        where = where or cls.noun
        key = doc.get("key") if isinstance(doc, Mapping) else None
        return _parse(cls, doc, f"{where} {key!r}" if isinstance(key, str) and key else where)

    def to_dict(self) -> dict[str, Any]:
        """The document :meth:`from_dict` reads back, fields in declaration order."""
        return {f.name: _plain(f, getattr(self, f.name)) for f in declared(type(self))}

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        """Rules across fields, on the values read (before the document is built): change
        ``values`` in place (a default from another field) or raise ``fail(...)``."""


def _parse(cls: type[D], doc: Any, where: str) -> D:
    error = cls.error
    if not isinstance(doc, Mapping):
        raise error(f"{where}: give a table of fields, not {type(doc).__name__}")
    fields = declared(cls)
    names = [f.name for f in fields]
    unknown = sorted(set(doc) - set(names) - IGNORED)
    if unknown:
        raise error(
            f"{where}: unknown field {unknown[0]!r}; known fields: {', '.join(names)}",
            field=unknown[0],
            value=doc[unknown[0]],
        )

    def fail(name: str, problem: str, value: Any = None) -> InputError:
        return error(f"{where}: {name} {problem}", field=name, value=value)

    values = {f.name: _value(f, doc.get(f.name), where, fail) for f in fields}
    cls.settle(values, fail)
    return cls(**values)


def _value(f: Declared, raw: Any, where: str, fail: Fail) -> Any:
    """One field's value from its document form (``raw`` None: absent)."""
    spec = f.spec
    blank = raw == "" and (spec.kind == "date" or (spec.kind == "choice" and f.nullable))
    if raw is None or blank:
        if f.nullable:
            return None
        if f.required:
            ask = f"; give {spec.what}" if spec.kind == "date" else ""
            raise fail(f.name, f"is missing{ask}", None)
        return f.default
    match spec.kind:
        case "text" | "choice":
            if not isinstance(raw, str):
                raise fail(f.name, f"is {raw!r}; give text", raw)
            value = raw.strip()
            if spec.kind == "choice":
                if not value and f.nullable:
                    return None
                if value not in spec.options:
                    raise fail(f.name, f"is {raw!r}; give one of {', '.join(spec.options)}", raw)
            elif spec.nonempty and not value:
                raise fail(f.name, "is empty", raw)
            return value
        case "int" | "float" | "share":
            return _number(f, raw, fail)
        case "date":
            if isinstance(raw, date) and not isinstance(raw, datetime):
                return raw
            if isinstance(raw, str):
                try:
                    return date.fromisoformat(raw.strip())
                except ValueError:
                    pass
            raise fail(f.name, f"is {raw!r}; give {spec.what}", raw)
        case "texts":
            items = [raw] if isinstance(raw, str) else raw
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                raise fail(f.name, f"is {raw!r}; give a list of text", raw)
            kept = [v.strip() for v in items if v.strip()]
            if spec.unique:
                twice = next((v for i, v in enumerate(kept) if v in kept[:i]), None)
                if twice is not None:
                    raise fail(f.name, f"lists {twice!r} twice", raw)
            return tuple(dict.fromkeys(kept))
        case "numbers":
            if not isinstance(raw, list):
                raise fail(f.name, f"is {raw!r}; give a list of numbers", raw)
            return tuple(_in_range(f, v, f"{f.name}[{i}]", fail) for i, v in enumerate(raw))
        case "table":
            assert f.table is not None
            if not isinstance(raw, Mapping):
                raise fail(f.name, f"is {raw!r}; give a table of fields", raw)
            return _parse(f.table, raw, f"{where}: {f.name}")
        case "tables":
            if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
                raise fail(f.name, "must be a list of tables", raw)
            assert f.table is not None
            return tuple(_parse(f.table, t, _nth(where, f, i, t)) for i, t in enumerate(raw))
    raise AssertionError(spec.kind)  # pragma: no cover


def _nth(where: str, f: Declared, index: int, doc: Mapping[str, Any]) -> str:
    """How messages name table ``index`` of a list: ``plan.toml: task[1] ('B')``."""
    assert f.table is not None
    ident = doc.get(f.table.ident) if f.table.ident else None
    named = f" ({ident!r})" if isinstance(ident, str) and ident else ""
    return f"{where}: {f.name}[{index}]{named}"


def _number(f: Declared, raw: Any, fail: Fail) -> float | int:
    spec = f.spec
    if spec.kind == "share" and isinstance(raw, str):  # "40 %" in a file or a body
        try:
            value = parse_optional_share(raw)
        except InputError as exc:
            raise fail(f.name, f"is {exc}", raw) from None
        if value is None:
            raise fail(f.name, "is missing", raw)
        if not _within(spec, value):  # "0 %" where a share must be more than none
            raise fail(f.name, f"is {raw!r}; give {spec.what}", raw)
        return value
    return _in_range(f, raw, f.name, fail)


def _in_range(f: Declared, raw: Any, name: str, fail: Fail) -> float | int:
    """A number within the field's bounds (a whole one for ``int``), or ``fail(name, …)``."""
    spec = f.spec
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise fail(name, f"is {raw!r}; give {spec.what}", raw)
    try:
        number = float(raw)
    except OverflowError:  # a whole number past any float (10**400 in a JSON body)
        raise fail(name, f"has {len(str(raw)):,} digits; give {spec.what}", None) from None
    whole_ok = spec.kind != "int" or number.is_integer()
    if not (_within(spec, number) and whole_ok):
        raise fail(name, f"is {raw!r}; give {spec.what}", raw)
    return int(number) if spec.kind == "int" else number


def _within(spec: Spec, number: float) -> bool:
    """Finite and within the spec's bounds (NaN is not)."""
    low_ok = number > spec.low if spec.above else number >= spec.low
    return math.isfinite(number) and low_ok and number <= spec.high


def _plain(f: Declared, value: Any) -> Any:
    """A value as its document holds it (JSON and TOML alike)."""
    if value is None:
        return None
    match f.kind:
        case "date":
            return value.isoformat()
        case "texts" | "numbers":
            return list(value)
        case "table":
            return value.to_dict()
        case "tables":
            return [t.to_dict() for t in value]
    return value


# -- values typed as text ---------------------------------------------------------------------


def split_list(typed: str) -> list[str]:
    """A list typed as text: separated by commas or new lines; blanks dropped."""
    return [part.strip() for part in re.split(r"[,\n]", typed) if part.strip()]


def from_text(f: Declared, typed: str, where: str = "") -> Any:
    """The document value of ``typed`` (a form field, a command-line option), for
    :meth:`Document.from_dict` to check: blank is None (absent: the default applies), a list
    is split on commas, numbers may have thousands separators, a share may be in percent.
    Errors name the field as an option (``{opt:probability}``), so each shell says it in its
    own words; ``where`` starts them (``key result 2``)."""
    value = typed.strip()
    opt = f"{where}: {{opt:{f.name}}}" if where else f"{{opt:{f.name}}}"
    match f.kind:
        case "text":
            return value
        case "texts":
            return split_list(typed)
        case "table" | "tables":
            raise InputError(f"{opt} is a table of fields; it cannot be typed as text")
        case "numbers":
            parts = split_list(typed)
            try:
                return [float(p.replace("_", "")) for p in parts]
            except ValueError:
                raise InputError(
                    f"{opt} is {value[:40]!r}; give numbers separated by commas",
                    field=f.name,
                    value=typed,
                ) from None
    if not value:
        return None
    match f.kind:
        case "share":
            try:
                return parse_optional_share(value, field=opt)
            except InputError as exc:
                raise InputError(exc.args[0], field=f.name, value=typed) from None
        case "int" | "float":
            cleaned = value.replace(",", "").replace("_", "")
            try:
                return int(cleaned) if f.kind == "int" else float(cleaned)
            except ValueError:
                need = "a whole number" if f.kind == "int" else "a number"
                raise InputError(
                    f"{opt} is {value[:40]!r}; give {need}", field=f.name, value=typed
                ) from None
        case "date":
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise InputError(
                    f"{opt} is {value[:40]!r}; give a date as YYYY-MM-DD",
                    field=f.name,
                    value=typed,
                ) from None
    return value  # a choice: the document's check names the options
