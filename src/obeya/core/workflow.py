"""A workflow says what each state of the data means for flow.

Categories: ``backlog`` (not started), ``active`` (someone works on it), ``waiting`` (started,
nobody works on it) and ``done``. The commitment point is the first entry into any started
state: active, waiting or done. States the workflow does not name are ``unmapped``: they count
as not started, like backlog, and the report lists them so the user can fix the workflow.

Optional keys beyond the four lists:

- ``order``: every state in flow order, for cumulative flow (default: backlog, then active and
  waiting as listed, then done);
- ``[stages]``: named groups of states, e.g. ``Develop = ["In Progress", "In Review"]``;
- ``finish``: when a finished item finished: ``"last"`` (default), the time of its last event
  (its last entry into done); ``"first"``, its first entry into a done state (as ActionableAgile
  and Jira's resolution date count it). Either way an item is finished only while its last
  event is in a done state (a reopened item is in progress again); see docs/conventions.md.
- ``blocked_label``: the GitHub or GitLab label that marks an item blocked (e.g. ``"blocked"``):
  a connector syncing into the stream records a blocker (docs/conventions.md, "Blocked time")
  from each time the label was added until it was removed. Default none: labels block nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from obeya.core.tomlfile import parse_toml
from obeya.errors import WorkflowError


class Category(StrEnum):
    BACKLOG = "backlog"
    ACTIVE = "active"
    WAITING = "waiting"
    DONE = "done"
    UNMAPPED = "unmapped"


STARTED = (Category.ACTIVE, Category.WAITING, Category.DONE)
_LIST_KEYS = ("backlog", "active", "waiting", "done")

#: The two finish conventions (``finish`` in a workflow); the first is the default.
FINISH_LAST = "last"
FINISH_FIRST = "first"
FINISHES = (FINISH_LAST, FINISH_FIRST)


@dataclass(frozen=True)
class Workflow:
    backlog: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    done: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    stages: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    source: str = "<workflow>"
    finish: str = FINISH_LAST
    blocked_label: str | None = None

    def __post_init__(self) -> None:
        if self.blocked_label is not None and not self.blocked_label.strip():
            raise WorkflowError(
                f"{self.source}: field 'blocked_label' is empty; name the label that marks an "
                'item blocked (e.g. "blocked"), or leave the field out',
                field="blocked_label",
                value=self.blocked_label,
            )
        if self.finish not in FINISHES:
            raise WorkflowError(
                f"{self.source}: field 'finish' is {self.finish!r}; give \"last\" (the last "
                'entry into done, the default) or "first" (the first entry into done)',
                field="finish",
                value=self.finish,
            )
        seen: dict[str, str] = {}
        for key in _LIST_KEYS:
            for state in getattr(self, key):
                if state in seen:
                    raise WorkflowError(
                        f"{self.source}: state {state!r} is listed under both "
                        f"'{seen[state]}' and '{key}'; give each state one category"
                    )
                seen[state] = key
        if not seen:
            raise WorkflowError(
                f"{self.source}: the workflow names no state; list states under "
                "backlog, active, waiting and done"
            )
        if not self.done:
            raise WorkflowError(f"{self.source}: field 'done' must name at least one state")
        unknown = [s for s in self.order if s not in seen]
        if unknown:
            raise WorkflowError(
                f"{self.source}: field 'order' names {unknown[0]!r}, which is in no category"
            )

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "<workflow>") -> Workflow:
        known = {*_LIST_KEYS, "order", "stages", "finish", "blocked_label", "name", "description"}
        for key in data:
            if key not in known:
                raise WorkflowError(
                    f"{source}: unknown field {key!r}; expected {', '.join(sorted(known))}"
                )
        lists: dict[str, tuple[str, ...]] = {}
        for key in (*_LIST_KEYS, "order"):
            lists[key] = _string_list(data.get(key, []), source, key)
        raw_stages = data.get("stages", {})
        if not isinstance(raw_stages, Mapping):
            raise WorkflowError(f"{source}: field 'stages' must be a table of name = [states]")
        stages = tuple(
            (str(name), _string_list(states, source, f"stages.{name}"))
            for name, states in raw_stages.items()
        )
        finish = data.get("finish", FINISH_LAST)
        if not isinstance(finish, str):
            raise WorkflowError(
                f'{source}: field \'finish\' is {finish!r}; give "last" or "first" (a string)',
                field="finish",
                value=finish,
            )
        blocked_label = data.get("blocked_label")
        if blocked_label is not None and not isinstance(blocked_label, str):
            raise WorkflowError(
                f"{source}: field 'blocked_label' is {blocked_label!r}; give the label's name "
                '(a string, e.g. "blocked")',
                field="blocked_label",
                value=blocked_label,
            )
        return cls(
            backlog=lists["backlog"],
            active=lists["active"],
            waiting=lists["waiting"],
            done=lists["done"],
            order=lists["order"],
            stages=stages,
            source=source,
            finish=finish,
            blocked_label=blocked_label,
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> Workflow:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise WorkflowError(f"{path}: cannot read the workflow file ({exc.strerror})") from exc
        return cls.from_toml_text(text, str(path))

    @classmethod
    def from_toml_text(cls, text: str, source: str = "<workflow>") -> Workflow:
        return cls.from_mapping(parse_toml(text, source, WorkflowError), source)

    # -- queries ----------------------------------------------------------------------------

    def category_of(self, state: str) -> Category:
        for key in _LIST_KEYS:
            if state in getattr(self, key):
                return Category(key)
        return Category.UNMAPPED

    def categories(self) -> dict[str, Category]:
        """Every named state → its category."""
        return {s: Category(key) for key in _LIST_KEYS for s in getattr(self, key)}

    def named_states(self) -> list[str]:
        return list(self.categories())

    def state_order(self, observed: Sequence[str] = ()) -> list[str]:
        """States in flow order, for cumulative flow.

        ``order`` if the workflow gives one, else backlog, active, waiting and done states as
        listed. Observed states the workflow does not name come first (they count as not
        started), so cumulative flow stays monotone.
        """
        named = set(self.categories())
        extra = [s for s in dict.fromkeys(observed) if s not in named]
        listed = list(self.order) or [*self.backlog, *self.active, *self.waiting, *self.done]
        rest = [s for s in self.named_states() if s not in listed]
        return [*extra, *listed, *rest]

    def check_against(self, observed: Sequence[str]) -> list[str]:
        """Raise if the workflow names no state of the data; return the unmapped states."""
        named = set(self.categories())
        if not named.intersection(observed):
            sample = ", ".join(repr(s) for s in list(observed)[:8])
            raise WorkflowError(
                f"{self.source}: the workflow names no state of the data; the data has {sample}"
            )
        return [s for s in observed if s not in named]

    def to_toml(self) -> str:
        lines = []
        for key in _LIST_KEYS:
            lines.append(f"{key} = {_toml_list(getattr(self, key))}")
        if self.order:
            lines.append(f"order = {_toml_list(self.order)}")
        # The default is left out: stored workflows stay as they were.
        if self.finish != FINISH_LAST:
            lines.append(f"finish = {_toml_string(self.finish)}")
        if self.blocked_label is not None:
            lines.append(f"blocked_label = {_toml_string(self.blocked_label)}")
        if self.stages:
            lines.append("")
            lines.append("[stages]")
            for name, states in self.stages:
                lines.append(f"{_toml_key(name)} = {_toml_list(states)}")
        return "\n".join(lines) + "\n"


def _string_list(value: object, source: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise WorkflowError(f"{source}: field '{key}' must be a list of state names")
    for element in value:
        if not isinstance(element, str):
            raise WorkflowError(
                f"{source}: field '{key}' holds {element!r}; state names must be strings"
            )
    return tuple(value)


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"


def _toml_key(name: str) -> str:
    bare = name.replace("_", "").replace("-", "").isalnum()
    return name if bare else _toml_string(name)
