"""Value stream maps in the app store: named variants, each a list of saved versions.

A map is identified by its ``name`` and ``variant`` (``current``, ``future``...). Every save
adds a version (1, 2, ...) holding the whole map as JSON (:func:`~obeya.core.maps.files.
map_to_dict`) with who saved it, why and when; nothing is ever overwritten, so the history is
the audit trail. A save may say which version it was based on (``expected_version``): when
someone else saved since, it is refused and nothing is written (optimistic concurrency).

:class:`Maps` is the ``maps`` part of :class:`~obeya.store.store.Store`; every write is one
transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from obeya.core.maps.files import map_from_dict, map_to_dict
from obeya.core.maps.model import ValueStreamMap
from obeya.errors import InputError, NotFoundError, OwnedElsewhere, StoreError
from obeya.store.audit import ACTOR
from obeya.store.models import MapRow, MapVersionRow, StreamRow
from obeya.store.versioning import Versioned, utc

if TYPE_CHECKING:
    from obeya.store.store import Store


@dataclass(frozen=True)
class MapInfo:
    """A map variant in the list: its newest version and who saved it."""

    name: str
    variant: str
    version: int
    stream: str | None
    created_at: datetime  # UTC
    updated_at: datetime  # UTC
    author: str


@dataclass(frozen=True)
class MapVersion:
    """One saved version. ``changes`` names the map fields that differ from the version
    before (``steps.Review.people``, ``demand_per_day``...); empty for version 1."""

    name: str
    variant: str
    version: int
    author: str
    message: str
    created_at: datetime  # UTC
    changes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "variant": self.variant,
            "version": self.version,
            "author": self.author,
            "message": self.message,
            "created_at": self.created_at.isoformat(),
            "changes": list(self.changes),
        }


@dataclass(frozen=True)
class StoredMap:
    """A map as saved: the map itself and the version it is."""

    map: ValueStreamMap
    version: MapVersion
    stream: str | None


class Maps:
    """The saved value stream maps (``store.maps``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(
        self,
        vsm: ValueStreamMap,
        *,
        author: str,
        message: str = "",
        stream: str | None = None,
        expected_version: int | None = None,
    ) -> MapVersion:
        """Save ``vsm`` as the next version of map ``vsm.name``/``vsm.variant``.

        ``stream`` links the map to a value stream (kept from before when None).
        ``expected_version`` is the version the change was made on (0 for a new map): if the
        map is at another version, StoreError says who saved it when, and nothing is saved.
        """
        label = _label(vsm.name, vsm.variant)
        author = ACTOR.get() or author
        if not author.strip():
            raise InputError(f"saving map {label}: give the author's name")
        with (
            self._store._errors(f"saving map {label}", writing=True),
            self._store._write() as connection,
        ):
            now = datetime.now(UTC)
            stream_id = self._store._require_id(connection, stream) if stream is not None else None
            stream_id = _with_family(connection, vsm, stream_id)
            version, changes = _MAPS.save(
                connection,
                {"name": vsm.name, "variant": vsm.variant},
                map_to_dict(vsm),
                label=f"map {label}",
                author=author,
                message=message,
                stream_id=stream_id,
                expected_version=expected_version,
                now=now,
            )
        return MapVersion(vsm.name, vsm.variant, version, author, message, now, changes)

    def get(self, name: str, variant: str = "current", version: int | None = None) -> StoredMap:
        """The newest version of the map (or ``version``); NotFoundError if there is none."""
        label = _label(name, variant)
        with (
            self._store._errors(f"reading map {label}"),
            self._store.engine.connect() as connection,
        ):
            map_id, current, stream = _require_map(connection, name, variant)
            wanted = current if version is None else version
            row = _MAPS.version(connection, map_id, wanted)
            if row is None:
                raise NotFoundError(f"map {label} has no version {wanted}; it has 1 to {current}")
        vsm = _load(row.document, label, wanted)
        info = MapVersion(name, variant, wanted, row.author, row.message, utc(row.created_at))
        return StoredMap(map=vsm, version=info, stream=stream)

    def stream_of(self, name: str, variant: str = "current") -> str | None:
        """The stream the map belongs to (None: no stream), read without its document;
        NotFoundError if there is no such map."""
        with (
            self._store._errors(f"reading map {_label(name, variant)}"),
            self._store.engine.connect() as c,
        ):
            return _require_map(c, name, variant)[2]

    def all(self) -> list[MapInfo]:
        """Every map variant, by name then variant."""
        with self._store._errors("listing maps"), self._store.engine.connect() as connection:
            rows = connection.execute(
                select(
                    MapRow.name,
                    MapRow.variant,
                    MapRow.current_version,
                    StreamRow.name.label("stream"),
                    MapRow.created_at,
                    MapRow.updated_at,
                    MapVersionRow.author,
                )
                .join(
                    MapVersionRow,
                    (MapVersionRow.map_id == MapRow.id)
                    & (MapVersionRow.version == MapRow.current_version),
                )
                .outerjoin(StreamRow, StreamRow.id == MapRow.stream_id)
                .order_by(MapRow.name, MapRow.variant)
            )
            return [
                MapInfo(
                    name=r.name,
                    variant=r.variant,
                    version=r.current_version,
                    stream=r.stream,
                    created_at=utc(r.created_at),
                    updated_at=utc(r.updated_at),
                    author=r.author,
                )
                for r in rows
            ]

    def history(self, name: str, variant: str = "current") -> list[MapVersion]:
        """Every version of the map, oldest first, with the fields each one changed."""
        label = _label(name, variant)
        with (
            self._store._errors(f"reading the history of map {label}"),
            self._store.engine.connect() as c,
        ):
            map_id, _, _ = _require_map(c, name, variant)
            rows = _MAPS.history(c, map_id)
        return [
            MapVersion(name, variant, r.version, r.author, r.message, utc(r.created_at), changes)
            for r, changes in zip(rows, _MAPS.changes(rows), strict=True)
        ]

    def copy_variant(
        self, name: str, source_variant: str, new_variant: str, *, author: str
    ) -> MapVersion:
        """Start variant ``new_variant`` as version 1, a copy of the newest ``source_variant``."""
        source = self.get(name, source_variant)
        if any(m.name == name and m.variant == new_variant for m in self.all()):
            raise StoreError(
                f"map {_label(name, new_variant)} exists already; give the new variant "
                "another name, or change the existing one"
            )
        copy = _as_variant(source.map, new_variant)
        return self.save(
            copy,
            author=author,
            message=f"copied from {source_variant} version {source.version.version}",
            stream=source.stream,
            expected_version=0,
        )

    def move(self, name: str, stream: str | None) -> None:
        """Move every variant of map ``name`` to ``stream`` (None: to no stream)."""
        with (
            self._store._errors(f"moving map {name!r}", writing=True),
            self._store._write() as connection,
        ):
            ids = list(connection.execute(select(MapRow.id).where(MapRow.name == name)).scalars())
            if not ids:
                _require_map(connection, name, "current")
            target = self._store._require_id(connection, stream) if stream is not None else None
            _MAPS.move(connection, ids, target, f"map {name!r}")

    def delete(self, name: str, variant: str = "current") -> None:
        """Delete the map variant and all its versions."""
        label = _label(name, variant)
        with (
            self._store._errors(f"deleting map {label}", writing=True),
            self._store._write() as connection,
        ):
            map_id, _, _ = _require_map(connection, name, variant)
            _MAPS.delete(connection, map_id, f"map {label}")


def _require_map(connection: Connection, name: str, variant: str) -> tuple[int, int, str | None]:
    """The map's id, newest version and stream name; NotFoundError listing the maps."""
    row = connection.execute(
        select(MapRow.id, MapRow.current_version, StreamRow.name)
        .outerjoin(StreamRow, StreamRow.id == MapRow.stream_id)
        .where(MapRow.name == name, MapRow.variant == variant)
    ).one_or_none()
    if row is None:
        known = connection.execute(
            select(MapRow.name, MapRow.variant).order_by(MapRow.name, MapRow.variant)
        ).all()
        raise NotFoundError(
            f"no map {_label(name, variant)}",
            what="map",
            key=_label(name, variant),
            known=[_label(n, v) for n, v in known],
        )
    return int(row[0]), int(row[1]), row[2]


def _with_family(connection: Connection, vsm: ValueStreamMap, stream_id: int | None) -> int | None:
    """The stream a save of ``vsm`` goes to: the variants of a map stay together, so a new
    variant joins the stream of the others, and one naming another stream is refused."""
    others = connection.execute(
        select(MapRow.stream_id).where(MapRow.name == vsm.name, MapRow.variant != vsm.variant)
    ).first()
    if others is None:
        return stream_id
    if stream_id is None:
        return others.stream_id  # type: ignore[no-any-return]
    if stream_id != others.stream_id:
        raise OwnedElsewhere("map", f"map {vsm.name!r}")
    return stream_id


def _label(name: str, variant: str) -> str:
    return f"{name!r}/{variant!r}"


def _load(document: str, label: str, version: int) -> ValueStreamMap:
    try:
        return map_from_dict(json.loads(document), f"map {label} version {version}")
    except (ValueError, InputError) as error:  # pragma: no cover - the store wrote it valid
        raise StoreError(f"map {label} version {version} cannot be read: {error}") from None


def _as_variant(vsm: ValueStreamMap, variant: str) -> ValueStreamMap:
    from obeya.core.maps.compare import variant_of

    return variant_of(vsm, variant)


def _flat(document: dict[str, Any]) -> dict[str, Any]:
    """A map document as dotted keys: steps by name (``steps.Build.people``), the rest as is."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if key == "steps":
            for i, step in enumerate(value):
                step_name = step.get("name", str(i))
                flat[f"steps.{step_name}"] = i  # the position, so a reordering shows
                for field, item in step.items():
                    if field != "name":
                        flat[f"steps.{step_name}.{field}"] = item
        else:
            flat[key] = value
    return flat


_MAPS = Versioned(MapRow, MapVersionRow, "map_id", "map", flat=_flat)
