"""Syncing every connector on a schedule while ``obeya serve`` runs (``--sync-every 15m``).

One daemon thread in the serving process wakes every interval and syncs each connector in
turn, each all or nothing; a failure is kept as that connector's last result (the connectors
page shows it) and logged, and the others go on. The interval is at least a minute: a tracker
counts requests against a quota, and a sync pulls only what changed since the last one.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from obeya.errors import InputError, ObeyaError

log = logging.getLogger("obeya.connectors")

#: The shortest interval between scheduled syncs, in seconds.
MIN_SECONDS = 60
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_interval(text: str, option: str = "--sync-every") -> int:
    """Seconds from ``90s``, ``15m``, ``1h`` or ``1d``; at least :data:`MIN_SECONDS`."""
    found = _INTERVAL.match(text.lower())
    if not found:
        raise InputError(f"{option}: {text!r} is not an interval; write e.g. 15m, 1h or 1d")
    seconds = int(found.group(1)) * _UNITS[found.group(2)]
    if seconds < MIN_SECONDS:
        raise InputError(f"{option}: {text!r} is under a minute; trackers ration their API")
    return seconds


def start_schedule(
    url: str | None, every: int, *, stop: threading.Event | None = None
) -> tuple[threading.Thread, threading.Event]:
    """Start the thread; set the returned event to stop it."""
    halt = stop or threading.Event()
    thread = threading.Thread(
        target=run_schedule, args=(url, every, halt), name="obeya-sync", daemon=True
    )
    thread.start()
    return thread, halt


def run_schedule(
    url: str | None,
    every: int,
    stop: threading.Event,
    on_round: Callable[[dict[str, str | None]], None] | None = None,
) -> None:
    """Sync every connector, then wait ``every`` seconds, until ``stop`` is set. ``on_round``
    is told each round's outcome (connector → None, or the error's message)."""
    from obeya.workspace import Workspace

    while not stop.is_set():
        outcome: dict[str, str | None] = {}
        try:
            with Workspace(url) as ws:
                for info in ws.connectors.list():
                    if stop.is_set():
                        break
                    try:
                        ws.connectors.sync(info.name)
                        outcome[info.name] = None
                    except ObeyaError as error:  # kept as its last result by the sync
                        outcome[info.name] = str(error)
                        log.warning("scheduled sync failed: %s", error)
        except ObeyaError as error:  # the store itself: try again next round
            log.error("scheduled sync could not read the connectors: %s", error)
        if on_round is not None:
            on_round(outcome)
        stop.wait(every)
