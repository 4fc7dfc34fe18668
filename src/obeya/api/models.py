"""Response models: they give the OpenAPI document (/docs) its shapes and examples.

The flow document is the one exception to strict models: the API returns
``FlowReport.to_dict()`` byte for byte (the contract shared with ``obeya metrics --json``), so
:class:`FlowDocument` describes its main keys for the docs and lets the rest through.

A steering record's document is described by the model :func:`document_model` builds from its
kind's declaration (:mod:`obeya.core.documents`): the fields of a risk in ``/openapi.json``
are the fields the core reads, with their types, bounds, choices and help.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from obeya.core.documents import Declared, Document, declared
from obeya.core.steering.kinds import KINDS
from obeya.store import ImportResult, StreamInfo


class StreamSummary(BaseModel):
    """A value stream in the list."""

    name: str
    items: int = Field(description="Distinct work items in the stream's history.")
    events: int = Field(description="Stored events (entries of an item into a state).")
    has_workflow: bool = Field(description="Whether states are mapped to flow categories.")
    created_at: datetime

    @classmethod
    def of(cls, info: StreamInfo) -> StreamSummary:
        return cls(
            name=info.name,
            items=info.items,
            events=info.events,
            has_workflow=info.workflow is not None,
            created_at=info.created_at,
        )


class StreamDetail(StreamSummary):
    """A value stream with its workflow as TOML (the format ``--workflow`` files use)."""

    workflow_toml: str | None = Field(
        description="The workflow as TOML, or null when the stream has none."
    )
    categories: dict[str, str] = Field(
        description="Each named state → backlog, active, waiting or done."
    )

    @classmethod
    def of(cls, info: StreamInfo) -> StreamDetail:
        workflow = info.workflow
        return cls(
            **StreamSummary.of(info).model_dump(),
            workflow_toml=workflow.to_toml() if workflow is not None else None,
            categories={s: str(c) for s, c in workflow.categories().items()} if workflow else {},
        )


class ImportResponse(BaseModel):
    """What an upload did; importing the same file again adds no event."""

    events_in_file: int
    events_added: int
    stream: StreamDetail
    warnings: list[str] = Field(
        default_factory=list,
        description="What the file's reader kept but flagged (events that go backwards).",
    )

    @classmethod
    def of(cls, result: ImportResult) -> ImportResponse:
        return cls(
            events_in_file=result.events_in_file,
            events_added=result.events_added,
            stream=StreamDetail.of(result.stream),
            warnings=[w.message for w in result.warnings],
        )


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str
    database: str = Field(description="The app store's backend: sqlite or postgresql.")


class FlowDocument(BaseModel):
    """The flow report, as ``obeya metrics --stream NAME --json`` prints it.

    Keys beyond those listed here (the daily and weekly series, cumulative flow, time in
    state, the Flow Framework block; with ``detail``, the scatter points and aging items) are
    described in docs/conventions.md.
    """

    model_config = ConfigDict(extra="allow")

    source: str
    workflow: bool
    filter: dict[str, Any]
    items: dict[str, int]
    cycle_time_days: dict[str, float | int | None]
    lead_time_days: dict[str, float | int | None]
    flow_efficiency: float | None
    throughput_weekly: dict[str, int]
    wip_daily: dict[str, int]


class ErrorInfo(BaseModel):
    type: str = Field(examples=["NotFoundError"])
    message: str
    detail: Any = None


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


def stream_query(description: str) -> Any:
    """A query parameter naming a value stream: bounded, and without control characters (no
    stream name has them, and PostgreSQL cannot even hold a NUL), so a bad one is a 422
    before anything is read."""
    from fastapi import Query

    return Query(description=description, max_length=200, pattern=r"^[^\x00-\x1f]*$")


#: The largest version number the store holds (a 32-bit integer column): a ``version``
#: parameter beyond it is refused (422) rather than sent to the database to overflow.
MAX_VERSION = 2**31 - 1

#: For ``responses=`` on routes: the error statuses documented with their one shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Not signed in: no, or a bad, bearer token."},
    403: {"model": ErrorResponse, "description": "The user's role does not allow it here."},
    404: {"model": ErrorResponse, "description": "No such value stream (or chart)."},
    422: {"model": ErrorResponse, "description": "A parameter or an uploaded file is invalid."},
}
#: For routes that take a request body: one that cannot be read at all (JSON that is not
#: UTF-8, a broken multipart envelope) is refused with 400 before the route runs.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The request body cannot be read."},
    **ERRORS,
}


class StreamMove(BaseModel):
    """Where to move a map or record: the one way it changes streams."""

    stream: str | None = Field(
        description="The value stream to move it to; null: to no stream (maps only).",
        max_length=200,
    )


# -- steering documents -----------------------------------------------------------------------

_MODELS: dict[type[Document], type[BaseModel]] = {}


def document_model(cls: type[Document]) -> type[BaseModel]:
    """The pydantic model of a declared document, named ``<Class>Document``: each declared
    field with its type, default, bounds, choices, label (title) and help (description).
    The key is optional: a save takes the path's, an add without one gets the next."""
    if cls not in _MODELS:
        fields: dict[str, Any] = {f.name: _model_field(f) for f in declared(cls)}
        _MODELS[cls] = create_model(
            f"{cls.__name__}Document",
            __doc__=f"A {cls.noun} (unknown fields are refused).",
            **fields,
        )
    return _MODELS[cls]


def _model_field(f: Declared) -> tuple[Any, Any]:
    spec = f.spec
    kind: Any
    match spec.kind:
        case "text":
            kind = str
        case "int":
            kind = int
        case "float" | "share":
            kind = float
        case "date":
            kind = date
        case "choice":
            kind = Literal[spec.options]
        case "texts":
            kind = list[str]
        case "tables":
            assert f.table is not None
            kind = list[document_model(f.table)]  # type: ignore[misc]
    default: Any = ... if f.required else _json(f.default)
    if f.nullable or f.name == "key":
        kind, default = kind | None, None if f.name == "key" else default
    low = spec.low if math.isfinite(spec.low) else None
    describe = spec.help or spec.label
    field = Field(
        default,
        title=spec.label,
        description=describe,
        ge=None if spec.above else low,
        gt=low if spec.above else None,
        le=spec.high if math.isfinite(spec.high) else None,
        min_length=1 if spec.nonempty else None,
    )
    return kind, field


def _json(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


#: The document of a record in the API: the model of its kind (the path's ``{kind}``) for a
#: declared kind, a table of fields for the others (a plan's, an experiment's). At run time
#: a document stays the dict it is — the core checks it, and answers give it byte for byte.
if TYPE_CHECKING:
    AnyDocument = dict[str, Any]
else:
    _DECLARED = tuple(document_model(k.document) for k in KINDS.values() if k.document)
    # A union built at run time, tried left to right: the dict always wins, so a document
    # is never rewritten by a model on its way in or out.
    AnyDocument = Annotated[Union[(dict[str, Any], *_DECLARED)], Field(union_mode="left_to_right")]
