"""Forecasts of a stored stream: the ``forecasts`` part of :class:`~obeya.workspace.Workspace`.

The API (``/api/streams/{name}/forecast/…``) and the forecast page ask here, so they give one
document; the CLI (``obeya forecast … --stream``) takes only the throughput from here and runs
the core's forecast itself, as for a file, without the request caps below. The throughput comes
from the workspace's report cache, so a page that shows a forecast and a backtest analyses the
stream once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from obeya.core.forecast import (
    DEFAULT_BACKTEST_HISTORY_DAYS,
    DEFAULT_BACKTEST_SEED,
    DEFAULT_BACKTEST_TRIALS,
    DEFAULT_EVERY_DAYS,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_MAX_DAYS,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    Backtest,
    HowManyForecast,
    WhenForecast,
    backtest,
    backtest_when,
    forecast_how_many,
    forecast_when,
)

if TYPE_CHECKING:
    from obeya.core.workflow import Workflow
    from obeya.workspace import Workspace

#: Most trials one forecast of a request runs (10,000 take milliseconds; a million, seconds
#: and memory). The CLI has no such cap: it runs on the user's own machine.
MAX_TRIALS = 100_000
#: Most trials per origin of a request's backtest, which runs one forecast per origin.
MAX_BACKTEST_TRIALS = 10_000
#: Longest how-many horizon, in days: the longest a when forecast looks ahead, too.
MAX_DAYS = DEFAULT_MAX_DAYS


class Forecasts:
    """When, how many, and how far to trust them, for a stream of the workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def throughput(self, stream: str, *, workflow: Workflow | None = None) -> dict[str, int]:
        """Items finished per UTC day of the stream, the history every forecast samples.
        ``workflow`` analyses the stream with another workflow this once (not cached)."""
        if workflow is not None:
            return self._workspace.flow(stream, workflow=workflow).throughput_daily
        return self._workspace.reports.report(stream, detail=False).throughput_daily

    def when(
        self,
        stream: str,
        items: int,
        *,
        history_days: int | None = None,
        start: date | None = None,
        trials: int = DEFAULT_TRIALS,
        seed: int = DEFAULT_SEED,
        workflow: Workflow | None = None,
    ) -> WhenForecast:
        """Days until ``items`` more items are done, per confidence level."""
        return forecast_when(
            self.throughput(stream, workflow=workflow),
            items,
            history_days=history_days,
            start=start,
            trials=trials,
            seed=seed,
        )

    def how_many(
        self,
        stream: str,
        days: int | None,
        *,
        by: date | None = None,
        history_days: int | None = None,
        start: date | None = None,
        trials: int = DEFAULT_TRIALS,
        seed: int = DEFAULT_SEED,
        workflow: Workflow | None = None,
    ) -> HowManyForecast:
        """Items done in ``days`` days (or by the end of ``by``), at most :data:`MAX_DAYS`."""
        return forecast_how_many(
            self.throughput(stream, workflow=workflow),
            days,
            by=by,
            history_days=history_days,
            start=start,
            trials=trials,
            seed=seed,
            max_days=MAX_DAYS,
        )

    def backtest(
        self,
        stream: str,
        *,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        history_days: int = DEFAULT_BACKTEST_HISTORY_DAYS,
        every_days: int = DEFAULT_EVERY_DAYS,
        trials: int = DEFAULT_BACKTEST_TRIALS,
        seed: int = DEFAULT_BACKTEST_SEED,
        items: int | None = None,
        workflow: Workflow | None = None,
    ) -> Backtest:
        """How-many forecasts (with ``items``: when forecasts) at past origins of the stream,
        against what happened."""
        daily = self.throughput(stream, workflow=workflow)
        if items is not None:
            return backtest_when(
                daily,
                items=items,
                history_days=history_days,
                every_days=every_days,
                trials=trials,
                seed=seed,
            )
        return backtest(
            daily,
            horizon_days=horizon_days,
            history_days=history_days,
            every_days=every_days,
            trials=trials,
            seed=seed,
        )
