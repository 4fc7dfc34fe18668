"""Commands listed by name and summary, imported and built only when one is run.

``obeya --help`` lists some forty commands. Building them all would import every command module
(and, behind them, numpy, pyarrow, DuckDB, SQLAlchemy: seconds) and have Typer resolve every
parameter of every command, only to print one line each. So the root group lists each command
from its :class:`Entry`, and imports its module and builds it the moment it is run or asked for
its own help (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer._click import Command, Context, Parameter


@dataclass(frozen=True)
class Entry:
    """A command of the root group: ``target`` is ``"module:attribute"``, a function (one
    command) or a :class:`typer.Typer` (a group of commands). ``summary`` is what ``--help``
    lists: the first paragraph of the command's own help (a test holds them equal)."""

    name: str
    target: str
    summary: str
    panel: str


def load(entry: Entry) -> Command:
    """Import the entry's module and have Typer build the command, as ``add_typer`` or
    ``command`` on the root would have."""
    module, _, attribute = entry.target.partition(":")
    target = getattr(importlib.import_module(module), attribute)
    command: Command
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(entry.name)(target)
        command = typer.main.get_command(single)
    command.name = entry.name
    return command


def first_paragraph(text: str | None) -> str:
    """What a group's help lists for a command: its help's first paragraph, on one line."""
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


class LazyCommand(TyperCommand):
    """Stands in the group's listing for the real command until the command is run: then it
    hands the arguments to the real one, which parses them, answers ``--help`` and runs."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(name=entry.name, help=entry.summary, rich_help_panel=entry.panel)
        self.entry = entry
        self._loaded: Command | None = None

    def loaded(self) -> Command:
        if self._loaded is None:
            self._loaded = load(self.entry)
        return self._loaded

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        # The context is the real command's: Click then invokes ctx.command, the real one.
        return self.loaded().make_context(info_name, args, parent=parent, **extra)


class LazyGroup(TyperGroup):
    """A Typer group (``typer.Typer(cls=...)``) whose commands are its class's ``entries``,
    listed in that order."""

    entries: ClassVar[Sequence[Entry]] = ()

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for entry in self.entries:
            self.add_command(LazyCommand(entry))

    def get_params(self, ctx: Context) -> list[Parameter]:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.default is None:
                # A flag not given is None (--help, --install-completion), which Typer
                # converts through pydantic, imported for that alone, before it hands
                # `obeya metrics --help` to the command; False means the same and needs no
                # conversion.
                param.default = False
        return params
