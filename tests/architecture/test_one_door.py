"""The CLI, the API and the pages reach the core through the Workspace only: no page imports
an API route module, and no shell touches the workspace's store."""

from __future__ import annotations

import ast
from pathlib import Path

import obeya

SRC = Path(obeya.__file__).parent
SHELLS = ("api", "web", "cli")


def _modules(folder: str) -> list[Path]:
    return sorted((SRC / folder).glob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _store_uses(path: Path) -> list[str]:
    """``x.store`` attribute reads in a module (``obeya.store`` imports are types, not uses)."""
    uses = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "store":
            uses.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return uses


def test_no_page_imports_an_api_route_module() -> None:
    offenders = {
        path.name: sorted(m for m in _imports(path) if m.startswith("obeya.api.routes_"))
        for path in _modules("web")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(_modules("web")) >= 15  # the check read the page modules


def test_no_shell_touches_the_store() -> None:
    uses = [use for folder in SHELLS for path in _modules(folder) for use in _store_uses(path)]
    assert uses == []


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The two checks above fail on code that breaks the rule."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from obeya.api.routes_forecast import get_when\n"
        "def page(ctx):\n    return ctx.workspace.store.users.all()\n",
        encoding="utf-8",
    )
    assert "obeya.api.routes_forecast" in _imports(bad)
    assert _store_uses(bad) == ["bad.py:3 ctx.workspace.store"]
