"""What a reader of a forecast should know before believing it, in words: a history of few
days or few finishes, and a how-many forecast of more items than the stream holds open. The
forecast itself is right by its method either way; these say where the method stands on
little."""

from __future__ import annotations

from typing import Any

#: Fewer days of history than this and the forecast swings with each day drawn.
SHORT_HISTORY_DAYS = 30
#: Fewer finishes in the window than this and the pace the trials draw is a handful of days:
#: a quiet tail at the end of the data (a project winding down) forecasts almost nothing.
FEW_FINISHES = 10


def forecast_caveats(doc: dict[str, Any], open_items: int | None = None) -> list[str]:
    """The caveats of a when or how-many forecast document (``to_dict()``). ``open_items``:
    the items in progress or not started at the end of the data, where known."""
    found = []
    history = doc.get("history")
    if history is not None and history["days"] < SHORT_HISTORY_DAYS:
        since = (
            " (from the stream's first finish)" if history["starts_at"] == "first_finish" else ""
        )
        found.append(
            f"The history holds only {history['days']} day{'s' if history['days'] != 1 else ''}"
            f"{since}: a forecast drawn from fewer than {SHORT_HISTORY_DAYS} days moves with "
            "each of them."
        )
    if history is not None and history.get("finished", FEW_FINISHES) < FEW_FINISHES:
        n = history["finished"]
        found.append(
            f"The {history['days']:,} days of history ({history['start']} to {history['end']}) "
            f"hold only {n} finished item{'s' if n != 1 else ''}: the trials draw that pace "
            "alone. If work was slower then than it will be, a longer history reads it better."
        )
    median = doc["percentiles"].get("50")
    if "days" in doc and open_items is not None and median is not None and median > open_items:
        found.append(
            f"Half the trials finish {median:,} items or more, but the stream holds "
            f"{open_items:,} open (in progress or not started) at the end of its data: the "
            "forecast counts on new work arriving as it did in the history."
        )
    return found


#: Fewer scored origins than this and each moves an achieved share by over ten points.
FEW_ORIGINS = 10


def backtest_caveats(doc: dict[str, Any]) -> list[str]:
    """The caveats of a backtest document (``to_dict()``): too few origins to judge."""
    n = doc["origins"]
    if not 0 < n < FEW_ORIGINS:
        return []
    return [
        f"Only {n} origin{'s' if n != 1 else ''} scored: each moves an achieved share by "
        f"{100 / n:.0f} points. A longer history, or origins closer together, gives more."
    ]
