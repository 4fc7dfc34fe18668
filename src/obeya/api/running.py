"""Work that runs long, off the event loop, and stops when its client leaves.

Shared by the API's routes and the pages (simulations, twin checks and what-ifs).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from fastapi import Request

#: How often a running simulation's route looks whether its client has gone (seconds).
POLL_SECONDS = 0.25

T = TypeVar("T")


async def run_cancellable(request: Request, work: Callable[[threading.Event], T]) -> T:
    """``work(cancel)`` in a worker thread, never on the event loop. Every
    :data:`POLL_SECONDS` the route looks whether the client is still there; once it has
    gone (or the route itself is cancelled, e.g. at shutdown), ``cancel`` is set and the
    engine stops at its next check (:data:`~obeya.core.simulation.engine.CHECK_EVERY` events,
    a fraction of a second)."""
    cancel = threading.Event()
    job = asyncio.ensure_future(anyio.to_thread.run_sync(work, cancel))
    try:
        while True:
            done, _ = await asyncio.wait({job}, timeout=POLL_SECONDS)
            if done:
                return job.result()
            if await request.is_disconnected():
                cancel.set()
                return await job  # SimulationCancelled, within a check of the engine
    finally:
        cancel.set()
