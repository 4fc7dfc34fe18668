"""Runs the flow expressions on a backend and assembles a :class:`FlowReport`.

One pass over the events orders each item's visits and feeds the item summary, which is kept
(a temporary table, or Spark's cache); every figure after that reads the small item table or
a per-day aggregate. The per-event table is kept too only past ``STATE_COLUMNS`` states, when
time in state and cumulative flow read it rather than the item summary's columns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pyarrow as pa

from obeya.core.events import MICROS_PER_DAY
from obeya.core.metrics import expressions as x
from obeya.core.metrics import fetch, percentiles, series
from obeya.core.metrics.filters import FlowFilter
from obeya.core.metrics.report import (
    DEFECT_TYPES,
    CumulativeFlow,
    Distribution,
    FlowReport,
    ItemCounts,
    Quality,
)
from obeya.core.workflow import Category, Workflow
from obeya.errors import InputError

Table = x.Table

#: Item types are coded as integers when the events hold at most this many (a tracker has a
#: handful); more, and they stay text (a CASE per event over thousands would cost more).
CODED_TYPES = 256

#: The percentile query's keys for cycle and lead time; time in state is keyed by state code
#: (0 and up: a state the codes miss would be -1).
CYCLE_KEY, LEAD_KEY = -10, -11


def spark_plan(backend: Any) -> bool:
    """Whether to plan for Spark: it runs each scan of a union as tasks of its own
    (:func:`~obeya.core.metrics.expressions.unpivot`), and its percentile aggregate sorts
    every value (:meth:`FlowAnalysis._percentiles`). Either plan gives the same figures."""
    return bool(backend.name == "pyspark")


class FlowAnalysis:
    """One analysis of one set of events on one Ibis backend."""

    def __init__(
        self,
        backend: Any,
        events: Table,
        workflow: Workflow | None = None,
        flt: FlowFilter | None = None,
        source: str = "<events>",
        item_labels: pa.Array | None = None,
        state_labels: pa.Array | None = None,
    ) -> None:
        """``item_labels`` / ``state_labels``: when ``events.item_id`` / ``events.state`` hold
        integer codes (faster to sort, group and compare than text), what the codes stand for.
        """
        self.backend = backend
        self.item_labels = item_labels
        self.state_names: list[str] | None = None
        #: The type names when the events hold type codes (:meth:`_code`).
        self.type_names: list[str] | None = None
        self.state_codes: dict[str, int] | None = None
        if state_labels is not None:
            self.state_names = [str(s) for s in state_labels.to_pylist()]
            self.state_codes = {name: code for code, name in enumerate(self.state_names)}
        self.workflow = workflow
        self.flt = flt or FlowFilter()
        self.source = source
        self.events = x.filtered_events(events, self.flt)
        self._cached: list[Table] = []
        #: The state codes whose time in state the item summary sums, and the number of flow
        #: ranks whose first reach it dates (:meth:`_passes`); none past STATE_COLUMNS states.
        self._state_columns: list[int] = []
        self._ranks = 0
        self._spark = spark_plan(backend)

    # -- plumbing -----------------------------------------------------------------------------

    def _materialise(self, expr: Table) -> Table:
        """``expr`` computed once and kept: a temporary table in DuckDB and PostgreSQL, a
        cached DataFrame in Spark (which has no temporary tables), released by :meth:`close`."""
        cached = expr.cache()
        self._cached.append(cached)
        return cached

    def close(self) -> None:
        for cached in self._cached:
            with contextlib.suppress(Exception):
                cached.release()
        self._cached.clear()

    def _arrow(self, expr: Any) -> pa.Table:
        return fetch.arrow(self.backend, expr)

    def _rows(self, expr: Any) -> list[dict[str, Any]]:
        return list(self._arrow(expr).to_pylist())

    def _percentiles(
        self, values: Table, fractions: Sequence[float]
    ) -> dict[Any, tuple[list[float], int]]:
        """Per ``key`` of ``values`` (columns ``key``, ``value``), its exact percentiles at
        ``fractions`` and its number of values. Spark finds them from counts per bucket of
        values (:mod:`~obeya.core.metrics.percentiles`): its percentile aggregate is several
        times slower; the SQL engines' aggregates are fast."""
        if self._spark:
            return percentiles.from_buckets(
                self._rows(x.value_buckets(values)),
                fractions,
                lambda asked: self._rows(x.bucket_values(values, asked)),
            )
        rows = self._rows(x.percentile_values(values, fractions))
        return {r["key"]: (list(r["percentiles"]), int(r["n"])) for r in rows}

    def _state(self, value: Any) -> str:
        """A state as the events hold it (a name, or a code) → its name."""
        return self.state_names[int(value)] if self.state_names is not None else str(value)

    def _item_table(self, expr: Any) -> pa.Table:
        """A result that names items, with item and type codes turned back into names."""
        table = self._arrow(expr)
        for column, labels in (
            ("item_id", self.item_labels),
            ("type", None if self.type_names is None else pa.array(self.type_names)),
        ):
            position = table.schema.get_field_index(column)
            if labels is not None and position >= 0:
                names = labels.take(table.column(column).cast(pa.int64()))
                table = table.set_column(position, column, names)
        return table

    def _item_rows(self, expr: Any) -> list[dict[str, Any]]:
        return list(self._item_table(expr).to_pylist())

    # -- the analysis -------------------------------------------------------------------------

    def observed_states(self) -> list[str]:
        """States of the data: with a workflow in order of first appearance, else in flow
        order (by their mean position within items), which cumulative flow then uses."""
        return self._observed()[0]

    def _observed(self) -> tuple[list[str], list[str]]:
        """The observed states (:meth:`observed_states`) and the item types of the events,
        from one pass grouped by state and type."""
        e = self.events
        if self.workflow is not None:
            keyed = e.group_by([e.state, e.type]).aggregate(first=e.seq.min())
        else:
            w = ibis.window(group_by=e.item_id, order_by=[e.t, e.seq])
            positioned = e.mutate(pos=ibis.row_number().over(w))
            keyed = positioned.group_by([positioned.state, positioned.type]).aggregate(
                pos=positioned.pos.sum(), n=positioned.count(), first=positioned.seq.min()
            )
        first: dict[str, int] = {}
        positions: dict[str, list[int]] = {}
        types: set[str] = set()
        for r in self._rows(keyed):
            state = self._state(r["state"])
            first[state] = min(first.get(state, r["first"]), r["first"])
            if self.workflow is None:
                pos, n = positions.setdefault(state, [0, 0])
                positions[state] = [pos + int(r["pos"]), n + int(r["n"])]
            if r["type"] is not None:
                types.add(str(r["type"]))
        if self.workflow is not None:
            return sorted(first, key=lambda s: first[s]), sorted(types)
        mean = {s: pos / n for s, (pos, n) in positions.items()}
        return sorted(first, key=lambda s: (mean[s], first[s])), sorted(types)

    def _code(self, observed: list[str], types: list[str]) -> None:
        """States, and types where they are few, as integer codes from here on: text is slower
        to sort, group and compare, and Spark cannot hash-aggregate it (it sorts instead).
        Types are coded in their sorted order, so the greatest code is the greatest type."""
        e = self.events
        if self.state_codes is None:
            self.state_names = list(observed)
            self.state_codes = {name: code for code, name in enumerate(observed)}
            e = e.mutate(state=e.state.substitute(self.state_codes, else_=-1).cast("int64"))
        if e.type.type().is_string() and 0 < len(types) <= CODED_TYPES:
            self.type_names = types
            codes = {name: code for code, name in enumerate(types)}
            e = e.mutate(type=e.type.substitute(codes, else_=ibis.null("int64")).cast("int64"))
        self.events = e

    def _type(self, value: Any) -> str | None:
        """A type as the items hold it (a name, a code or null) → its name."""
        if value is None:
            return None
        return str(value) if self.type_names is None else self.type_names[int(value)]

    def _of_types(self, column: Any, names: Sequence[str]) -> Any:
        """Whether ``column`` (a type) is one of ``names``, compared without case."""
        wanted = {n.lower() for n in names}
        if self.type_names is None:
            return column.lower().isin(sorted(wanted))
        codes = [k for k, name in enumerate(self.type_names) if name.lower() in wanted]
        return column.isin(codes) if codes else ibis.literal(False)

    def report(self, *, detail: bool = False, spans: bool = False) -> FlowReport:
        """The flow report; ``spans``: with each item's start and finish (:meth:`item_spans`)
        from the same pass, in ``FlowReport.spans``."""
        try:
            return self._report(detail, spans)
        finally:
            self.close()

    def item_spans(self) -> pa.Table:
        """Each item's ``item_id``, ``start_t`` and ``finish_t`` (integer microseconds UTC;
        null when not started / not finished) and ``last_t``, by the report's conventions:
        what figures laid over items (blocked time) clip to."""
        try:
            *_, items = self._passes()
            return self._spans(items)
        finally:
            self.close()

    def _spans(self, items: Table) -> pa.Table:
        return self._item_table(items.select("item_id", "start_t", "finish_t", "last_t"))

    def _passes(self) -> tuple[list[str], list[str], Table, Table]:
        """The flow order, the unmapped states, the per-event table (kept only past
        ``STATE_COLUMNS`` states) and the item summary (kept)."""
        flt = self.flt
        observed, types = self._observed()
        if not observed:
            what = f" of type {', '.join(flt.types)}" if flt.types else ""
            raise InputError(f"{self.source}: no events{what} to analyse")
        self._code(observed, types)
        unmapped: list[str] = []
        if self.workflow is not None:
            unmapped = self.workflow.check_against(observed)
            order = self.workflow.state_order(observed)
        else:
            order = observed
        annotated = x.annotated_events(self.events, self.workflow, order, self.state_codes)
        codes = sorted((self.state_codes or {}).values())
        if max(len(codes), len(order)) <= x.STATE_COLUMNS:
            # The items carry what time in state and cumulative flow need: the per-event
            # table is never kept (keeping it cost Spark 94 s → 72 s of a 31M-event report).
            self._state_columns, self._ranks = codes, len(order)
        else:
            annotated = self._materialise(annotated)
        items = self._materialise(
            x.item_summary(annotated, self.workflow, flt, self._state_columns, self._ranks)
        )
        return order, unmapped, annotated, items

    def _report(self, detail: bool, spans: bool) -> FlowReport:
        flt = self.flt
        order, unmapped, annotated, items = self._passes()
        finished = x.finished_in_window(items, flt)
        touched = x.touched_in_window(items, flt)

        bounds = self._rows(
            items.aggregate(first_t=items.first_t.min(), last_t=items.last_t.max())
        )[0]
        last_t = int(bounds["last_t"])
        as_of = flt.until_us - 1 if flt.until_us is not None else last_t
        first_day = int(bounds["first_t"]) // MICROS_PER_DAY
        last_day = last_t // MICROS_PER_DAY
        if flt.since is not None:
            first_day = series.date_to_day(flt.since)
        if flt.until is not None:
            last_day = series.date_to_day(flt.until)

        counts = self._rows(
            touched.aggregate(
                total=touched.item_id.count(),
                started=touched.start_t.count(),
                not_started=touched.item_id.count(where=touched.start_t.isnull()),
            )
        )[0]
        ct = self._rows(
            finished.aggregate(
                **x.distribution(finished.cycle_time_days, "ct_"),
                **x.distribution(finished.lead_time_days, "lt_"),
                active=finished.active_us.cast("float64").sum(),
                flow=(finished.finish_t - finished.start_t).cast("float64").sum(),
                reopened=finished.item_id.count(where=finished.reopens > 0),
                typed=finished.type.count(),
                defects=finished.item_id.count(where=self._of_types(finished.type, DEFECT_TYPES)),
            )
        )[0]
        aging_expr = x.aging(annotated, items, as_of, at_end=as_of >= last_t)
        # Oldest first; sorted here, not in SQL, so ties and collations cannot differ by backend.
        aging = sorted(self._item_rows(aging_expr), key=lambda r: (-r["age_days"], r["item_id"]))
        item_counts = ItemCounts(
            total=int(counts["total"] or 0),
            started=int(counts["started"] or 0),
            finished=int(ct["ct_count"] or 0),
            in_progress=len(aging),
            not_started=int(counts["not_started"] or 0),
        )
        flow_efficiency = None
        if self.workflow is not None and ct["flow"]:
            flow_efficiency = float(ct["active"] or 0) / float(ct["flow"])

        starts = self._rows(x.daily_counts(items, "start_day"))
        finishes = self._rows(x.daily_counts(items, "finish_day"))
        daily: dict[str, Any] = self._daily_series(starts, finishes, first_day, last_day)

        cfd = self._cumulative_flow(annotated, order, first_day, last_day, items)
        # Cycle and lead time, and time in each state, in one percentile query (on Spark two
        # small jobs, not four): keyed by state code, and below zero for the item times.
        times = {CYCLE_KEY: finished.cycle_time_days, LEAD_KEY: finished.lead_time_days}
        spread = self._percentiles(
            ibis.union(
                x.unpivot(finished, times, one_scan=self._spark),
                self._time_in_state_values(annotated, touched),
            ),
            [p / 100 for p in x.PERCENTILES],
        )
        tis = self._time_in_state(spread, order)
        by_type = self._rows(finished.group_by(finished.type).aggregate(n=finished.count()))
        scatter = self._scatter(finished) if detail else []
        return FlowReport(
            source=self.source,
            has_workflow=self.workflow is not None,
            filter=flt,
            as_of=series.day_to_date(as_of // MICROS_PER_DAY).isoformat(),
            items=item_counts,
            cycle_time_days=_distribution(ct, "ct_", spread.get(CYCLE_KEY)),
            lead_time_days=_distribution(ct, "lt_", spread.get(LEAD_KEY)),
            flow_efficiency=flow_efficiency,
            cumulative_flow=cfd,
            time_in_state_hours=tis,
            aging_wip=[_aging_row(r, self._state(r["state"])) for r in aging],
            distribution_finished=_shares({self._type(r["type"]): r["n"] for r in by_type}),
            distribution_wip=_shares(_tally(r["type"] for r in aging)),
            unmapped_states=unmapped,
            scatter=scatter,
            quality=Quality(
                finished=item_counts.finished,
                reopened=int(ct["reopened"] or 0) if self.workflow is not None else None,
                typed=int(ct["typed"] or 0),
                defects=int(ct["defects"] or 0),
            ),
            finish=self.workflow.finish if self.workflow is not None else None,
            spans=self._spans(items) if spans else None,
            **daily,
        )

    def _daily_series(
        self,
        starts: list[dict[str, Any]],
        finishes: list[dict[str, Any]],
        first_day: int,
        last_day: int,
    ) -> dict[str, dict[str, int]]:
        """Throughput, WIP, arrivals and net flow laid on the calendar."""
        start_days = [int(r["day"]) for r in starts]
        finish_days = [int(r["day"]) for r in finishes]
        lo = min([*start_days, *finish_days, first_day])
        # Cumulative counts need the whole history, then the window is cut out of them.
        started = np.cumsum(series.dense(start_days, [r["n"] for r in starts], lo, last_day))
        done = np.cumsum(series.dense(finish_days, [r["n"] for r in finishes], lo, last_day))
        wip = started - done
        in_window_finishes = [d for d in finish_days if first_day <= d <= last_day]
        throughput_daily: dict[str, int] = {}
        throughput_weekly: dict[str, int] = {}
        if in_window_finishes:
            t_first, t_last = min(in_window_finishes), max(in_window_finishes)
            tp = series.dense(finish_days, [r["n"] for r in finishes], t_first, t_last)
            throughput_daily = _ints(np.arange(t_first, t_last + 1), tp)
            weeks, sums = series.weekly(tp, t_first)
            throughput_weekly = _ints(weeks, sums)
        in_window_starts = [d for d in start_days if d <= last_day]
        wip_first = max(first_day, min(in_window_starts)) if in_window_starts else first_day
        wip_days = np.arange(wip_first, last_day + 1)
        wip_daily = _ints(wip_days, wip[wip_first - lo :])
        arrivals = series.dense(start_days, [r["n"] for r in starts], first_day, last_day)
        departures = series.dense(finish_days, [r["n"] for r in finishes], first_day, last_day)
        weeks, arrived = series.weekly(arrivals, first_day)
        _, departed = series.weekly(departures, first_day)
        return {
            "throughput_daily": throughput_daily,
            "throughput_weekly": throughput_weekly,
            "wip_daily": wip_daily,
            "arrivals_weekly": _ints(weeks, arrived),
            "net_flow_weekly": _ints(weeks, departed - arrived),
        }

    def _cumulative_flow(
        self,
        annotated: Table,
        order: Sequence[str],
        first_day: int,
        last_day: int,
        items: Table,
    ) -> CumulativeFlow:
        categories = self.workflow.categories() if self.workflow is not None else {}
        done = [k for k, s in enumerate(order) if categories.get(s) == Category.DONE]
        levels = len(order)
        if self._ranks:
            rows = self._arrow(x.reaches(items, self._ranks, done, one_scan=self._spark))
            from_finish = rows.column("from_finish").to_numpy(zero_copy_only=False)
            rows, finished = rows.filter(~from_finish), rows.filter(from_finish)
        else:
            rows = self._arrow(x.flow_increments(annotated))
        day = rows.column("day").to_numpy().astype(np.int64)
        lo = int(min(first_day, day.min())) if day.size else first_day
        span = max(last_day - lo + 1, 0)
        at_or_beyond = _reached if self._ranks else _furthest
        cumulative = at_or_beyond(rows, levels, lo, span)[:, first_day - lo :]
        if done:
            # A done band counts an item only from its finish on, and only if it finished: one
            # that reached done but is not done at its last event (reopened, or backwards
            # events) is in progress, as WIP counts it (docs/conventions.md, "Periods").
            if not self._ranks:
                finished = self._arrow(_finished_increments(annotated, items))
            at_finish = at_or_beyond(finished, levels, lo, span)[:, first_day - lo :]
            cumulative[done] = at_finish[done]
        days = [series.day_to_date(d).isoformat() for d in range(first_day, last_day + 1)]
        counts = {state: [int(v) for v in cumulative[k]] for k, state in enumerate(order)}
        return CumulativeFlow(states=list(order), days=days, counts=counts)

    def _time_in_state_values(self, annotated: Table, touched: Table) -> Table:
        """Each touched item's hours in each state, keyed by state code."""
        if self._state_columns:
            return x.time_in_state_of_items(touched, self._state_columns, one_scan=self._spark)
        return x.time_in_state(annotated, touched if self.flt.windowed else None)

    def _time_in_state(
        self, spread: dict[Any, tuple[list[float], int]], order: Sequence[str]
    ) -> dict[str, dict[str, float | int | None]]:
        """Median and 85th percentile hours per state, from the states' keys of ``spread``
        (percentiles at ``x.PERCENTILES``), in flow order then by name."""
        median, p85 = (x.PERCENTILES.index(p) for p in (50, 85))
        rows = {self._state(key): found for key, found in spread.items() if key >= 0}
        out: dict[str, dict[str, float | int | None]] = {}
        for state in [*order, *sorted(set(rows) - set(order))]:
            if state in rows:
                values, items = rows[state]
                out[state] = {"median": values[median], "p85": values[p85], "items": items}
        return out

    def _scatter(self, finished: Table) -> list[dict[str, Any]]:
        cycle = finished.finish_t - finished.start_t
        efficiency = ibis.ifelse(
            cycle > 0,
            finished.active_us.cast("float64") / cycle.cast("float64"),
            ibis.null("float64"),
        )
        rows = self._item_rows(
            finished.select(
                "item_id",
                "type",
                "finish_day",
                "cycle_time_days",
                "lead_time_days",
                flow_efficiency=efficiency if self.workflow is not None else ibis.null("float64"),
                reopened=(finished.reopens > 0)
                if self.workflow is not None
                else ibis.null("boolean"),
            )
        )
        rows.sort(key=lambda r: (r["finish_day"], r["item_id"]))  # backend-independent order
        for r in rows:
            r["finished"] = series.day_to_date(int(r.pop("finish_day"))).isoformat()
        return rows


def _furthest(rows: Any, levels: int, lo: int, span: int) -> Any:
    """Per flow rank and day from ``lo`` (``span`` days), the items at that rank or beyond,
    from :func:`~obeya.core.metrics.expressions.flow_increments` rows."""
    day = rows.column("day").to_numpy().astype(np.int64)
    before = rows.column("before").to_numpy().astype(np.int64)
    reached = rows.column("reached").to_numpy().astype(np.int64)
    n = rows.column("n").to_numpy().astype(np.int64)
    keep = day - lo < span
    # Rows raising an item's furthest rank from `before` to `reached`: the item reaches
    # every rank k with before < k <= reached, so the items newly at or beyond rank k on
    # a day are #(reached >= k) - #(before >= k).
    by_reached = np.zeros((levels, span), dtype=np.int64)
    by_before = np.zeros((levels, span), dtype=np.int64)
    np.add.at(by_reached, (reached[keep], day[keep] - lo), n[keep])
    rose = keep & (before >= 0)
    np.add.at(by_before, (before[rose], day[rose] - lo), n[rose])
    at_least = np.cumsum(by_reached[::-1], axis=0)[::-1]
    left_below = np.cumsum(by_before[::-1], axis=0)[::-1]
    return np.cumsum(at_least - left_below, axis=1)


def _reached(rows: Any, levels: int, lo: int, span: int) -> Any:
    """As :func:`_furthest`, from :func:`~obeya.core.metrics.expressions.reaches` rows: the
    items that first reached each rank or beyond, by day, summed."""
    day = rows.column("day").to_numpy().astype(np.int64)
    rank = rows.column("rank").to_numpy().astype(np.int64)
    n = rows.column("n").to_numpy().astype(np.int64)
    keep = day - lo < span
    first = np.zeros((levels, span), dtype=np.int64)
    np.add.at(first, (rank[keep], day[keep] - lo), n[keep])
    return np.cumsum(first, axis=1)


def _finished_increments(annotated: Table, items: Table) -> Table:
    """:func:`~obeya.core.metrics.expressions.flow_increments` of the finished items, each
    rise dated no earlier than its item's finish day."""
    e = annotated
    rises = e.filter(e.reached > e.reached_before.coalesce(-1))
    finished = items.filter(items.finish_t.notnull()).select(
        done_id=items.item_id, done_day=items.finish_day
    )
    joined = rises.join(finished, rises.item_id == finished.done_id)
    dated = joined.mutate(
        day=ibis.greatest(x.day_of(joined.t), joined.done_day),
        before=joined.reached_before.coalesce(-1),
    )
    return dated.group_by([dated.day, dated.before, dated.reached]).aggregate(
        n=dated.item_id.count()
    )


def _distribution(
    row: dict[str, Any], prefix: str, spread: tuple[list[float], int] | None
) -> Distribution:
    def num(value: Any) -> float | None:
        return None if value is None or value != value else float(value)

    found: Sequence[float | None] = spread[0] if spread else [None] * len(x.PERCENTILES)
    p50, p70, p85, p95 = (num(v) for v in found)
    return Distribution(
        p50=p50,
        p70=p70,
        p85=p85,
        p95=p95,
        mean=num(row.get(prefix + "mean")),
        count=int(row.get(prefix + "count") or 0),
    )


def _ints(days: Any, values: Any) -> dict[str, int]:
    return {k: int(v) for k, v in series.keyed(np.asarray(days), list(values)).items()}


def _aging_row(r: dict[str, Any], state: str) -> dict[str, Any]:
    return {
        "item_id": r["item_id"],
        "type": r["type"],
        "state": state,
        "started": series.day_to_date(int(r["start_t"]) // MICROS_PER_DAY).isoformat(),
        "age_days": float(r["age_days"]),
    }


def _tally(values: Any) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _shares(counts: dict[Any, Any]) -> dict[str, float]:
    total = sum(int(n) for n in counts.values())
    if not total:
        return {}
    return {
        ("(none)" if k is None else str(k)): int(n) / total
        for k, n in sorted(counts.items(), key=lambda kv: -int(kv[1]))
    }
