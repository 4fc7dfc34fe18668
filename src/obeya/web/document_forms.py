"""Forms built from declared documents (:mod:`obeya.core.documents`): the fields a form
shows — label, control, value, help, in declaration order — and the document a posted form
describes. A page lists a document's fields by giving its class; the template renders them
with the ``document_field`` macro (``_document_fields.html``), so a field added to a risk
appears on its forms without touching the page.

A posted value is read by :func:`~obeya.core.documents.from_text` (the rule the CLI uses
too) and the whole document is then checked by the core when it is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from obeya.core.documents import Declared, Document, declared, from_text
from obeya.render.numbers import share_text


@dataclass(frozen=True)
class FormField:
    """One field as a form shows it."""

    name: str  # the posted name
    id: str
    label: str
    help: str
    control: str  # input, textarea or select
    type: str  # of an input: text or date
    inputmode: str  # decimal, numeric or none
    value: str
    options: tuple[tuple[str, str], ...]  # of a select: (value, label)
    required: bool
    placeholder: str = ""
    wide: bool = False  # spans the form's width (a text area)


def shown(f: Declared, value: Any) -> str:
    """A document value as its form field shows it for editing; it reads back to the same
    value (a share in percent, ``40 %``; a whole float without its ``.0``)."""
    if value is None:
        return ""
    match f.kind:
        case "share":
            return share_text(value)
        case "float":
            number = float(value)
            return str(int(number)) if number.is_integer() else repr(number)
        case "texts":
            return ", ".join(value)
        case "date":
            return value.isoformat() if isinstance(value, date) else str(value)
    return str(value)


def form_values(cls: type[Document], doc: Mapping[str, Any]) -> dict[str, str]:
    """A stored document (or a view of it) as its form's values, by field name."""
    return {f.name: shown(f, doc.get(f.name)) for f in declared(cls) if f.kind != "tables"}


def form_fields(
    cls: type[Document],
    values: Mapping[str, str],
    *,
    id_prefix: str,
    name_prefix: str = "",
    skip: Collection[str] = (),
    next_key: str | None = None,
    label: Callable[[str], str] = str,
    required: bool = True,
) -> list[FormField]:
    """The fields of ``cls`` on a form, in declaration order, showing ``values`` (by posted
    name). ``next_key``: the key a record added without one gets (the key field may then be
    left blank); ``label`` rewrites each label (``Key result 2: target``); ``required``
    False: no field is marked required (rows of a table that may stay blank)."""
    fields = []
    for f in declared(cls):
        if f.kind == "tables" or f.name in skip:
            continue
        spec = f.spec
        name = name_prefix + f.name
        help_text, placeholder = spec.help, ""
        keyed = f.name == "key" and next_key is not None
        numeric = spec.kind in ("int", "float", "share")
        if keyed:
            help_text, placeholder = f"Leave blank for the next key, {next_key}.", next_key or ""
        elif numeric and not f.required and f.default is not None:
            placeholder = shown(f, f.default)  # what a blank field stands for
        options: tuple[tuple[str, str], ...] = ()
        if spec.kind == "choice":
            options = tuple((o, spec.option_label(o)) for o in spec.options)
            if f.nullable:
                options = (("", spec.none), *options)
        fields.append(
            FormField(
                name=name,
                id=id_prefix + f.name,
                label=label(spec.label),
                help=help_text,
                control="select" if options else "textarea" if spec.long else "input",
                type="date" if spec.kind == "date" else "text",
                inputmode=("numeric" if spec.kind == "int" else "decimal") if numeric else "",
                value=values.get(name, "") or "",
                options=options,
                required=required and f.required and not keyed,
                placeholder=placeholder,
                wide=spec.long,
            )
        )
    return fields


def posted_document(
    cls: type[Document],
    posted: Mapping[str, str],
    *,
    base: Mapping[str, Any] | None = None,
    name_prefix: str = "",
    skip: Collection[str] = (),
    where: str = "",
    read: Mapping[str, Callable[[str], Any]] | None = None,
) -> dict[str, Any]:
    """The document a posted form describes: ``base`` (the stored document of an edit, or
    nothing) with each declared field the form posted read from its text. ``read`` replaces
    the reading of some fields (a key result's target in its metric's unit); ``where``
    starts the messages of values that cannot be read."""
    doc: dict[str, Any] = dict(base or {})
    doc.pop("stream", None)
    for f in declared(cls):
        name = name_prefix + f.name
        if f.kind == "tables" or f.name in skip or name not in posted:
            continue
        typed = posted[name]
        reader = (read or {}).get(f.name)
        doc[f.name] = reader(typed) if reader is not None else from_text(f, typed, where)
    return doc
