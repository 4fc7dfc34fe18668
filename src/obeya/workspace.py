"""The one object the CLI, the API and the web pages share.

A :class:`Workspace` is an app store (SQLite by default, PostgreSQL for teams) plus the
analytics. Every user-facing operation is a method here; the shells only parse input and
present output, so a page, an API call and a CLI command give the same figures.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from obeya.core.events import EventLog
from obeya.core.metrics import FlowFilter, FlowReport
from obeya.core.metrics.engines import ANALYSED_COLUMNS, Engine
from obeya.core.workflow import Workflow
from obeya.ingest import ColumnMap, read_events

if TYPE_CHECKING:  # the store (SQLAlchemy, Alembic) loads only when a workspace opens
    from obeya.core.blockers import Blocker
    from obeya.core.maps.compare import Comparison
    from obeya.core.maps.discovery import Discovery
    from obeya.core.maps.model import ValueStreamMap
    from obeya.core.simulation.engine import Budget
    from obeya.core.simulation.whatif import Change
    from obeya.core.twin.holdout import HoldoutCheck
    from obeya.core.twin.model import Twin
    from obeya.core.twin.whatif import TwinWhatIf
    from obeya.core.workflow_infer import Flag, Proposal
    from obeya.store import ImportResult, MapInfo, MapVersion, StoredMap, StreamInfo
    from obeya.store.archive import ArchiveSummary, RestoreSummary
    from obeya.store.blockers import BlockerCounts

Progress = Callable[[int, int], None]

SAMPLES = Path(__file__).resolve().parent / "samples"
SAMPLE_STREAM = "VINST incidents"
SAMPLE_FILE = SAMPLES / "bpic2013_incidents_transitions.csv.gz"
SAMPLE_WORKFLOW = SAMPLES / "bpic2013_workflow.toml"
SAMPLE_STEERING = SAMPLES / "steering.toml"
SAMPLE_COLUMNS = ColumnMap(
    item_id="case_id", state="status", team="group", assignee="resource", type="impact"
)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def analyse_file(
    path: str | Path,
    workflow: Workflow | None = None,
    flt: FlowFilter | None = None,
    *,
    columns: ColumnMap | None = None,
    file_format: str | None = None,
    detail: bool = False,
    progress: Progress | None = None,
    engine: Engine | None = None,
    blockers: str | Path | None = None,
) -> FlowReport:
    """One-shot analysis of a file, with no app store (``obeya metrics FILE``), on ``engine``
    (DuckDB in-process by default). A directory is a Parquet dataset (``obeya export
    --events-parquet``), which the engine reads in place. ``blockers``: a blockers CSV
    (:mod:`obeya.ingest.blockers`), whose figures the report then holds (``blocked``)."""
    engine = engine or Engine()
    found = None
    if blockers is not None:
        from obeya.ingest.blockers import read_blockers

        found = read_blockers(Path(blockers))  # refused before the long read, if it is bad
    if Path(path).is_dir():
        from obeya.core.metrics.engine import analyse_parquet, parquet_table, release

        backend = engine.connect()
        try:
            report = analyse_parquet(
                path, workflow, flt, detail=detail, spans=found is not None, backend=backend
            )
            if found is None:
                return report
            from obeya.core.blockers.measure import blocked_of_table

            with parquet_table(backend, path) as loaded:
                blocked = blocked_of_table(
                    backend,
                    loaded.events,
                    found,
                    workflow,
                    flt,
                    flow_efficiency=report.flow_efficiency,
                    source=str(path),
                    spans=report.spans,
                )
            return dataclasses.replace(report, blocked=blocked, spans=None)
        finally:
            release(backend)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Starting the engine (importing Ibis, opening DuckDB; a Spark session takes tens of
        # seconds) overlaps with reading the file, which mostly runs outside the GIL.
        started = pool.submit(engine.connect)
        try:
            log = read_events(path, format=file_format, columns=columns, progress=progress)
        finally:
            backend = started.result()
    from obeya.core.metrics.engine import analyse_log, release

    try:
        wanted = found is not None
        report = analyse_log(log, workflow, flt, detail=detail, spans=wanted, backend=backend)
        return _with_blocked(report, log, found, workflow, flt, backend)
    finally:
        release(backend)


def _with_blocked(
    report: FlowReport,
    log: EventLog,
    blockers: Sequence[Blocker] | None,
    workflow: Workflow | None,
    flt: FlowFilter | None,
    backend: Any,
) -> FlowReport:
    """``report`` with the figures of ``blockers`` over ``log`` (unchanged when None), over
    the item spans the report kept, if it did."""
    if blockers is None:
        return report
    from obeya.core.blockers.measure import blocked_of_log

    blocked = blocked_of_log(
        log,
        blockers,
        workflow,
        flt,
        flow_efficiency=report.flow_efficiency,
        backend=backend,
        spans=report.spans,
    )
    return dataclasses.replace(report, blocked=blocked, spans=None)


#: How a map version saved by discovery from a stream begins its message.
DISCOVERED_FROM = "discovered from value stream"


def discovered_message(stream: str) -> str:
    return f"{DISCOVERED_FROM} {stream!r}"


class Workspace:
    """Value streams in an app store, and their flow."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        from obeya.store import Store
        from obeya.workspace_access import Access
        from obeya.workspace_delivery import Connectors, Delivery
        from obeya.workspace_forecast import Forecasts
        from obeya.workspace_reports import Reports
        from obeya.workspace_simulation import Simulations
        from obeya.workspace_steering import Steering

        self.store = Store(url)
        #: Where flow figures and map discovery run: DuckDB in-process (a store on
        #: PostgreSQL computes a stream's figures on its server), or Spark
        #: (``OBEYA_ENGINE=spark``: docs/scale.md).
        self.engine = engine if engine is not None else Engine.from_environment()
        self._spark: Any = None
        #: Users, roles, tokens, sign-in links and sessions, the audit log.
        self.access = Access(self)
        #: Deployments, changes and incidents per stream, and their DORA metrics.
        self.delivery = Delivery(self)
        #: Live connectors to trackers and their syncs.
        self.connectors = Connectors(self)
        #: Risks, objectives, improvements, teams, plans, experiments and their views.
        self.steering = Steering(self)
        #: Recent flow reports, documents and charts, computed once per stream and filter.
        self.reports = Reports(self)
        #: Monte Carlo forecasts and backtests of a stream's throughput.
        self.forecasts = Forecasts(self)
        #: Simulations and what-ifs a request runs, within the server's budget.
        self.simulations = Simulations(self)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    def initialise(self) -> None:
        self.store.initialise()

    def location(self) -> str:
        """Where the app store is, its password hidden (``obeya init`` prints it)."""
        return str(self.store.engine.url.render_as_string(hide_password=True))

    def health(self) -> tuple[str | None, str]:
        """(The schema revision, the database's dialect): reading them proves the store
        answers (``/api/health``)."""
        return self.store.schema_revision(), str(self.store.engine.dialect.name)

    # -- value streams ------------------------------------------------------------------------

    def streams(self) -> list[StreamInfo]:
        return self.store.list_streams()

    def create_stream(self, name: str, workflow: Workflow | None = None) -> StreamInfo:
        """An empty stream; StoreError if one of that name exists."""
        return self.store.create_stream(name.strip(), workflow)

    def rename_stream(self, name: str, new_name: str) -> StreamInfo:
        """Rename a stream; what it holds follows it, and the change is audited."""
        return self.store.rename_stream(name, new_name)

    def delete_stream(self, name: str) -> None:
        """Delete a stream with its events, imports, grants, delivery records and
        connectors; its maps and records stay, unlinked. Audited."""
        self.store.delete_stream(name)

    def stream(self, name: str) -> StreamInfo:
        return self.store.get_stream(name)

    def set_workflow(self, name: str, workflow: Workflow) -> None:
        self.store.set_workflow(name, workflow)

    def infer_workflow(self, stream: str) -> Proposal:
        """A workflow proposed from the stream's events, with its evidence and plausibility
        flags (:mod:`obeya.core.workflow_infer`)."""
        from obeya.core.workflow_infer import propose

        return propose(self.events(stream), self.reports.state_stats(stream))

    def workflow_flags(
        self, stream: str, workflow: Workflow, flow_efficiency: float | None
    ) -> list[Flag]:
        """The plausibility flags of ``workflow`` on the stream's events; ``flow_efficiency``
        is the stream's under that workflow (from :meth:`flow`, already computed)."""
        from obeya.core.workflow_infer import review

        return review(workflow, self.reports.state_stats(stream), flow_efficiency)

    # -- history ------------------------------------------------------------------------------

    def import_file(
        self,
        path: str | Path,
        stream: str,
        *,
        workflow: Workflow | None = None,
        columns: ColumnMap | None = None,
        file_format: str | None = None,
        progress: Progress | None = None,
        strict: bool = False,
    ) -> ImportResult:
        """Read a file and append its events to a stream (created if new); all or nothing.
        Events that go backwards in time are kept and the import notes it, or, ``strict``,
        the file is refused."""
        log = read_events(
            path, format=file_format, columns=columns, progress=progress, strict=strict
        )
        if workflow is not None:
            workflow.check_against(log.states())
        return self.store.append_events(
            stream, log, source=Path(path).name, sha256=file_sha256(path), workflow=workflow
        )

    def import_sample(self, progress: Progress | None = None) -> ImportResult | None:
        """Load the bundled sample stream, with its steering records, unless it is there
        already."""
        if any(s.name == SAMPLE_STREAM for s in self.streams()):
            return None
        result = self.import_file(
            SAMPLE_FILE,
            SAMPLE_STREAM,
            workflow=Workflow.from_toml(SAMPLE_WORKFLOW),
            columns=SAMPLE_COLUMNS,
            progress=progress,
        )
        self.steering.load_steering_file(
            SAMPLE_STEERING, author="obeya sample", stream=SAMPLE_STREAM
        )
        return result

    def events(self, stream: str) -> EventLog:
        return self.store.load_events(stream)

    def import_blockers(self, path: str | Path, stream: str) -> BlockerCounts:
        """Read a blockers CSV into an existing stream; all or nothing, and the
        same file again changes nothing. The stream's flow then holds ``blocked``."""
        from obeya.ingest.blockers import read_blockers

        file = Path(path)
        return self.store.blockers.save(stream, read_blockers(file), source=file.name)

    def blockers(self, stream: str) -> tuple[Blocker, ...]:
        return self.store.blockers.load(stream)

    # -- archives -----------------------------------------------------------------------------

    def export_archive(
        self,
        path: str | Path,
        streams: list[str] | None = None,
        *,
        progress: Progress | None = None,
    ) -> ArchiveSummary:
        """Write the workspace (or only ``streams``) to an archive; :mod:`obeya.store.archive`
        describes the format."""
        from obeya.store.archive import export_archive

        return export_archive(self.store, path, streams=streams, progress=progress)

    def export_events_parquet(
        self, stream: str, directory: str | Path, *, progress: Progress | None = None
    ) -> int:
        """Write the stream's events as Parquet partitioned by month, for an engine to read in
        place (:mod:`obeya.store.lakehouse`); the number of events."""
        from obeya.store.lakehouse import export_events_parquet

        return export_events_parquet(self.store, stream, directory, progress=progress)

    def restore_archive(
        self, path: str | Path, *, replace: bool = False, progress: Progress | None = None
    ) -> RestoreSummary:
        """Add an archive's streams, maps and records to the workspace, all or nothing;
        ``replace`` replaces those it has already instead of refusing."""
        from obeya.store.archive import restore_archive

        return restore_archive(self.store, path, replace=replace, progress=progress)

    # -- value stream maps ---------------------------------------------------------------------

    def save_map(
        self,
        vsm: ValueStreamMap,
        *,
        author: str,
        message: str = "",
        stream: str | None = None,
        expected_version: int | None = None,
    ) -> MapVersion:
        """Save the map as the next version of ``vsm.name``/``vsm.variant``; see
        :meth:`obeya.store.maps.Maps.save` for ``expected_version``."""
        return self.store.maps.save(
            vsm, author=author, message=message, stream=stream, expected_version=expected_version
        )

    def get_map(self, name: str, variant: str = "current", version: int | None = None) -> StoredMap:
        return self.store.maps.get(name, variant, version)

    def maps(self) -> list[MapInfo]:
        return self.store.maps.all()

    def map_stream(self, name: str, variant: str = "current") -> str | None:
        """The stream a map belongs to (None: the workspace); NotFoundError if none is saved.
        The access policy asks it before a request's body is read."""
        return self.store.maps.stream_of(name, variant)

    def map_history(self, name: str, variant: str = "current") -> list[MapVersion]:
        return self.store.maps.history(name, variant)

    def copy_map_variant(
        self, name: str, source_variant: str, new_variant: str, *, author: str
    ) -> MapVersion:
        return self.store.maps.copy_variant(name, source_variant, new_variant, author=author)

    def delete_map(self, name: str, variant: str = "current") -> None:
        self.store.maps.delete(name, variant)

    def move_map(self, name: str, stream: str | None) -> None:
        """Move every variant of map ``name`` to ``stream`` (None: to no stream): the only way
        a map changes streams (a save never does; see :class:`~obeya.errors.OwnedElsewhere`)."""
        self.store.maps.move(name, stream)

    def compare_map_variants(self, name: str, variants: list[str], **options: Any) -> Comparison:
        """The newest version of each variant against the first one's (the base);
        ``options`` go to :func:`obeya.core.maps.calculations.calculate`."""
        from obeya.core.maps.compare import compare
        from obeya.core.maps.model import MapError

        if len(variants) < 2:
            raise MapError(f"compare the variants of map {name!r}: give at least two")
        base, *others = (self.get_map(name, v).map for v in variants)
        return compare(base, *others, **options)

    def discover_stream_map(self, stream: str) -> Discovery:
        """The current-state map measured from the stream's history, with its workflow (the
        inferred one when it has none) as its twin sees it (``discover_with_twin``)."""
        return self._discovered(stream)[0]

    def _discovered(self, stream: str) -> tuple[Discovery, Twin | None]:
        from obeya.core.maps.discovery import discover_with_twin

        return discover_with_twin(*self.stream_history(stream), backend=self._spark_backend())

    def map_twin(self, name: str, variant: str = "current") -> Twin | None:
        """The twin a saved map draws: the stream's, when the map's version is one discovered
        from it and not edited since (``obeya map to-scenario`` then gives the twin, not a
        second model); None otherwise."""
        stream = self.map_twin_stream(self.get_map(name, variant))
        return None if stream is None else self.stream_twin(stream)

    @staticmethod
    def map_twin_stream(stored: StoredMap) -> str | None:
        """The stream whose twin a saved map draws (see :meth:`map_twin`), without fitting it."""
        if stored.stream is None or not stored.version.message.startswith(DISCOVERED_FROM):
            return None
        return stored.stream

    def discovered_map(self, stream: str, name: str) -> tuple[Discovery, ValueStreamMap]:
        """The discovery and the map it draws with the stream's twin: people, capacity,
        calendar and demand fitted to the same history (``Discovery.to_map``)."""
        discovery, twin = self._discovered(stream)
        return discovery, discovery.to_map(name, twin)

    # -- the twin -----------------------------------------------------------------------------

    def stream_history(self, stream: str) -> tuple[EventLog, Workflow]:
        """The stream's events and its workflow, or the one inferred from those events when it
        has none: read once for the twin and the map alike."""
        events = self.events(stream)
        workflow = self.stream(stream).workflow
        if workflow is None:
            from obeya.core.workflow_infer import infer_workflow

            workflow = infer_workflow(events)[0]
        return events, workflow

    def stream_twin(self, stream: str, as_of: datetime | None = None) -> Twin:
        """The twin of the stream fitted to its history up to ``as_of`` (default: now's
        last event): ``obeya calibrate --stream NAME``."""
        from obeya.core.twin.fit import fit_twin

        events, workflow = self.stream_history(stream)
        return fit_twin(events, workflow, as_of=as_of, backend=self._spark_backend())

    def twin_check(
        self,
        stream: str,
        *,
        share: float | None = None,
        split: datetime | None = None,
        replications: int = 5,
        budget: Budget | None = None,
    ) -> HoldoutCheck:
        """The hold-out check of the stream's twin (``obeya calibrate --stream NAME
        --holdout``): fitted before the cut, run over what followed, within ``budget``."""
        from obeya.core.twin.holdout import holdout_check

        events, workflow = self.stream_history(stream)
        return holdout_check(
            events,
            workflow,
            split,
            share=share,
            replications=replications,
            budget=budget,
        )

    def twin_what_if(
        self,
        stream: str,
        futures: list[tuple[str, list[Change]]],
        *,
        days: float | None = None,
        replications: int | None = None,
        budget: Budget | None = None,
        twin: Twin | None = None,
    ) -> TwinWhatIf:
        """Futures of the stream's twin (more people at a step, more demand), paired with
        its current state: ``obeya what-if TWIN.toml --future ...``. ``twin``: the stream's
        twin when the caller has just fitted it (not fitted again)."""
        from obeya.core.twin.whatif import twin_what_if

        current = twin if twin is not None else self.stream_twin(stream)
        return twin_what_if(current, futures, days=days, replications=replications, budget=budget)

    # -- flow ---------------------------------------------------------------------------------

    def flow(
        self,
        stream: str,
        flt: FlowFilter | None = None,
        *,
        detail: bool = False,
        workflow: Workflow | None = None,
    ) -> FlowReport:
        """The flow report of a stream. On PostgreSQL it is computed on the server itself.

        ``workflow`` analyses the stream with another workflow this once (the stream keeps
        its own).
        """
        info = self.stream(stream)
        if workflow is not None:
            info = dataclasses.replace(info, workflow=workflow)
        blockers = self.blockers(stream) or None  # ``blocked`` only for a stream with some
        if self.engine.in_process and self.store.engine.dialect.name == "postgresql":
            report = self._flow_on_server(info, flt, detail, blockers or ())
        else:
            from obeya.core.metrics.engine import analyse_log

            log = self.store.load_events(stream)
            log = EventLog(log.table, source=stream)
            backend = self._spark_backend()
            report = analyse_log(
                log, info.workflow, flt, detail=detail, spans=bool(blockers), backend=backend
            )
            report = _with_blocked(report, log, blockers, info.workflow, flt, backend)
        # What the imports flagged stays with the stream: its report says so too.
        return dataclasses.replace(report, warnings=[w.to_dict() for w in info.warnings])

    def _spark_backend(self) -> Any:
        """The Spark backend when the engine is Spark (one per workspace, on the process's
        session), else None: each analysis opens its own DuckDB."""
        if self.engine.in_process:
            return None
        if self._spark is None:
            self._spark = self.engine.connect()
        return self._spark

    def _flow_on_server(
        self,
        info: StreamInfo,
        flt: FlowFilter | None,
        detail: bool,
        blockers: Sequence[Blocker] = (),
    ) -> FlowReport:
        from obeya.core.metrics.analysis import FlowAnalysis

        con = _ibis_postgres(self.store.engine.url)
        try:
            table = con.table("events")
            stream_id = self.store.stream_id(info.name)
            events = table.filter(table.stream_id == stream_id).select(*ANALYSED_COLUMNS)
            report = FlowAnalysis(con, events, info.workflow, flt, source=info.name).report(
                detail=detail, spans=bool(blockers)
            )
            if not blockers:
                return report
            from obeya.core.blockers.measure import blocked_of_table

            blocked = blocked_of_table(
                con,
                events,
                blockers,
                info.workflow,
                flt,
                flow_efficiency=report.flow_efficiency,
                source=info.name,
                spans=report.spans,
            )
            return dataclasses.replace(report, blocked=blocked, spans=None)
        finally:
            con.disconnect()


def _ibis_postgres(url: Any) -> Any:
    """An Ibis PostgreSQL connection to the same database (and search path) as the store."""
    import ibis

    query = dict(url.query)
    kwargs: dict[str, Any] = {
        "host": url.host or "localhost",
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "database": url.database,
    }
    if "options" in query:
        kwargs["options"] = query["options"]
    return ibis.postgres.connect(**{k: v for k, v in kwargs.items() if v is not None})
