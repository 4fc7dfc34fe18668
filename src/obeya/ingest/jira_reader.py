"""Jira issue-search JSON: ``/rest/api/2/search?expand=changelog``, one page or a list of pages.

Each issue gives one event at ``fields.created`` in its initial status (the ``fromString`` of its
earliest status change, or its current status when it never changed), then one event per status
change, at the change's time, in the status it moved to. Jira returns histories newest-first or
oldest-first depending on the endpoint, so they are sorted by time, ties by history id. ``created``
is the issue's creation time; type, title and assignee are the issue type, summary and current
assignee. ``ColumnMap`` does not apply: the fields are Jira's own.

Note that the search endpoint embeds at most 100 histories per issue; issues with more need their
changelog fetched separately before saving.

JSON is nested, so this reader walks issues and histories in Python; the per-value work
(timestamp parsing, duplicate search) is still vectorised. In errors, ``element`` names the issue
(``issue KEY``, or ``issue #N`` when it has no key) and the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from obeya.core.events import EventLog, unsupported_times
from obeya.errors import ParseError
from obeya.ingest.arrays import first_true
from obeya.ingest.columns import ColumnMap
from obeya.ingest.common import TIMESTAMP_HELP, Where, event_log, out_of_span
from obeya.ingest.limits import IngestLimits
from obeya.ingest.sources import Progress, open_input, read_all
from obeya.ingest.timestamps import BadTimestamp, parse_timestamps

_SHAPE_HELP = (
    "expected the JSON of Jira's /rest/api/2/search?expand=changelog: an object with an "
    "'issues' list, or a list of such pages"
)


@dataclass
class _Change:
    stamp: int  # index into the timestamp list
    history: str
    order: tuple[int, int, str]
    source: str | None
    target: str


@dataclass
class _Issue:
    key: str
    created: int  # index into the timestamp list
    status: str | None
    type: str | None
    title: str | None
    assignee: str | None
    changes: list[_Change] = field(default_factory=list)


@dataclass
class _Stamps:
    """Every timestamp string of the file, parsed in one vectorised pass."""

    text: list[str] = field(default_factory=list)
    where: list[tuple[str, str]] = field(default_factory=list)

    def add(self, value: str, element: str, name: str) -> int:
        self.text.append(value)
        self.where.append((element, name))
        return len(self.text) - 1


def read_jira(
    path: Path, file: str, columns: ColumnMap, progress: Progress | None, limits: IngestLimits
) -> EventLog:
    del columns  # Jira's fields have fixed names
    with open_input(path, progress, max_bytes=limits.max_decompressed_bytes) as stream:
        raw = read_all(stream)
    issues_json = _issue_list(_load(raw, file), file)
    stamps = _Stamps()
    issues = [_issue(issue, number, stamps, file) for number, issue in enumerate(issues_json, 1)]
    if not issues:
        raise ParseError("the search result contains no issues; " + _SHAPE_HELP, file=file)
    try:
        parsed = parse_timestamps(pa.array(stamps.text, pa.string()))
    except BadTimestamp as error:
        element, name = stamps.where[error.index]
        raise ParseError(
            f"cannot read timestamp {error.value!r}; {TIMESTAMP_HELP}",
            file=file,
            element=element,
            field=name,
        ) from None
    index = first_true(unsupported_times(parsed))
    if index is not None:
        element, name = stamps.where[index]
        raise ParseError(out_of_span(stamps.text[index]), file=file, element=element, field=name)
    return _events(issues, parsed.to_numpy(), file, limits)


def _load(raw: bytes, file: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ParseError(
            f"the JSON is malformed at line {error.lineno}, column {error.colno}: {error.msg}. "
            "Check that the file was saved completely",
            file=file,
            row=error.lineno,
        ) from None
    except UnicodeDecodeError:
        raise ParseError("the JSON is not UTF-8 text; save it as UTF-8", file=file) from None
    except RecursionError:
        raise ParseError(
            "the JSON is nested too deeply to be a Jira search result; " + _SHAPE_HELP,
            file=file,
        ) from None
    except ValueError as error:  # e.g. an integer of thousands of digits
        raise ParseError(f"the JSON cannot be read: {error}", file=file) from None


def _issue_list(data: Any, file: str) -> list[Any]:
    pages = data if isinstance(data, list) else [data]
    issues: list[Any] = []
    for number, page in enumerate(pages, start=1):
        if isinstance(page, dict) and isinstance(page.get("issues"), list):
            issues.extend(page["issues"])
        elif isinstance(page, dict) and "key" in page and isinstance(data, list):
            issues.append(page)  # a plain list of issues
        else:
            element = f"page {number}" if isinstance(data, list) else None
            raise ParseError(_SHAPE_HELP, file=file, element=element)
    return issues


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _name(value: Any, key: str = "name") -> str | None:
    return _text(value.get(key)) if isinstance(value, dict) else None


def _issue(issue: Any, number: int, stamps: _Stamps, file: str) -> _Issue:
    key = _text(issue.get("key")) if isinstance(issue, dict) else None
    if key is None:
        raise ParseError(
            "an issue without a 'key'; " + _SHAPE_HELP,
            file=file,
            element=f"issue #{number}",
            field="key",
        )
    element = f"issue {key}"
    fields = issue.get("fields")
    created = _text(fields.get("created")) if isinstance(fields, dict) else None
    if not isinstance(fields, dict) or created is None:
        raise ParseError(
            "the issue has no 'fields.created'; export with the created field included",
            file=file,
            element=element,
            field="fields.created",
        )
    result = _Issue(
        key=key,
        created=stamps.add(created, element, "fields.created"),
        status=_name(fields.get("status")),
        type=_name(fields.get("issuetype")),
        title=_text(fields.get("summary")),
        assignee=_name(fields.get("assignee"), "displayName"),
    )
    changelog = issue.get("changelog")
    histories = changelog.get("histories") if isinstance(changelog, dict) else None
    for history in histories or []:
        result.changes.extend(_status_changes(history, element, stamps, file))
    return result


def _status_changes(history: Any, issue: str, stamps: _Stamps, file: str) -> list[_Change]:
    if not isinstance(history, dict):
        raise ParseError("a changelog history is not an object", file=file, element=issue)
    ident = str(history.get("id", ""))
    element = f"{issue} history {ident}" if ident else issue
    items = [
        item
        for item in history.get("items") or []
        if isinstance(item, dict) and "status" in (item.get("field"), item.get("fieldId"))
    ]
    if not items:
        return []
    created = _text(history.get("created"))
    if created is None:
        raise ParseError(
            "a status change without 'created'", file=file, element=element, field="created"
        )
    stamp = stamps.add(created, element, "created")
    order = (0, int(ident), "") if ident.isdigit() else (1, 0, ident)
    changes = []
    for item in items:
        target = _text(item.get("toString"))
        if target is None:
            raise ParseError(
                "a status change without 'toString' (the new status)",
                file=file,
                element=element,
                field="toString",
            )
        changes.append(_Change(stamp, ident, order, _text(item.get("fromString")), target))
    return changes


def _events(issues: list[_Issue], micros: Any, file: str, limits: IngestLimits) -> EventLog:
    """Lay out each issue's events: creation first, then its status changes in time order."""
    item_ids: list[str] = []
    states: list[str] = []
    times: list[int] = []
    created: list[int] = []
    attributes: dict[str, list[str | None]] = {"type": [], "title": [], "assignee": []}
    where: list[Where] = []
    for issue in issues:
        changes = sorted(issue.changes, key=lambda c: (int(micros[c.stamp]), c.order))
        initial = changes[0].source if changes else issue.status
        if initial is None:
            element = f"issue {issue.key}" + (f" history {changes[0].history}" if changes else "")
            name = "fromString" if changes else "fields.status.name"
            raise ParseError(
                "cannot tell the issue's initial status: " + name + " is missing",
                file=file,
                element=element,
                field=name,
            )
        steps = [(initial, issue.created, f"issue {issue.key}")]
        steps += [(c.target, c.stamp, f"issue {issue.key} history {c.history}") for c in changes]
        for state, stamp, element in steps:
            item_ids.append(issue.key)
            states.append(state)
            times.append(int(micros[stamp]))
            created.append(int(micros[issue.created]))
            attributes["type"].append(issue.type)
            attributes["title"].append(issue.title)
            attributes["assignee"].append(issue.assignee)
            where.append(Where(element=element))
    columns: dict[str, Any] = {
        "item_id": pa.array(item_ids, pa.string()),
        "state": pa.array(states, pa.string()),
        "t": pa.array(times, pa.int64()),
        "seq": pa.array(np.arange(len(times), dtype=np.int64)),
        "created": pa.array(created, pa.int64()),
        **{name: pa.array(values, pa.string()) for name, values in attributes.items()},
    }
    return event_log(columns, file=file, locate=where.__getitem__, limits=limits)
