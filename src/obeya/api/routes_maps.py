"""The REST API of value stream maps: saved maps and their versions, variants compared, the
figures of a map, and the current-state map discovered from a stream's history.

A map is addressed by name and variant (``/api/maps/Line/current``). Saving (PUT) adds a
version; give ``expected_version`` (the version the change was made on, 0 for a new map) and a
save made on a stale version is refused with 409. A map that breaks a rule is refused with 422
and a message naming the field, and nothing is saved. A variant cannot be named ``compare``
(that path compares variants).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from obeya.api.auth import API_AUTHOR, require_on, require_save, sees
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import BODY_ERRORS, ERRORS, MAX_VERSION, ErrorResponse, StreamMove
from obeya.core.access import Role
from obeya.core.maps.calculations import calculate
from obeya.core.maps.files import map_from_dict, map_to_dict
from obeya.errors import InputError
from obeya.render.raster import svg_to_png
from obeya.render.vsm_svg import render_svg
from obeya.store import MapInfo, MapVersion, StoredMap
from obeya.workspace import discovered_message

router = APIRouter(prefix="/api", route_class=GuardedRoute)

STALE = "The map changed since expected_version (nothing was saved)."

Ctx = Annotated[AppContext, Depends(context)]
MapName = Annotated[str, Path(description="The map's name.")]
Variant = Annotated[str, Path(description="The map's variant, e.g. current or future.")]
GivenVersion = Annotated[
    int | None, Query(description="A given version (default: newest).", ge=1, le=MAX_VERSION)
]


class MapSummary(BaseModel):
    """A saved map variant in the list."""

    name: str
    variant: str
    version: int = Field(description="The newest version.")
    stream: str | None = Field(description="The value stream the map is of, if any.")
    author: str = Field(description="Who saved the newest version.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, info: MapInfo) -> MapSummary:
        return cls(
            name=info.name,
            variant=info.variant,
            version=info.version,
            stream=info.stream,
            author=info.author,
            created_at=info.created_at,
            updated_at=info.updated_at,
        )


class VersionOut(BaseModel):
    """One saved version: who saved it, when, why, and the fields it changed."""

    name: str
    variant: str
    version: int
    author: str
    message: str
    created_at: datetime
    changes: list[str] = Field(
        default_factory=list, description="Map fields changed since the version before."
    )

    @classmethod
    def of(cls, version: MapVersion) -> VersionOut:
        return cls(
            name=version.name,
            variant=version.variant,
            version=version.version,
            author=version.author,
            message=version.message,
            created_at=version.created_at,
            changes=list(version.changes),
        )


class MapOut(VersionOut):
    """A saved map: the version and the map document (the JSON of a map file)."""

    stream: str | None
    map: dict[str, Any]

    @classmethod
    def of_stored(cls, stored: StoredMap) -> MapOut:
        return cls(
            **VersionOut.of(stored.version).model_dump(),
            stream=stored.stream,
            map=map_to_dict(stored.map),
        )


class MapSave(BaseModel):
    """A map to save as the next version."""

    map: dict[str, Any] = Field(
        description="The map document (the JSON of a map file); its name and variant are "
        "the path's."
    )
    expected_version: int | None = Field(
        default=None,
        description="The version the change was made on (0: a new map); 409 if it moved on.",
    )
    message: str = Field(default="", description="Why it changed.")
    stream: str | None = Field(default=None, description="Link the map to this value stream.")


class VariantCopy(BaseModel):
    """Start a variant as a copy of this one's newest version."""

    to: str = Field(description="The new variant's name, e.g. future.")


def _no_compare(variant: str) -> None:
    if variant == "compare":
        raise InputError("'compare' cannot name a variant: /api/maps/{name}/compare compares")


@router.get("/maps", response_model=list[MapSummary], tags=["maps"])
def list_maps(ctx: Ctx, request: Request) -> list[MapSummary]:
    """The saved map variants the caller may see, by name then variant."""
    return [MapSummary.of(i) for i in ctx.workspace.maps() if sees(request, i.stream)]


@router.get("/maps/{name}/compare", responses=ERRORS, tags=["maps"])
def compare_variants(
    ctx: Ctx,
    name: MapName,
    variants: Annotated[
        str, Query(description="Comma-separated variants; the first is the base.")
    ] = "current,future",
) -> dict[str, Any]:
    """Every figure of each variant beside the base's, with delta and % change (the document of
    ``obeya map compare NAME --variants ... --json``)."""
    names = [v.strip() for v in variants.split(",") if v.strip()]
    return ctx.workspace.compare_map_variants(name, names).to_dict()


@router.get("/maps/{name}/{variant}", response_model=MapOut, responses=ERRORS, tags=["maps"])
def get_map(
    ctx: Ctx,
    name: MapName,
    variant: Variant,
    version: GivenVersion = None,
) -> MapOut:
    """A saved map, its newest version or a given one."""
    return MapOut.of_stored(ctx.workspace.get_map(name, variant, version))


@router.put(
    "/maps/{name}/{variant}",
    response_model=VersionOut,
    responses={**BODY_ERRORS, 409: {"model": ErrorResponse, "description": STALE}},
    tags=["maps"],
)
def save_map(
    ctx: Ctx, request: Request, name: MapName, variant: Variant, body: MapSave
) -> VersionOut:
    """Save the map as the next version; all or nothing. Linking it to a stream needs the
    editor role there too."""
    _no_compare(variant)
    require_save(request, body.stream)
    document = {**body.map, "name": name, "variant": variant}
    vsm = map_from_dict(document, "map")
    saved = ctx.workspace.save_map(
        vsm,
        author=API_AUTHOR,
        message=body.message,
        stream=body.stream,
        expected_version=body.expected_version,
    )
    return VersionOut.of(saved)


@router.get(
    "/maps/{name}/{variant}/history",
    response_model=list[VersionOut],
    responses=ERRORS,
    tags=["maps"],
)
def map_history(ctx: Ctx, name: MapName, variant: Variant) -> list[VersionOut]:
    """Every version, oldest first: who saved it, when, why and what changed."""
    return [VersionOut.of(v) for v in ctx.workspace.map_history(name, variant)]


@router.post(
    "/maps/{name}/{variant}/copy",
    response_model=VersionOut,
    status_code=201,
    responses={**BODY_ERRORS, 409: {"model": ErrorResponse, "description": "The variant exists."}},
    tags=["maps"],
)
def copy_variant(ctx: Ctx, name: MapName, variant: Variant, body: VariantCopy) -> VersionOut:
    """Start variant ``to`` (version 1) as a copy of this variant's newest version."""
    _no_compare(body.to)
    saved = ctx.workspace.copy_map_variant(name, variant, body.to, author=API_AUTHOR)
    return VersionOut.of(saved)


@router.get("/maps/{name}/{variant}/figures", responses=ERRORS, tags=["maps"])
def map_figures(
    ctx: Ctx,
    name: MapName,
    variant: Variant,
    version: GivenVersion = None,
) -> dict[str, Any]:
    """The map's figures: steps, totals, takt, the constraint and waste (the document of
    ``obeya map get NAME --json``)."""
    return calculate(ctx.workspace.get_map(name, variant, version).map).to_dict()


@router.get(
    "/maps/{name}/{variant}/drawing",
    responses={
        **ERRORS,
        200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The drawing."},
    },
    response_class=Response,
    tags=["maps"],
)
def map_drawing(
    ctx: Ctx,
    name: MapName,
    variant: Variant,
    version: GivenVersion = None,
    format: Annotated[
        Literal["svg", "png"], Query(description="svg (default) or png, for slides.")
    ] = "svg",
) -> Response:
    """The map drawn in value stream mapping notation (``obeya map export --format svg|png``)."""
    vsm = ctx.workspace.get_map(name, variant, version).map
    svg = render_svg(vsm, calculate(vsm))
    if format == "png":
        return Response(svg_to_png(svg), media_type="image/png")
    return Response(svg, media_type="image/svg+xml")


StreamOfMap = Annotated[str, Path(description="The value stream's name.")]


@router.get("/streams/{stream}/map", responses=ERRORS, tags=["maps"])
def discover_stream_map(ctx: Ctx, stream: StreamOfMap) -> dict[str, Any]:
    """The current-state map discovered from the stream's history (the document of
    ``obeya map discover --stream NAME --json``). Reading never saves: POST to save it."""
    return ctx.workspace.discover_stream_map(stream).to_dict()


class DiscoveredSave(BaseModel):
    """Save the discovered map."""

    name: str | None = Field(
        default=None, description="Name of the saved map (default: the stream's).", max_length=200
    )


@router.post("/streams/{stream}/map", responses=BODY_ERRORS, tags=["maps"])
def save_stream_map(ctx: Ctx, stream: StreamOfMap, body: DiscoveredSave) -> dict[str, Any]:
    """Discover the current-state map and save it as the next version of its ``current``
    variant; ``saved`` is the new version. A name taken by another stream's map is refused
    (403): a save never moves a map between streams."""
    workspace = ctx.workspace
    discovery, drawn = workspace.discovered_map(stream, body.name or stream)
    document = discovery.to_dict()
    saved = workspace.save_map(
        drawn,
        author=API_AUTHOR,
        message=discovered_message(stream),
        stream=stream,
    )
    document["saved"] = VersionOut.of(saved).model_dump(mode="json")
    return document


@router.post("/maps/{name}/move", status_code=204, responses=BODY_ERRORS, tags=["maps"])
def move_map(ctx: Ctx, request: Request, name: MapName, body: StreamMove) -> None:
    """Move every variant of the map to another value stream (or to none): an admin's act,
    on the stream it leaves and the one it joins. Saves never move a map."""
    require_on(request, Role.ADMIN, body.stream)
    ctx.workspace.move_map(name, body.stream)
