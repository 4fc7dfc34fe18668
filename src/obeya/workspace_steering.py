"""The ``steering`` part of the :class:`~obeya.workspace.Workspace`: records (risks, objectives,
improvements, kaizen events, teams, people, stream profiles) saved through the core's checks,
and the views a manager reads — the ROAM board, objectives with their live key results, the
roadmap, skill coverage and the stream at a glance. The CLI, the API and the pages call these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from obeya.core.metrics import FlowFilter
from obeya.core.steering import kinds
from obeya.core.steering.experiments import Window
from obeya.core.steering.files import read_steering_file
from obeya.core.steering.objectives import Objective, measure
from obeya.core.steering.risks import Risk, board, summary
from obeya.core.steering.roadmap import OPEN, Improvement, roadmap
from obeya.core.steering.teams import Person, StreamProfile, Team, coverage
from obeya.errors import InputError, NotFoundError, VersionConflict
from obeya.store.records import ANY_STREAM, StreamRef

if TYPE_CHECKING:
    from obeya.core.blockers.figures import BlockedFigures
    from obeya.core.blockers.impediments import Impediment
    from obeya.store import Store
    from obeya.store.records import RecordSave, RecordVersion, StoredRecord
    from obeya.workspace import Workspace

#: Days of the quality guard of objectives: the last ones against as many before.
GUARD_DAYS = 28
#: Risks the stream page lists (highest exposure first).
TOP_RISKS = 5


class Steering:
    """A workspace's steering records and the views built on them and on the flow."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    @property
    def store(self) -> Store:
        return self._workspace.store

    def record_stream(self, kind: str, key: str) -> str | None:
        """The one stream holding a record of that kind and key (None: the workspace);
        NotFoundError if none, InputError if several streams hold the key. The access
        policy asks it before a request's body is read."""
        return self.store.records.stream_of(kind, key)

    # -- records --------------------------------------------------------------------------------

    def save_record(
        self,
        kind: str,
        doc: Mapping[str, Any],
        *,
        author: str,
        message: str = "",
        stream: str | None = None,
        expected_version: int | None = None,
    ) -> RecordVersion:
        """Check ``doc`` as a record of ``kind`` and save it as the record's next version.

        Records of a stream (risks, objectives, improvements, kaizen events) need ``stream``
        (or a ``stream`` key in the document); a person's teams must be saved teams.
        ``expected_version``: the version the change was made on (0 for a new record). A new
        record of a stream without a key gets the next key of its kind there
        (:func:`~obeya.core.steering.kinds.next_key`).
        """
        spec = kinds.kind(kind)
        if spec.prefix is not None and not _text(doc.get("key")) and not expected_version:
            return self._add_numbered(kind, doc, author, message, stream)
        item = self._checked(kind, doc, stream, expected_version, where=kind, teams=None)
        return self.store.records.save_many([item], author=author, message=message)[0]

    def next_key(self, kind: str, stream: str) -> str | None:
        """The key a record of ``kind`` added to ``stream`` without one would get (None: the
        kind has no numbering, a key is needed)."""
        spec = kinds.kind(kind)
        if spec.prefix is None:
            return None
        return kinds.next_key(spec.prefix, self.store.records.keys(kind, stream))

    def _add_numbered(
        self, kind: str, doc: Mapping[str, Any], author: str, message: str, stream: str | None
    ) -> RecordVersion:
        """Add ``doc`` under the next free key of its stream. Two adds at once may pick the
        same key: the store's unique index refuses the second, which tries once more."""
        stream = _text(doc.get("stream")) or stream
        if not stream:
            raise InputError(f"{kind}: give the value stream it belongs to (stream)")
        for attempt in (1, 2):
            key = self.next_key(kind, stream)
            item = self._checked(kind, {**doc, "key": key}, stream, 0, where=kind, teams=None)
            try:
                return self.store.records.save_many([item], author=author, message=message)[0]
            except VersionConflict as conflict:
                if not conflict.taken or attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def load_steering_file(
        self, path: Path | str, *, author: str, stream: str | None = None
    ) -> list[RecordVersion]:
        """Save every record of a steering TOML file (:mod:`obeya.core.steering.files`) in one
        transaction: all of them, or none when one breaks a rule."""
        records = read_steering_file(path)
        # A person may name a team saved before or in the same file.
        teams = {r.key for r in self.store.records.all("team")}
        teams |= {record.key for kind, record, _ in records if kind == "team"}
        items = [
            self._checked(kind, doc, stream, None, where=f"{path}: {kind}", teams=teams)
            for kind, _, doc in records
        ]
        return self.store.records.save_many(items, author=author, message=f"loaded from {path}")

    def _checked(
        self,
        kind: str,
        doc: Mapping[str, Any],
        stream: str | None,
        expected_version: int | None,
        *,
        where: str,
        teams: set[str] | None,
    ) -> RecordSave:
        """The record to save, checked: ``where`` starts the messages; ``teams``, the teams a
        person may name (default: the saved ones)."""
        from obeya.store.records import RecordSave  # the store loads with the workspace

        spec = kinds.kind(kind)
        record = spec.parse(doc, where)
        label = f"{where} {record.key!r}"
        stream = _text(doc.get("stream")) or stream
        if spec.per_stream and not stream:
            raise InputError(f"{label}: give the value stream it belongs to (stream)")
        if kind == "person":
            if teams is None:
                teams = {r.key for r in self.store.records.all("team")}
            unknown = [t for t in record.to_dict()["teams"] if t not in teams]
            if unknown:
                raise InputError(
                    f"{label}: teams names {unknown[0]!r}, which is not a team; "
                    f"the teams are {', '.join(sorted(teams)) or 'none yet'}"
                )
        return RecordSave(
            kind,
            record.key,
            record.to_dict(),
            stream if spec.per_stream else None,
            expected_version,
        )

    def stream_record(
        self, kind: str, key: str, stream: str, version: int | None = None
    ) -> StoredRecord:
        """The record ``key`` of ``stream`` (or its ``version``); NotFoundError otherwise (a
        stream's pages and routes never show another stream's records, nor say they exist)."""
        kinds.kind(kind)
        try:
            return self.store.records.get(kind, key, version, stream=stream)
        except NotFoundError as missing:
            if version is not None and "version" in str(missing):
                raise
            raise NotFoundError(f"value stream {stream!r} has no {kind} {key!r}") from None

    def records(self, kind: str, stream: str | None = None) -> list[StoredRecord]:
        kinds.kind(kind)
        return self.store.records.all(kind, stream=stream)

    def record(
        self, kind: str, key: str, version: int | None = None, *, stream: StreamRef = ANY_STREAM
    ) -> StoredRecord:
        """The record ``key`` of ``stream`` (None: of no stream; by default whichever stream
        holds the key, InputError when several do)."""
        kinds.kind(kind)
        return self.store.records.get(kind, key, version, stream=stream)

    def record_history(
        self, kind: str, key: str, *, stream: StreamRef = ANY_STREAM
    ) -> list[tuple[RecordVersion, dict[str, Any]]]:
        kinds.kind(kind)
        return self.store.records.history(kind, key, stream=stream)

    def move_record(
        self, kind: str, key: str, to: str | None, *, stream: StreamRef = ANY_STREAM
    ) -> None:
        """Move the record to stream ``to``: the only way a record changes streams. Records of
        a stream (risks, objectives...) need one; the others (teams, people) have none."""
        spec = kinds.kind(kind)
        if spec.per_stream and not to:
            raise InputError(f"a {kind} belongs to a value stream: name the one to move it to")
        if not spec.per_stream and to:
            raise InputError(f"a {kind} belongs to no value stream, so it cannot move to one")
        self.store.records.move(kind, key, to, stream=stream)

    def delete_record(self, kind: str, key: str, *, stream: StreamRef = ANY_STREAM) -> None:
        kinds.kind(kind)
        self.store.records.delete(kind, key, stream=stream)

    # -- views ----------------------------------------------------------------------------------

    def risk_board(self, stream: str, today: date | None = None) -> dict[str, Any]:
        """The stream's ROAM board with its summary (overdue and unowned risks stand out); a
        risk made from an impediment shows the blocked days it costs per week
        (``impediment_cost``, core/blockers/impediments.py)."""
        from obeya.core.blockers.impediments import COST_RULE, Impediment, weekly_cost

        day = today or date.today()
        risks = [Risk.from_dict(r.document) for r in self.records("risk", stream)]
        view: dict[str, Any] = {
            "stream": stream,
            "today": day.isoformat(),
            "summary": summary(risks, day),
            "board": board(risks, day),
        }
        cards = [c for cards in view["board"].values() for c in cards]
        linked = [(c, Impediment.of_record(c)) for c in cards]
        if any(link is not None for _, link in linked):
            blocked = self.blocked(stream)
            blockers = self._workspace.blockers(stream)
            view["impediment_cost_rule"] = COST_RULE
            for card, link in linked:
                if link is not None and blocked is not None:
                    cost = weekly_cost(link, blockers, blocked.spans, blocked.teams, blocked.as_of)
                    card["impediment_cost"] = cost.to_dict()
        return view

    def blocked(self, stream: str) -> BlockedFigures | None:
        """The blocked-time figures of the stream's whole history (None: no blockers), from
        the report cache the dashboard fills: what the ROAM board and the dependencies page
        read."""
        if not self._workspace.stream(stream).events:
            return None
        return self._workspace.reports.report(stream, FlowFilter(), detail=False).blocked

    def record_impediment(
        self, kind: str, stream: str, impediment: Impediment, *, author: str
    ) -> RecordVersion:
        """Save a new risk or improvement (``kind``) made from an impediment of ``stream``
        that its blockers hold (NotFoundError otherwise), keeping the link to it."""
        from obeya.core.blockers.impediments import (
            Impediment,
            blocked_days_so_far,
            improvement_document,
            risk_document,
        )

        if kind not in ("risk", "improvement"):
            raise InputError(f"an impediment becomes a risk or an improvement, not a {kind}")
        blocked = self.blocked(stream)
        blockers = self._workspace.blockers(stream)
        teams = blocked.teams if blocked is not None else {}
        if blocked is None or not any(impediment.matches(b, teams) for b in blockers):
            reasons = sorted({b.reason for b in blockers if b.item_id == impediment.item_id})
            raise NotFoundError(
                f"value stream {stream!r} has no impediment {impediment.label!r}",
                what="impediment",
                key=impediment.label,
                known=reasons,
                plural=f"reasons of {impediment.item_id}" if reasons else "",
            )
        for record in self.records(kind, stream):
            if Impediment.of_record(record.document) == impediment:
                # One record per impediment: a second would count its exposure twice.
                raise InputError(
                    f"the impediment {impediment.label!r} is already {kind} {record.key}: "
                    "update that one",
                    field="impediment",
                    value=record.key,
                )
        if kind == "risk":
            days = blocked_days_so_far(
                impediment, blockers, blocked.spans, blocked.teams, blocked.as_of
            )
            doc = risk_document(impediment, days)
        else:
            doc = improvement_document(impediment)
        return self.save_record(
            kind,
            doc,
            author=author,
            message=f"from the impediment {impediment.label}",
            stream=stream,
        )

    def objectives(self, stream: str, today: date | None = None) -> dict[str, Any]:
        """The stream's objectives, each key result with its value now: bound ones measured
        on the last ``window_days`` days of the stream's history (up to its last event)."""
        return self._objectives(stream, today or date.today(), None)

    def _objectives(self, stream: str, day: date, whole: dict[str, Any] | None) -> dict[str, Any]:
        """``whole``: the stream's whole report document when the caller has it already."""
        objectives = [Objective.from_dict(r.document) for r in self.records("objective", stream)]
        as_of, measured = self._measure(stream, objectives, whole)
        guard = self._quality_guard(stream, as_of) if as_of is not None else None
        flags = guard["flags"] if guard is not None else []
        return {
            "stream": stream,
            "today": day.isoformat(),
            "as_of": None if as_of is None else as_of.isoformat(),
            "quality_guard": guard,
            "objectives": [o.view(measured, day, flags) for o in objectives],
        }

    def _quality_guard(self, stream: str, as_of: date) -> dict[str, Any]:
        """The stream's quality rates over the last :data:`GUARD_DAYS` against the as many
        days before (Fisher's exact test): the reopen rate, and the change failure rate where
        the stream deploys; those that rose, in sentences."""
        from obeya.core.steering.experiments import rate_change

        now = Window(as_of - timedelta(days=GUARD_DAYS - 1), as_of, "recent")
        before = Window(now.start - timedelta(days=GUARD_DAYS), now.start - timedelta(days=1))
        rates = []
        counts = []
        for window in (before, now):
            quality = self._workspace.reports.report(
                stream, FlowFilter(since=window.start, until=window.end), detail=False
            ).quality
            if quality is None or quality.reopened is None:
                break
            counts.append((quality.reopened, quality.finished))
        if len(counts) == 2:
            rates.append(rate_change("reopen_rate", counts[0], counts[1]))
        failures = self._change_failures(stream, before, now)
        if failures is not None:
            rates.append(rate_change("change_failure_rate", *failures))
        flags = []
        for q in rates:
            if q.rose:
                old, new = q.rate(q.baseline), q.rate(q.trial)
                assert old is not None and new is not None and q.p_value is not None
                flags.append(
                    f"the {q.name.replace('_', ' ')} rose from {old:.1%} to {new:.1%} in the "
                    f"last {GUARD_DAYS} days (p = {q.p_value:.3g}): is the flow gain bought "
                    "with quality?"
                )
        return {
            "window_days": GUARD_DAYS,
            "since": now.start.isoformat(),
            "rates": [q.to_dict() for q in rates],
            "flags": flags,
        }

    def _measure(
        self, stream: str, objectives: list[Objective], whole: dict[str, Any] | None
    ) -> tuple[date | None, dict[str, dict[int, float | None]]]:
        wanted = {
            (kr.metric, kr.window_days)
            for o in objectives
            for kr in o.key_results
            if kr.metric is not None
        }
        if not wanted:
            return None, {}
        if whole is None:
            whole = self._workspace.reports.document(stream, detail=False)
        as_of = date.fromisoformat(whole["aging_wip"]["as_of"])
        reports: dict[int, dict[str, Any]] = {}
        measured: dict[str, dict[int, float | None]] = {}
        for metric, window in sorted(wanted):
            if window not in reports:
                since = as_of - timedelta(days=window - 1)
                reports[window] = self._workspace.reports.document(
                    stream, FlowFilter(since=since, until=as_of), detail=False
                )
            measured.setdefault(metric, {})[window] = measure(metric, reports[window])
        return as_of, measured

    def roadmap(self, stream: str) -> list[dict[str, Any]]:
        """The stream's improvement items in roadmap order (quick wins first, WSJF)."""
        return roadmap(
            Improvement.from_dict(r.document) for r in self.records("improvement", stream)
        )

    def coverage(self) -> dict[str, Any]:
        """Which skills each stream has and lacks, and who is split across streams."""
        return coverage(
            [Team.from_dict(r.document) for r in self.records("team")],
            [Person.from_dict(r.document) for r in self.records("person")],
            [StreamProfile.from_dict(r.document) for r in self.records("stream-profile")],
        )

    def plan(self, stream: str, key: str, *, trials: int = 2000, seed: int = 1) -> dict[str, Any]:
        """A saved dependency plan: its critical path and slack, need-by misses, the
        cross-team matrix, and the tasks at risk by their team's Monte Carlo forecast on the
        stream's history (tasks with ``items`` and ``need_by``; teams from the events' team)."""
        document = self.stream_record("plan", key, stream).document
        return self._plan(key, document, self._by_team(stream), trials=trials, seed=seed)

    def _by_team(self, stream: str) -> Callable[[], Mapping[str, Mapping[str, int]]]:
        """The stream's daily throughput per team, read from its events when first asked and
        kept: an overview with several plans reads the events once, a plan with no task at
        risk not at all."""
        from obeya.core.steering.team_throughput import throughput_by_team

        @cache
        def by_team() -> Mapping[str, Mapping[str, int]]:
            return throughput_by_team(
                self._workspace.events(stream), self._workspace.stream(stream).workflow
            )

        return by_team

    def _plan(
        self,
        key: str,
        document: Mapping[str, Any],
        by_team: Callable[[], Mapping[str, Mapping[str, int]]],
        *,
        trials: int = 2000,
        seed: int = 1,
    ) -> dict[str, Any]:
        from obeya.core.steering.dependencies import (
            PlanError,
            dependency_risks,
            schedule,
        )
        from obeya.core.steering.saved import plan_record_from_dict

        record = plan_record_from_dict(document)
        sched = schedule(record.plan)
        risks: list[dict[str, Any]] = []
        note = None
        if any(t.items is not None and t.need_by is not None for t in record.plan.tasks):
            daily = by_team()
            try:
                found = dependency_risks(sched, daily, trials=trials, seed=seed)
                risks = [r.to_dict() for r in found]
            except PlanError as exc:  # a team without history: say so, keep the schedule
                note = str(exc)
        return {
            "key": key,
            **sched.to_dict(),
            "at_risk": risks,
            "at_risk_note": note,
        }

    def experiment(self, stream: str, key: str) -> dict[str, Any]:
        """A saved experiment evaluated on the stream's data now."""
        from obeya.core.steering.experiments import run_experiment
        from obeya.core.steering.saved import experiment_record_from_dict

        record = experiment_record_from_dict(self.stream_record("experiment", key, stream).document)
        baseline, trial = record.windows()
        flt = FlowFilter(since=min(baseline.start, trial.start), until=max(baseline.end, trial.end))
        result = run_experiment(
            self._workspace.flow(stream, flt, detail=True).scatter,
            baseline,
            trial,
            target=record.metric,
            guard=record.guard,
            alpha=record.alpha,
            change_failures=self._change_failures(stream, baseline, trial),
        )
        return {**record.to_dict(), "result": result.to_dict()}

    def _change_failures(
        self, stream: str, *windows: Window
    ) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """(failed, counted deployments) in each window, when the stream has deployments."""
        from obeya.core.delivery.dora import dora_report

        history = self._workspace.delivery.history(stream)
        if not any(d.counts for d in history.deployments):
            return None
        counts = []
        for window in windows:
            report = dora_report(history, since=window.start, until=window.end)
            counts.append((report.failed_deployments, report.deployments))
        return counts[0], counts[1]

    def overview(self, stream: str, today: date | None = None) -> dict[str, Any]:
        """The value stream at a glance: flow trend, objectives' progress, top risks,
        improvements in flight (the stream page and the printable report)."""
        day = today or date.today()
        report = self._workspace.reports.document(stream, detail=False)
        risks = self.risk_board(stream, day)
        live = [r for column, rs in risks["board"].items() if column != "resolved" for r in rs]
        items = self.roadmap(stream)
        by_team = self._by_team(stream)
        return {
            "stream": stream,
            "today": day.isoformat(),
            "flow": {
                "items": report["items"],
                "cycle_time_days": report["cycle_time_days"],
                "flow_efficiency": report["flow_efficiency"],
                "throughput_weekly": report["throughput_weekly"],
                "as_of": report["aging_wip"]["as_of"],
            },
            "objectives": self._objectives(stream, day, report)["objectives"],
            "risks": {
                "summary": risks["summary"],
                "top": sorted(live, key=lambda r: (-r["exposure"], r["key"]))[:TOP_RISKS],
            },
            "improvements": [i for i in items if i["status"] in OPEN],
            "dependencies": [
                _plan_summary(self._plan(r.key, r.document, by_team))
                for r in self.records("plan", stream)
            ],
            "experiments": [
                self._experiment_summary(stream, r.key) for r in self.records("experiment", stream)
            ],
        }

    def _experiment_summary(self, stream: str, key: str) -> dict[str, Any]:
        try:
            doc = self.experiment(stream, key)
        except InputError as exc:  # e.g. a window the data does not reach yet
            return {"key": key, "verdict": None, "note": str(exc)}
        result = doc["result"]
        return {
            "key": key,
            "hypothesis": doc["hypothesis"],
            "metric": doc["metric"],
            "verdict": result["verdict"],
            "effect": result["effect"],
            "ci95": result["ci95"],
            "p_value": result["p_value"],
            "guard_ok": result.get("guard_ok"),
        }


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _plan_summary(plan: dict[str, Any]) -> dict[str, Any]:
    """What the overview shows of a plan: its length, critical path, misses and risks."""
    return {
        "key": plan["key"],
        "duration_days": plan["duration_days"],
        "critical_path": plan["critical_path"],
        "need_by_misses": [m for m in plan["need_by"] if m["missed"]],
        "at_risk": [r for r in plan["at_risk"] if r["at_risk"]],
    }
