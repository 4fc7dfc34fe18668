"""Every error Obeya raises on purpose is in the tree drawn in ``obeya.errors``, with its parent,
and carries its fields: callers tell errors apart by class and fields, never by their text."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import obeya
from obeya import errors
from obeya.errors import InputError, ObeyaError, ParseError, VersionConflict


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_subclasses(sub)
    return found


def _import_everything() -> None:
    for module in pkgutil.walk_packages(obeya.__path__, "obeya."):
        if ".web.static" in module.name or ".migrations" in module.name:
            continue
        importlib.import_module(module.name)


def _tree() -> dict[str, str]:
    """name → parent name, read from the drawing in the module's docstring."""
    doc = errors.__doc__ or ""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        match = re.match(r"^(\s*(?:[│ ]   )*)(?:├── |└── )?([A-Z]\w+)(\s|$)", line)
        if not match or not line.strip():
            continue
        if "── " not in line and match.group(2) != "ObeyaError":
            continue
        depth = len(match.group(1)) // 4 if "── " in line else -1
        name = match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def test_every_obeya_error_is_in_the_tree_under_its_parent() -> None:
    _import_everything()
    tree = _tree()
    classes = _all_subclasses(ObeyaError)
    assert len(classes) >= 18
    missing = sorted(c.__name__ for c in classes if c.__name__ not in tree)
    assert missing == []
    for cls in classes:
        parent = next(b for b in cls.__mro__[1:] if issubclass(b, ObeyaError))
        assert tree[cls.__name__] == parent.__name__, cls.__name__


def test_the_tree_names_no_class_that_does_not_exist() -> None:
    _import_everything()
    names = {c.__name__ for c in _all_subclasses(ObeyaError)}
    assert set(_tree()) - names == set()


def test_errors_carry_fields_for_clients() -> None:
    error = InputError("share must be between 0 and 1", field="share", value=1.5)
    assert error.fields() == {"field": "share", "value": 1.5}
    assert InputError("no field").fields() is None
    parse = ParseError("not a date", file="a.csv", row=3, field="t")
    assert parse.field == "t"
    assert parse.fields() == {"file": "a.csv", "row": 3, "field": "t", "element": None}
    conflict = VersionConflict("x", kind="risk", key="R-1", expected=0, current=2)
    assert conflict.taken
    assert not VersionConflict("x", kind="risk", key="R-1", expected=1, current=2).taken
    assert conflict.fields() is not None and conflict.fields()["current"] == 2  # type: ignore[index]


def _raised_texts(path: Path) -> list[tuple[int, str]]:
    """The literal text of every error raised in a module (f-string parts included)."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            parts = [
                n.value
                for n in ast.walk(node.exc.args[0])
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            ]
            texts.append((node.lineno, "".join(parts)))
    return texts


def test_no_error_outside_the_cli_names_a_flag_or_a_python_class() -> None:
    """A person on a page cannot pass ``--history-days``: errors raised where every shell
    may show them name options as ``{opt:NAME}``, which each shell words its own way."""
    root = Path(obeya.__file__).parent
    modules = [
        p
        for p in root.rglob("*.py")
        if "cli" not in p.relative_to(root).parts and "migrations" not in p.parts
    ]
    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+|ColumnMap\(|Workflow\(")
    found = [
        f"{p.relative_to(root)}:{line}: {text}"
        for p in modules
        for line, text in _raised_texts(p)
        if flag.search(re.sub(r"`obeya [^`]*`", "", text))  # a command to run is fine
    ]
    assert len(modules) > 100
    assert found == []


def test_each_shell_words_an_option_its_own_way() -> None:
    error = InputError("no history; widen the {opt:history_days} or give a {opt:start}")
    assert str(error) == "no history; widen the days of history or give a start"
    assert error.shown("cli") == "no history; widen the --history-days or give a --start"
    assert error.shown("api") == "no history; widen the history_days or give a start"
