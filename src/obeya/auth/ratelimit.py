"""Wrong passwords are limited: after :attr:`SignInLimiter.max_failures` failures within the
window, for one user name or from one address, sign-in is refused (429) until the oldest of
them leaves the window. A right password clears the name's count. Kept in memory: each server
process counts on its own, which bounds guessing to ``processes × max_failures`` a window."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable

from obeya.errors import TooManyAttempts


class SignInLimiter:
    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def check(self, keys: Iterable[str]) -> None:
        """TooManyAttempts (with the seconds to wait) if any key is over the limit."""
        now = self._clock()
        with self._lock:
            waits = [
                self.window - (now - times[0])
                for key in keys
                if len(times := self._recent(key, now)) >= self.max_failures
            ]
        if waits:
            wait = max(1, math.ceil(max(waits)))
            raise TooManyAttempts(
                f"too many wrong passwords; try again in {wait} seconds", retry_after=wait
            )

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
