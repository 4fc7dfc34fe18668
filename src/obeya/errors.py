"""Every error Obeya raises on purpose derives from :class:`ObeyaError`.

The tree::

    ObeyaError
    ├── InputError            bad user input (field, value): a file, a workflow, an option
    │   ├── ParseError        a file that cannot be read; names file, row and field
    │   ├── WorkflowError     a workflow file that is wrong or does not fit the data
    │   ├── MapError          a value stream map that breaks a rule (step, field, value, rule)
    │   ├── ScenarioError     a simulation scenario that cannot run
    │   │   └── SimulationBudgetError  a run larger than the budget allows
    │   ├── PlanError         a plan whose tasks or dependencies do not hold together
    │   └── TwinError         a digital twin (file or fit) that is not valid
    ├── NotFoundError         a value stream (or other named thing) that does not exist
    ├── StoreError            the app store cannot do what was asked
    │   └── VersionConflict   a save against a version that is no longer the newest
    │                         (kind, key, expected, current)
    ├── AuthError             no signed-in user or valid token (401)
    ├── ForbiddenError        signed in, but the role does not allow it; a bad CSRF token (403)
    │   └── OwnedElsewhere    a save that would move a map or record to another stream
    ├── TooManyAttempts       too many wrong passwords; wait and try again (429)
    ├── SimulationCancelled   a run stopped by its caller
    ├── BodyTooLarge          a request body (an upload) over its route's limit (413)
    └── ConnectorError        a tracker (Jira, GitHub, GitLab) refused or failed a sync (502)

The classes live beside what raises them (MapError in ``core.maps.model``…); every one is in
this tree (a test checks). The CLI prints ``str(error)`` and exits with status 1 (2 for usage
errors); the API turns every error into one JSON shape (``{"error": {"type", "message",
"detail"}}``), ``detail`` being :meth:`ObeyaError.fields`. Callers tell errors apart by class
and fields, never by their text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

#: Where a message is shown: the CLI names options as flags (``--history-days``), the API as
#: parameters (``history_days``), the pages in words (``history (days)``).
Shell = Literal["cli", "api", "web"]

#: How a message names an option it suggests changing: ``{opt:history_days}``. The shell that
#: shows the message says it in its own words (:meth:`ObeyaError.shown`), so no page tells a
#: person in a browser to pass a command-line flag.
_OPTION = re.compile(r"\{opt:([a-z][a-z0-9_]*)\}")

#: Words for the options whose name alone does not read well on a page.
OPTION_WORDS = {
    "history_days": "days of history",
    "horizon_days": "horizon (days)",
    "every_days": "days between origins",
    "item_column": "item id column",
    "state_columns": "state columns",
    "strict": "strict import",
}


def option(name: str, shell: Shell) -> str:
    """An option as ``shell`` names it."""
    if shell == "cli":
        return "--" + name.replace("_", "-")
    if shell == "api":
        return name
    return OPTION_WORDS.get(name, name.replace("_", " "))


class ObeyaError(Exception):
    """Base of every error Obeya raises on purpose."""

    http_status = 500

    def __str__(self) -> str:
        return self.shown("web")

    def shown(self, shell: Shell) -> str:
        """The message as ``shell`` shows it, options named in its own words."""
        text = super().__str__()
        return _OPTION.sub(lambda m: option(m.group(1), shell), text)

    @property
    def error_type(self) -> str:
        return type(self).__name__

    def fields(self) -> dict[str, Any] | None:
        """What a client can point at (a field, a row, a version); None when nothing."""
        return None


class InputError(ObeyaError):
    """The user gave something Obeya cannot use; the message says how to fix it. ``field``
    and ``value`` name what was wrong, where one field is to blame."""

    http_status = 422

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value

    def fields(self) -> dict[str, Any] | None:
        if self.field is None:
            return None
        return {"field": self.field, "value": _plain(self.value)}


def _plain(value: Any) -> Any:
    """A value as JSON can carry it: the text of anything else, and of an infinite or NaN
    float (a body's ``1e400`` reads as inf; JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class ParseError(InputError):
    """A file that cannot be read, located as precisely as the format allows."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        element: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.element = element
        where = []
        if file:
            where.append(file)
        if row is not None:
            where.append(f"row {row}")
        if element:
            where.append(element)
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message, field=field)

    def fields(self) -> dict[str, Any] | None:
        return {"file": self.file, "row": self.row, "field": self.field, "element": self.element}


class WorkflowError(InputError):
    """A workflow that is malformed or names no state of the data."""


class NotFoundError(ObeyaError):
    """Nothing by that name. ``known`` lists what there is, for a hint the CLI adds
    (:meth:`hint`); the server never sends it, since it may name other streams' things."""

    http_status = 404

    def __init__(
        self,
        message: str,
        *,
        what: str = "",
        key: str = "",
        known: Sequence[str] = (),
        plural: str = "",
    ) -> None:
        super().__init__(message)
        self.what = what
        self.key = key
        self.known = tuple(known)
        self.plural = plural or f"{what}s"

    def hint(self) -> str:
        """``the streams are 'A', 'B'`` (or ``there are no streams yet``)."""
        if not self.what:
            return ""
        plural = self.plural
        if not self.known:
            return f"there are no {plural} yet"
        return f"the {plural} are {', '.join(self.known)}"


def named_missing(what: str, name: str, known: Sequence[str], plural: str) -> NotFoundError:
    """``no value stream named 'X'``; what there is goes in :attr:`NotFoundError.known`."""
    return NotFoundError(
        f"no {what} named {name!r}",
        what=what,
        key=name,
        known=[repr(n) for n in known],
        plural=plural,
    )


class StoreError(ObeyaError):
    http_status = 409


class VersionConflict(StoreError):
    """A save that expected another version than the newest: someone saved in between (or
    ``current`` is 0: nothing of that key exists yet, so an "add" found it taken if
    ``expected`` is 0 and ``current`` is not). Nothing was saved."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        key: str,
        expected: int,
        current: int,
        author: str | None = None,
        at: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key
        self.expected = expected
        self.current = current
        self.author = author
        self.at = at

    @property
    def taken(self) -> bool:
        """An "add" (expected version 0) of a key that exists."""
        return self.expected == 0 and self.current > 0

    def fields(self) -> dict[str, Any] | None:
        return {
            "kind": self.kind,
            "key": self.key,
            "expected": self.expected,
            "current": self.current,
            "author": self.author,
            "at": self.at,
        }


class AuthError(ObeyaError):
    """No signed-in user, or a token that is unknown, expired or revoked."""

    http_status = 401


class ForbiddenError(ObeyaError):
    """The user is known but their role (on this stream) does not allow the request."""

    http_status = 403


class OwnedElsewhere(ForbiddenError):
    """A save that would move a map or record out of its value stream (or into one). Names,
    keys and variants are unique in the workspace, and a thing stays in the stream it was
    saved in: only a move (an admin of both streams) changes that. Says nothing of where it
    is, nor who changed it: the caller may have no role there."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(
            f"{key} is not in the value stream this save names: names and keys are "
            "unique in the workspace, so pick another, or ask an admin of both streams to "
            "move it"
        )
        self.what = what
        self.key = key


class TooManyAttempts(ObeyaError):
    """Sign-in refused for a while after several wrong passwords."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def fields(self) -> dict[str, Any] | None:
        return {"retry_after": self.retry_after}


class ConnectorError(ObeyaError):
    """A tracker refused or failed what a connector asked: a bad token, a wrong URL, a query
    the tracker rejects, or errors left after the retries. Names the connector; carries the
    HTTP ``status`` (None: no answer) and the tracker's own ``reason``. Never holds a secret."""

    http_status = 502

    def __init__(
        self, connector: str, message: str, *, status: int | None = None, reason: str = ""
    ) -> None:
        super().__init__(f"connector {connector!r}: {message}")
        self.connector = connector
        self.status = status
        self.reason = reason
